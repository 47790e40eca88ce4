"""Live presentations: which segments exist now, where the live edge is, when to reload.

Sans-I/O and clock-free: every function takes ``now_s`` (POSIX seconds from the driver's
clock, or a simulated one), in the Media3 style of an injected clock.

DASH (ISO/IEC 23009-1 5.3.9.5.3, DASH-IF IOP 4.3): a segment whose media ends at
presentation time ``E`` (relative to its Period) becomes available at
``availabilityStartTime + Period@start + E`` and stays available while its end is within
``timeShiftBufferDepth`` of ``now``. The MPD is refreshed every ``minimumUpdatePeriod``.

HLS (RFC 8216 6.3.4): the playlist is the window. The client reloads it after one target
duration when it changed, after half a target duration when it did not; segments are
identified across reloads by their media sequence number.

The playback position trails the live edge by ``suggestedPresentationDelay`` (DASH) or by
three target durations (HLS: RFC 8216 6.3.3 forbids starting closer than that to the end).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from player.manifest.errors import ManifestError
from player.manifest.model import Manifest, Period, Representation, Segments

HLS_EDGE_TARGET_DURATIONS = 3  # RFC 8216 6.3.3
DEFAULT_DASH_EDGE_SEGMENTS = 3  # without suggestedPresentationDelay, like HLS's rule


@dataclass(frozen=True)
class LiveWindow:
    """The segments of one Representation available at ``now_s``."""

    now_s: float
    first_index: int  # index into the Representation's segments (may exceed its list when open-ended)
    count: int
    first_number: int  # $Number$ / media sequence number of the first available segment
    start_s: float  # wall clock (epoch) start of the first available segment
    end_s: float  # wall clock end of the last available segment: the live edge
    target_s: float  # where a player should play: the edge minus the presentation delay
    durations_s: tuple[float, ...] = ()

    @property
    def depth_s(self) -> float:
        return self.end_s - self.start_s


def dash_window(m: Manifest, period: Period, rep: Representation, now_s: float) -> LiveWindow:
    """Available segments of ``rep`` at ``now_s`` in a dynamic MPD."""
    live = m.live
    if live is None or not m.is_live:
        raise ManifestError("not a dynamic MPD: no live window", m.source)
    if live.availability_start_s is None:
        raise ManifestError("dynamic MPD without availabilityStartTime: no live window", m.source, "MPD@availabilityStartTime")
    segs = rep.segments
    if segs is None:
        raise ManifestError("Representation segments are not known yet (index not fetched)", m.source, rep.where)
    origin = live.availability_start_s + period.start_s
    tsbd = live.time_shift_buffer_depth_s
    oldest_end = now_s - tsbd if tsbd is not None else -math.inf
    if segs.open_duration_s is not None and not segs.durations_s:
        d = segs.open_duration_s
        last = math.floor((now_s - origin) / d + 1e-9) - 1  # segment k ends at origin + (k+1) d
        if period.duration_s is not None:
            last = min(last, math.ceil(period.duration_s / d - 1e-9) - 1)
        first = 0 if tsbd is None else max(0, math.ceil((oldest_end - origin) / d - 1e-9) - 1)
        count = max(0, last - first + 1)
        durs = (d,) * count
        start = origin + first * d
    else:
        starts = _starts(segs)
        durs_all = list(segs.durations_s)
        if segs.open_duration_s is not None and durs_all:
            # r=-1 into an open Period: keep repeating the last duration up to now.
            d = segs.open_duration_s
            end_known = origin + starts[-1] + durs_all[-1]
            extra = max(0, math.floor((now_s - end_known) / d + 1e-9))
            for k in range(min(extra, 1_000_000)):
                starts.append(starts[-1] + durs_all[-1])
                durs_all.append(d)
        ends = [origin + s + d for s, d in zip(starts, durs_all)]
        avail = [i for i, e in enumerate(ends) if e <= now_s + 1e-9 and e >= oldest_end]
        if avail:
            first, count = avail[0], len(avail)
            start = origin + starts[first]
        else:
            first, count, start = 0, 0, now_s
        durs = tuple(durs_all[first:first + count])
    end = start + sum(durs)
    delay = live.suggested_presentation_delay_s
    if delay is None:
        delay = DEFAULT_DASH_EDGE_SEGMENTS * (segs.max_duration_s or 0.0)
    return LiveWindow(now_s, first, count, segs.first_number + first, start, end, max(start, end - delay), durs)


def _starts(segs: Segments) -> list[float]:
    if segs.times is not None and segs.timescale:
        return [(t - segs.pto) / segs.timescale for t in segs.times]
    out, acc = [], segs.start_s
    for d in segs.durations_s:
        out.append(acc)
        acc += d
    return out


def next_refresh_s(m: Manifest, fetched_at_s: float, changed: bool = True) -> float | None:
    """When to fetch the manifest again (None: never, it is static/VOD)."""
    if not m.is_live or m.live is None:
        return None
    if m.format == "dash":
        mup = m.live.minimum_update_period_s
        if mup is None:
            return None  # dynamic MPD that promises no update
        return fetched_at_s + max(mup, 0.1)
    td = m.live.target_duration_s or 1.0
    if m.live.part_target_s:
        # LL-HLS: a client without blocking reload polls at the part target.
        return fetched_at_s + m.live.part_target_s
    return fetched_at_s + (td if changed else td / 2.0)


def hls_target_s(m: Manifest) -> float | None:
    """Playback target in the window: three target durations (or PART-HOLD-BACK) from the end."""
    if m.live is None:
        return None
    total = sum(m.periods[0].adaptation_sets[0].representations[0].segments.durations_s)  # type: ignore[union-attr]
    hold = m.live.part_hold_back_s if m.live.part_target_s and m.live.part_hold_back_s else None
    if hold is None:
        hold = m.live.hold_back_s or HLS_EDGE_TARGET_DURATIONS * (m.live.target_duration_s or 0.0)
    return max(0.0, total - hold)


@dataclass
class HlsLiveTracker:
    """Follows a live media playlist across reloads (sans-I/O).

    ``update(manifest, now_s)`` merges a freshly fetched playlist: segments are keyed by
    media sequence number, new ones are returned in order, and ``next_reload_s`` says when
    to fetch again. A playlist whose media sequence goes backwards is an error (RFC 8216
    6.2.1 forbids it).
    """

    max_history: int = 10_000
    segments: dict[int, tuple[float, Any]] = field(default_factory=dict)  # msn -> (duration, SegmentRef)
    last_msn: int | None = None
    next_reload_s: float | None = None
    ended: bool = False

    def update(self, m: Manifest, now_s: float) -> list[tuple[int, float, Any]]:
        if m.format != "hls" or m.kind != "media":
            raise ManifestError("HlsLiveTracker follows HLS media playlists only", m.source)
        segs = m.periods[0].adaptation_sets[0].representations[0].segments
        assert segs is not None
        first = segs.first_number
        if self.last_msn is not None and first + len(segs.durations_s) - 1 < self.last_msn:
            raise ManifestError(
                f"media sequence went backwards (playlist ends at {first + len(segs.durations_s) - 1}, "
                f"already had {self.last_msn})", m.source,
            )
        new = []
        for i, d in enumerate(segs.durations_s):
            msn = first + i
            if self.last_msn is not None and msn <= self.last_msn:
                continue
            ref = segs.ref(i)
            self.segments[msn] = (d, ref)
            new.append((msn, d, ref))
        if new:
            self.last_msn = new[-1][0]
        while len(self.segments) > self.max_history:
            self.segments.pop(min(self.segments))
        self.ended = not m.is_live
        self.next_reload_s = None if self.ended else next_refresh_s(m, now_s, changed=bool(new))
        return new
