"""What the HTTP driver plays: a presentation :class:`Title` plus where its bytes are.

The session core sees only the ``Title``; the driver also needs, per track, a URL (and
byte range) for every segment and init segment. Any object with ``media(index, rung)``
and ``init(index, rung)`` returning something with ``url`` and ``byte_range`` (an
inclusive ``(first, last)`` pair or None) will do; manifests provide it per track, and
so does the stub's native ``title.json`` (ladder, exact sizes, URL templates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol
from urllib.parse import urljoin

import numpy as np

from player.presentation import ContentError, Rung, Title, Track


@dataclass(frozen=True)
class Ref:
    """A segment's URL and optional inclusive byte range (as in ``Range: bytes=a-b``)."""

    url: str
    byte_range: tuple[int, int] | None = None


def range_header(ref: Any) -> str | None:
    br = getattr(ref, "byte_range", None)
    return None if br is None else f"bytes={br[0]}-{br[1]}"


def ref_size(ref: Any) -> int | None:
    br = getattr(ref, "byte_range", None)
    return None if br is None else br[1] - br[0] + 1


class Locations(Protocol):
    def media(self, index: int, rung: int) -> Any: ...

    def init(self, index: int, rung: int) -> Any | None: ...


@dataclass
class HttpTitle:
    title: Title
    locations: dict[str, Locations]  # by media type ("video", "audio")
    url: str
    format: str
    live: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def init_refs(self) -> list[Any]:
        """Every distinct init segment of the first segment, all rungs, all tracks."""
        out: dict[tuple[str, tuple[int, int] | None], Any] = {}
        for t in self.title.tracks:
            loc = self.locations.get(t.media)
            if loc is None:
                continue
            for rung in range(t.n_rungs):
                ref = loc.init(0, rung)
                if ref is not None:
                    out[(ref.url, getattr(ref, "byte_range", None))] = ref
        return list(out.values())


@dataclass(frozen=True)
class _TemplateLocations:
    """The stub's layout: ``{rid}/init.mp4`` and ``{rid}/{number}.m4s`` under a base."""

    base: str
    ids: tuple[str, ...]
    init_tmpl: str
    media_tmpl: str
    start_number: int

    def media(self, index: int, rung: int) -> Ref:
        rel = self.media_tmpl.replace("{rid}", self.ids[rung]).replace("{number}", str(self.start_number + index))
        return Ref(urljoin(self.base, rel))

    def init(self, index: int, rung: int) -> Ref:
        return Ref(urljoin(self.base, self.init_tmpl.replace("{rid}", self.ids[rung])))


def title_from_stub_json(data: Any, url: str) -> HttpTitle:
    """An :class:`HttpTitle` from the stub's ``/titles/{name}/title.json``."""
    try:
        durs = np.asarray(data["segment_durations_s"], dtype=np.float64)
        urls = data["urls"]
        tracks: dict[str, Track] = {}
        locs: dict[str, Locations] = {}
        for media in ("video", "audio"):
            if media not in data:
                continue
            rends = data[media]
            rungs = tuple(
                Rung(bitrate_bps=int(r["bitrate_bps"]), width=r.get("width"), height=r.get("height"),
                     codecs=r.get("codecs"), id=str(r["id"]), frame_rate=r.get("frame_rate"))
                for r in rends
            )
            tracks[media] = Track(media, rungs, durs, np.asarray(data[f"{media}_sizes_bytes"], dtype=np.int64))
            locs[media] = _TemplateLocations(url, tuple(r.id for r in rungs), urls["init"], urls["media"], int(urls["start_number"]))
        title = Title(str(data["name"]), tracks["video"], tracks.get("audio"), source=url, source_format="abrlab-stub")
    except ContentError as e:
        raise ContentError(e.problem, url) from None
    except (KeyError, TypeError, ValueError) as e:
        raise ContentError(f"not an abrlab stub title description ({type(e).__name__}: {e})", url) from None
    return HttpTitle(title, locs, url, "abrlab-stub", meta={"complexity": data.get("complexity"), "ladder": data.get("ladder")})


FetchText = Callable[[str], Awaitable[str]]


async def load_http_title(url: str, fetch_text: FetchText) -> HttpTitle:
    """Load what ``url`` points at: the stub's ``title.json``, or a DASH MPD / HLS
    playlist through the manifest package (``player.manifest``)."""
    path = url.split("?", 1)[0]
    if path.endswith(".json"):
        text = await fetch_text(url)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ContentError(f"not valid JSON (line {e.lineno}: {e.msg})", url) from None
        return title_from_stub_json(data, url)
    from player.http import manifest_bridge

    return await manifest_bridge.load(url, fetch_text)
