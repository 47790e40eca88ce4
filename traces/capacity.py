"""Capacity over time: cumulative bits, fixed-width bins, and how far two traces differ.

The one measure of "same capacity over time" used across abrlab (conversions, format
round-trips, tests) is :func:`capacity_error`:

    error = max over t in [0, T] of |A(t) - B(t)|  /  A(T)

where A and B are the cumulative bits each trace can deliver from its start to t (both
loop), T is the longer of the two periods, and A(T) is the reference's bits over that
span. It is what a download sees: a transfer of S bits finishes when the cumulative curve
reaches S, so a cumulative error of e bits moves every finish time by at most e / rate.
Both curves are piecewise linear, so the maximum is attained at a breakpoint of one of
them and we evaluate exactly there (no sampling grid that could miss a peak).

The absolute part (``max_abs_bits``) is reported too: for a Mahimahi rewrite it is bounded
by the format's quantum (about one 1500-byte packet), whatever the trace's length, which
is the demanding check; the relative part is the acceptance number (<= 0.1 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from traces.model import Trace


def _knots(trace: Trace) -> tuple[np.ndarray, np.ndarray]:
    """Entry boundaries and the cumulative bits at each: the curve is linear between."""

    def make() -> tuple[np.ndarray, np.ndarray]:
        t = np.concatenate(([0.0], trace.ends_s))
        bits = np.concatenate(([0.0], np.cumsum(trace.rates_bps * trace.durations_s)))
        return t, bits

    return trace.cached("capacity-knots", make)


def cumulative_bits(trace: Trace, t_s: np.ndarray | float) -> np.ndarray:
    """Bits the trace delivers from its start to each time in ``t_s`` (the trace loops)."""
    t = np.asarray(t_s, dtype=np.float64)
    knots_t, knots_bits = _knots(trace)
    period = float(knots_t[-1])
    loops = np.floor(t / period)
    return loops * knots_bits[-1] + np.interp(t - loops * period, knots_t, knots_bits)


def binned_rates(trace: Trace, bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean capacity in consecutive ``bin_s`` bins over one pass, and each bin's length.

    The last bin is shorter when the duration is not a multiple of ``bin_s``; its weight
    (length) says so, so time-weighted statistics stay exact.
    """
    if not bin_s > 0:
        raise ValueError("bin_s must be positive")
    period = trace.duration_s
    n_full = int(np.floor(period / bin_s + 1e-9))
    edges = np.arange(n_full + 1) * bin_s
    if period - edges[-1] > 1e-9 * max(1.0, period):
        edges = np.append(edges, period)
    else:
        edges[-1] = period
    cum = _cumulative_exact(trace, edges)
    widths = np.diff(edges)
    return np.diff(cum) / widths, widths


def resampled(trace: Trace, step_s: float) -> np.ndarray:
    """Mean capacity in whole ``step_s`` steps over one pass (a trailing part is dropped)."""
    n = int(np.floor(trace.duration_s / step_s + 1e-9))
    cum = _cumulative_exact(trace, np.arange(n + 1) * step_s)
    return np.diff(cum) / step_s


@dataclass(frozen=True)
class CapacityError:
    """How far ``other``'s cumulative capacity strays from ``reference``'s."""

    max_abs_bits: float  # largest |A(t) - B(t)| over the span
    at_s: float  # where it happens
    total_bits: float  # reference bits over the span
    span_s: float  # the span compared (the longer period)

    @property
    def relative(self) -> float:
        return self.max_abs_bits / self.total_bits if self.total_bits > 0 else float("inf")

    def __str__(self) -> str:
        return (
            f"max cumulative difference {self.max_abs_bits:.0f} bits at t={self.at_s:.3f} s "
            f"({self.relative * 100:.4f} % of {self.total_bits:.4g} bits over {self.span_s:.3f} s)"
        )


def capacity_error(reference: Trace, other: Trace) -> CapacityError:
    """The cumulative-capacity difference between two traces (see the module docstring)."""
    span = max(reference.duration_s, other.duration_s)
    pts = [np.array([0.0, span])]
    for tr in (reference, other):
        # every breakpoint of this trace's (looping) curve inside [0, span]
        reps = int(np.ceil(span / tr.duration_s - 1e-12))
        base = np.concatenate(([0.0], tr.ends_s))
        pts.append((base[None, :] + tr.duration_s * np.arange(reps)[:, None]).ravel())
    t = np.unique(np.clip(np.concatenate(pts), 0.0, span))
    a = _cumulative_exact(reference, t)
    b = _cumulative_exact(other, t)
    diff = np.abs(a - b)
    j = int(np.argmax(diff))
    total = float(_cumulative_exact(reference, np.array([span]))[0])
    return CapacityError(float(diff[j]), float(t[j]), total, span)


def _cumulative_exact(trace: Trace, t: np.ndarray) -> np.ndarray:
    """:func:`cumulative_bits`, with whole periods taken in closed form: at exactly
    t = k * period the loop arithmetic may land on either side of the wrap."""
    out = cumulative_bits(trace, t)
    k = t / trace.duration_s
    whole = np.isclose(k, np.round(k), rtol=0, atol=1e-12) & (t > 0)
    out[whole] = np.round(k[whole]) * trace.total_bits
    return out
