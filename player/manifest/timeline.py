"""Expanding DASH segment timing: SegmentTimeline and @duration (ISO/IEC 23009-1 5.3.9).

All arithmetic is in integer timescale ticks (and ``Fraction`` where a division is
needed), so segment counts such as ``ceil(634.566 s / 4 s) = 159`` come out exact.

Rules (documented tolerances are warnings, everything else a ManifestError):

- An empty SegmentTimeline lists no segments (a live Period that has not started yet).
- ``S@t`` absent: the previous segment's end; for the first ``S``, ``@presentationTimeOffset``
  (the Period start). The spec says 0, which for a Period with an offset would put the
  whole timeline before the Period; packagers that omit ``@t`` mean the Period start.
- ``S@r``: repeat count; ``r = -1`` repeats until the next ``S@t``, else until the Period
  end; an open Period (live, no end) makes the timeline open-ended.
- A gap or overlap between ``S`` elements (``S@t`` differs from the previous end) is
  absorbed by stretching or shrinking the previous segment, as Shaka's timeline builder
  does; an ``S@t`` that goes back before the previous segment's start is an error.
- Clipping: segments that start at or after the Period end are dropped and the last one
  is cut at the Period end; segments that end before the Period start are dropped.
- Every expansion is counted against ``Limits.max_segments`` before it is made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from player.manifest.errors import Limits, ManifestError


@dataclass
class Timing:
    """Expanded timing of one Representation's segments."""

    times: list[int]  # media time (ticks) of each segment's start
    durations: list[int]  # ticks, after gap/overlap absorption and clipping
    nominal_max: int  # largest S@d or @duration (ticks) among the kept segments
    open_ended: bool = False  # r=-1 with no end known (live)


def expand_timeline(
    entries: list[tuple[int | None, int, int, str]],
    timescale: int,
    pto: int,
    period_duration_s: float | None,
    limits: Limits,
    source: str,
    warn: Callable[[str], None],
    where: str,
) -> Timing:
    """``entries`` are ``(t, d, r, where, i)`` per ``S`` element (``t`` None when absent;
    ``where`` the SegmentTimeline's path and ``i`` the S's index, for error messages)."""
    if not entries:
        # A live packager opens a new Period before its first segment is out (DASH-IF
        # livesim2 does so at every Period boundary): no segments yet, not an error.
        warn(f"{where}: SegmentTimeline has no S elements; no segments yet")
        return Timing([], [], 0)
    if len(entries) > limits.max_timeline_entries:
        raise ManifestError(f"SegmentTimeline has {len(entries)} S elements (limit {limits.max_timeline_entries})", source, where)
    end_ticks: int | None = None
    if period_duration_s is not None:
        end_ticks = pto + math.ceil(Fraction(period_duration_s) * timescale - Fraction(1, 10**6))
    times: list[int] = []
    durs: list[int] = []
    nominal: list[int] = []
    open_ended = False
    cur: int | None = None
    for k, (t, d, r, tl_where, s_index) in enumerate(entries):
        s_where = f"{tl_where}/S[{s_index + 1}]"
        if d <= 0:
            raise ManifestError("S@d must be positive", source, s_where)
        start = t if t is not None else (cur if cur is not None else pto)
        if cur is not None and start != cur:
            prev_start = times[-1]
            if start <= prev_start:
                raise ManifestError(f"S@t={start} is not after the previous segment's start {prev_start}", source, s_where)
            warn(f"{s_where}: {'gap' if start > cur else 'overlap'} of {abs(start - cur)} ticks before this S; "
                 "absorbed into the previous segment")
            durs[-1] = start - prev_start
        if r < -1:
            raise ManifestError(f"S@r={r} is invalid (only -1 may be negative)", source, s_where)
        if r == -1:
            nxt = entries[k + 1][0] if k + 1 < len(entries) else None
            if k + 1 < len(entries) and nxt is None:
                raise ManifestError("S@r=-1 must be followed by an S with @t or be the last S", source, s_where)
            stop = nxt if nxt is not None else end_ticks
            if stop is None:
                open_ended = True
                count = 1  # the live window (player.manifest.live) extends it from the clock
            else:
                count = max(0, -(-(stop - start) // d))
        else:
            count = r + 1
        if len(times) + count > limits.max_segments:
            raise ManifestError(
                f"SegmentTimeline expands to more than {limits.max_segments} segments", source, s_where
            )
        if end_ticks is not None and start >= end_ticks and count > 0:
            # Everything from here on starts after the Period end: stop expanding (a huge
            # r on a late S must not cost anything).
            warn(f"{s_where}: segments start after the Period end; clipped")
            cur = start + d * count
            break
        for i in range(count):
            times.append(start + i * d)
            durs.append(d)
            nominal.append(d)
        cur = start + d * count
    return _clip(Timing(times, durs, max(nominal) if nominal else 0, open_ended), pto, end_ticks, warn, where)


def _clip(tm: Timing, pto: int, end_ticks: int | None, warn: Callable[[str], None], where: str) -> Timing:
    times, durs = tm.times, tm.durations
    first = 0
    while first < len(times) and times[first] + durs[first] <= pto:
        first += 1
    if first:
        warn(f"{where}: {first} segment(s) end before the Period start; dropped")
    last = len(times)
    if end_ticks is not None:
        while last > first and times[last - 1] >= end_ticks:
            last -= 1
        if last < len(times):
            warn(f"{where}: {len(times) - last} segment(s) start after the Period end; clipped")
    times, durs = times[first:last], durs[first:last]
    if end_ticks is not None and times and times[-1] + durs[-1] > end_ticks:
        durs[-1] = end_ticks - times[-1]
    tm.times, tm.durations = times, durs
    return tm


def regular_count(duration: int, timescale: int, period_duration_s: float, start_number: int,
                  end_number: int | None, limits: Limits, source: str, where: str) -> int:
    """Segments of a @duration template or list in a Period of known length:
    ``ceil(period * timescale / duration)`` (dash.js, Shaka and mpd-parser agree), at most
    up to ``@endNumber``."""
    exact = Fraction(period_duration_s) * timescale / duration
    count = math.ceil(exact - Fraction(1, 10**9))  # an exact fit must not add a segment
    if end_number is not None:
        count = min(count, end_number - start_number + 1)
    if count > limits.max_segments:
        raise ManifestError(
            f"@duration {duration}/{timescale} s over a {period_duration_s:g} s Period makes {count} segments "
            f"(limit {limits.max_segments})", source, where,
        )
    return max(count, 0)
