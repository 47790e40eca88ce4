"""Following a live manifest: the title grows as the manifest is refreshed.

A live DASH MPD (``type="dynamic"``) or HLS playlist (no ``EXT-X-ENDLIST``) lists only
the segments that exist so far. :class:`LiveFollower` turns the first fetch into a Title
that starts near the live edge (``suggestedPresentationDelay``, else three segment
durations, as ``player.manifest.live`` and RFC 8216 6.3.3 advise), and every
:meth:`LiveFollower.refresh` appends the segments that appeared since
(``Track.extend``), matching them by segment number ($Number$ / media sequence), until
the manifest says the presentation ended (a static MPD, an ENDLIST).

Time: a DASH live window is computed from ``availabilityStartTime`` and the current
time. When the MPD names ``UTCTiming`` sources the follower synchronises with the
first that answers before computing the first window (``player.http.timesync``), so a
player whose clock is off still asks for segments that exist; without one it trusts
its own clock. Under ``--speed k`` the stub's live events run k times faster than the
wall clock from their availability start; the follower uses the same scaled clock
(``event_now = start + (wall - start) * k``, or ``server + (wall - sync) * k`` after a
sync), so player and stub agree on what exists. One sync at the start: our sessions
are minutes long and clocks drift by parts per million.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable

import numpy as np

from player.http.timesync import TimeSync, synchronise
from player.presentation import SegmentRef, Title, Track

Fetch = Callable[[str, "tuple[int, int] | None"], Awaitable[bytes]]
EDGE_SEGMENTS = 3  # segments behind the live edge when the manifest suggests nothing


class _LiveRefs:
    """``Track.refs`` for a live track: index -> segment number -> the latest window."""

    def __init__(self, base_number: int, window_refs: Any, window_first: int) -> None:
        self.base_number = base_number  # segment number of track index 0
        self.window_refs = window_refs
        self.window_first = window_first  # segment number of the window's index 0

    def update(self, window_refs: Any, window_first: int) -> None:
        self.window_refs, self.window_first = window_refs, window_first

    def media(self, index: int, rung: int) -> SegmentRef:
        return self.window_refs.media(self.base_number + index - self.window_first, rung)

    def init(self, index: int, rung: int) -> SegmentRef | None:
        i = self.base_number + index - self.window_first
        return self.window_refs.init(max(0, i), rung)


def _first_number(track: Track) -> int:
    """Segment number of a manifest track's index 0 (``player.manifest.to_title``'s refs)."""
    chunk = track.refs.chunks[0]
    return int(chunk.segments[0].first_number + chunk.offsets[0])


class LiveFollower:
    def __init__(self, url: str, fetch: Fetch, speed: float = 1.0, wall: Callable[[], float] = time.time) -> None:
        self.url = url
        self.fetch = fetch
        self.speed = speed
        self._wall = wall
        self.manifest: Any = None
        self.title: Title | None = None
        self.refreshes = 0
        self.ended = False
        self.sync: TimeSync | None = None
        self.warnings: list[str] = []
        self._synced = False

    async def synchronise(self, m: Any) -> TimeSync | None:
        """Sync with the MPD's UTCTiming sources (once; HLS has none)."""
        if not self._synced:
            self._synced = True
            timing = getattr(m.live, "utc_timing", None) if m.live is not None else None
            if timing:
                out = await synchronise(timing, self.url, self.fetch, self._wall)
                self.sync = out.sync
                self.warnings.extend(out.warnings)
        return self.sync

    def event_now(self, m: Any) -> float:
        wall = self._wall()
        if self.sync is not None:
            return self.sync.now(wall, self.speed)
        ast = m.live.availability_start_s if m.live is not None else None
        if ast is None:
            return wall
        return ast + (wall - ast) * self.speed

    @property
    def refresh_interval_s(self) -> float:
        """Session seconds between manifest fetches (minimumUpdatePeriod, else the HLS
        target duration, else a segment)."""
        m = self.manifest
        live = m.live if m is not None else None
        for v in (getattr(live, "minimum_update_period_s", None), getattr(live, "target_duration_s", None)):
            if v:
                return max(0.1, float(v))
        return max(0.1, float(self.title.video.durations[-1])) if self.title else 1.0

    async def _load(self) -> tuple[Any, Title]:
        from player.manifest import parse_manifest
        from player.manifest.resolve import resolve_manifest_async
        from player.manifest import to_title as manifest_to_title

        m = parse_manifest(await self.fetch(self.url, None), self.url, url=self.url)
        await resolve_manifest_async(m, self.fetch)
        if m.is_live:
            await self.synchronise(m)
        return m, manifest_to_title(m, now_s=self.event_now(m) if m.is_live else None, text=False)

    def _delay_s(self, m: Any, title: Title) -> float:
        live = m.live
        d = getattr(live, "suggested_presentation_delay_s", None) or getattr(live, "hold_back_s", None)
        if d:
            return float(d)
        target = getattr(live, "target_duration_s", None)
        return EDGE_SEGMENTS * float(target or max(title.video.durations))

    def start(self, m: Any, window: Title) -> Title:
        """The title to play from the first fetch: the window from near its live edge."""
        self.manifest = m
        delay = self._delay_s(m, window)
        durs = window.video.durations
        start, acc = len(durs), 0.0
        while start > 0 and acc < delay - 1e-9:
            start -= 1
            acc += durs[start]
        tracks = []
        for t in (window.video, window.audio):
            if t is None:
                tracks.append(None)
                continue
            k = min(start, t.n_segments - 1)
            tracks.append(
                Track(t.media, t.rungs, t.segment_durations_s[k:], t.sizes_bytes[k:], t.sizes_known, t.language, t.roles,
                      refs=_LiveRefs(_first_number(t) + k, t.refs, _first_number(t)))
            )
        self.title = Title(window.name, tracks[0], tracks[1], source=window.source, source_format=window.source_format,
                           meta={**window.meta, "live": True, "live_start_number": _first_number(window.video) + start,
                                 "live_edge_number": _first_number(window.video) + len(durs) - 1})
        self.ended = not m.is_live
        return self.title

    async def load(self) -> Title:
        m, window = await self._load()
        return self.start(m, window)

    async def refresh(self) -> tuple[int, bool]:
        """Fetch the manifest again; returns (video segments added, whether it ended)."""
        assert self.title is not None
        m, window = await self._load()
        self.manifest = m
        self.refreshes += 1
        added_video = 0
        for mine, new in ((self.title.video, window.video), (self.title.audio, window.audio)):
            if mine is None or new is None:
                continue
            refs: _LiveRefs = mine.refs
            first = _first_number(new)
            refs.update(new.refs, first)
            k = refs.base_number + mine.n_segments - first  # window index of our next segment
            if k < 0:
                k = 0  # the window slid past segments we never saw: continue from its start
            n_new = new.n_segments - k
            if n_new > 0:
                mine.extend(np.asarray(new.segment_durations_s[k:]), np.asarray(new.sizes_bytes[k:]))
                if mine is self.title.video:
                    added_video = n_new
        self.title.__dict__.pop("_sha256", None)  # the content hash covered the old length
        self.ended = not m.is_live
        return added_video, self.ended
