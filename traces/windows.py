"""Cutting a trace into N-second windows, as trace-driven ABR studies do.

Pensieve (Mao et al., SIGCOMM 2017, §5.1) built its corpus from 320-second traces: FCC
traces concatenated to that length, and "a sliding window across the HSDPA dataset" for
the Norway logs. :func:`windows` does the sliding (or, with ``step_s = length_s``, the
back-to-back) cut; :func:`window` cuts one span. A window is a new trace starting at 0
whose provenance names its parent and the span, so it can be rebuilt.
"""

from __future__ import annotations

import numpy as np

from traces.capacity import cumulative_bits
from traces.model import Provenance, Trace, TraceError

_EPS = 1e-9


def window(trace: Trace, start_s: float, duration_s: float) -> Trace:
    """The capacity (and latency) of ``trace`` over [start_s, start_s + duration_s).

    The span must lie within one pass of the trace (cut the loop explicitly if you want
    it: windows never wrap silently).
    """
    src = trace.provenance.source
    if not (start_s >= 0 and duration_s > 0):
        raise TraceError(f"window start {start_s!r} s / length {duration_s!r} s: need start >= 0, length > 0", src)
    end_s = start_s + duration_s
    if end_s > trace.duration_s * (1 + _EPS):
        raise TraceError(
            f"window [{start_s:g}, {end_s:g}) s runs past the trace's end ({trace.duration_s:g} s)", src
        )
    end_s = min(end_s, trace.duration_s)
    starts = trace.starts_s
    ends = trace.ends_s
    first = int(np.searchsorted(ends, start_s, side="right"))
    last = int(np.searchsorted(starts, end_s, side="left"))  # one past the last entry touched
    lo = np.maximum(starts[first:last], start_s)
    hi = np.minimum(ends[first:last], end_s)
    keep = hi - lo > _EPS * max(1.0, duration_s)  # drop slivers left by float rounding
    return Trace(
        durations_s=(hi - lo)[keep],
        rates_bps=trace.rates_bps[first:last][keep],
        latencies_s=trace.latencies_s[first:last][keep],
        name=f"{trace.name}@{start_s:g}+{duration_s:g}",
        provenance=Provenance(
            "derived", "window", params={"start_s": float(start_s), "duration_s": float(duration_s)}, parent=trace.provenance
        ),
    )


def window_starts(trace: Trace, length_s: float, step_s: float | None = None) -> list[float]:
    """Where each whole window of ``length_s`` starts, one every ``step_s`` (default: back
    to back). A trace shorter than one window has none; a trailing part is dropped."""
    step = length_s if step_s is None else step_s
    if not (length_s > 0 and step > 0):
        raise TraceError("window length and step must be positive", trace.provenance.source)
    if trace.duration_s + _EPS < length_s:
        return []
    n = int(np.floor((trace.duration_s - length_s) / step + _EPS)) + 1
    return [k * step for k in range(n)]


def windows(trace: Trace, length_s: float, step_s: float | None = None) -> list[Trace]:
    """Every whole window (see :func:`window_starts`) that carries some capacity.

    A window lying entirely in an outage is not a playable trace and is left out; use
    :func:`window_starts` and :func:`has_capacity` to count them.
    """
    return [window(trace, s, length_s) for s in window_starts(trace, length_s, step_s) if has_capacity(trace, s, length_s)]


def has_capacity(trace: Trace, start_s: float, duration_s: float) -> bool:
    """Whether the span carries any capacity at all."""
    return bool(cumulative_bits(trace, start_s + duration_s) - cumulative_bits(trace, start_s) > 0)
