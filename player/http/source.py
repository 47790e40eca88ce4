"""What the HTTP driver plays: a presentation :class:`Title` whose tracks know where
their bytes are (``Track.refs``: ``media(index, rung)`` and ``init(index, rung)`` give
a :class:`~player.presentation.SegmentRef`, a URL and optional inclusive byte range).

Two ways in:

- a DASH MPD or HLS playlist, read by ``player.manifest`` (sub-resources such as HLS
  media playlists and DASH ``sidx`` boxes fetched through the driver, so they get the
  same retries and failover as segments);
- the stub's native ``title.json``: ladder, exact sizes and URL templates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import urljoin

import numpy as np

from player.presentation import ContentError, Rung, SegmentRef, Title, Track

# fetch(url, byte_range) -> bytes, byte_range inclusive (first, last) or None.
Fetch = Callable[[str, "tuple[int, int] | None"], Awaitable[bytes]]


def range_header(ref: SegmentRef | None) -> str | None:
    return None if ref is None else ref.range_header()


@dataclass
class HttpTitle:
    title: Title
    url: str
    format: str  # "dash", "hls" or "abrlab-stub"
    live: bool = False
    manifest: Any = None  # the parsed player.manifest Manifest, when there is one
    meta: dict[str, Any] = field(default_factory=dict)
    follower: Any = None  # player.http.live.LiveFollower for a live manifest

    def init_refs(self) -> list[SegmentRef]:
        """Every distinct init segment of the first segment, all rungs, all tracks."""
        out: dict[tuple[str, tuple[int, int] | None], SegmentRef] = {}
        for t in self.title.tracks:
            for rung in range(t.n_rungs):
                ref = t.init_ref(0, rung)
                if ref is not None:
                    out[(ref.url, ref.byte_range)] = ref
        return list(out.values())


@dataclass(frozen=True)
class _StubRefs:
    """The stub's layout: ``{rid}/init.mp4`` and ``{rid}/{number}.m4s`` under a base."""

    base: str
    ids: tuple[str, ...]
    init_tmpl: str
    media_tmpl: str
    start_number: int

    def media(self, index: int, rung: int) -> SegmentRef:
        rel = self.media_tmpl.replace("{rid}", self.ids[rung]).replace("{number}", str(self.start_number + index))
        return SegmentRef(urljoin(self.base, rel))

    def init(self, index: int, rung: int) -> SegmentRef:
        return SegmentRef(urljoin(self.base, self.init_tmpl.replace("{rid}", self.ids[rung])))


def title_from_stub_json(data: Any, url: str) -> HttpTitle:
    """An :class:`HttpTitle` from the stub's ``/titles/{name}/title.json``."""
    try:
        durs = np.asarray(data["segment_durations_s"], dtype=np.float64)
        urls = data["urls"]
        tracks: dict[str, Track] = {}
        for media in ("video", "audio"):
            if media not in data:
                continue
            rungs = tuple(
                Rung(bitrate_bps=int(r["bitrate_bps"]), width=r.get("width"), height=r.get("height"),
                     codecs=r.get("codecs"), id=str(r["id"]), frame_rate=r.get("frame_rate"))
                for r in data[media]
            )
            refs = _StubRefs(url, tuple(r.id for r in rungs), urls["init"], urls["media"], int(urls["start_number"]))  # type: ignore[misc]
            tracks[media] = Track(media, rungs, durs, np.asarray(data[f"{media}_sizes_bytes"], dtype=np.int64), refs=refs)
        title = Title(str(data["name"]), tracks["video"], tracks.get("audio"), source=url, source_format="abrlab-stub")
    except ContentError as e:
        raise ContentError(e.problem, url) from None
    except (KeyError, TypeError, ValueError) as e:
        raise ContentError(f"not an abrlab stub title description ({type(e).__name__}: {e})", url) from None
    return HttpTitle(title, url, "abrlab-stub", meta={"complexity": data.get("complexity"), "ladder": data.get("ladder")})


async def title_from_manifest(url: str, fetch: Fetch, speed: float = 1.0) -> HttpTitle:
    """Fetch, parse and resolve a DASH MPD or HLS playlist, and build its Title (for a
    live one, from near the live edge, with a follower to refresh it)."""
    from player.manifest import parse_manifest
    from player.manifest.resolve import resolve_manifest_async
    from player.manifest import to_title as manifest_to_title

    data = await fetch(url, None)
    m = parse_manifest(data, url, url=url)
    await resolve_manifest_async(m, fetch)
    if m.is_live:
        from player.http.live import LiveFollower

        follower = LiveFollower(url, fetch, speed)
        await follower.synchronise(m)
        window = manifest_to_title(m, now_s=follower.event_now(m), text=False)
        return HttpTitle(follower.start(m, window), url, m.format, live=True, manifest=m, follower=follower)
    return HttpTitle(manifest_to_title(m), url, m.format, manifest=m)


async def load_http_title(url: str, fetch: Fetch, speed: float = 1.0) -> HttpTitle:
    """Load what ``url`` points at: the stub's ``title.json``, or a DASH MPD / HLS playlist."""
    if url.split("?", 1)[0].endswith(".json"):
        raw = await fetch(url, None)
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ContentError(f"not valid JSON ({e})", url) from None
        return title_from_stub_json(data, url)
    return await title_from_manifest(url, fetch, speed)
