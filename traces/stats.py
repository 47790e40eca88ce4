"""Summary statistics of a trace: duration, mean and percentile rates, outage share.

Definitions (what ``abrlab traces stats`` prints):

- ``mean_bps``: time-weighted mean capacity over one pass (total bits / duration), exact.
- ``median_bps``, ``p10_bps``, ``p90_bps``, ``min_bps``, ``max_bps``, ``std_bps``: over the
  capacity averaged in consecutive ``bin_s`` bins (default 1 s), each bin weighted by its
  length (only the last one can be shorter). Binning makes the numbers independent of how
  finely a format slices time: a Mahimahi file has a "rate" per millisecond that is
  either 0 or a multiple of 12 Mbit/s, which says nothing about a video player's view,
  while 1 s is the granularity of the HSDPA and Belgium 4G logs themselves. Percentiles
  are the weighted inverted CDF: the smallest bin rate r whose bins (at rate <= r) cover
  at least q of the time, i.e. numpy's ``method="inverted_cdf"`` when all bins are equal.
- ``outage_share``: the share of time in bins whose capacity is below
  ``outage_fraction`` (default 1 %) of the trace's own mean, i.e. seconds in which the
  link delivers essentially nothing. Measurement papers call these stretches outages:
  the tunnels of the HSDPA commute logs where throughput drops to zero (Riiser et al.,
  MMSys 2013) and the multi-second gaps without packet deliveries in the cellular
  traces Sprout was built on (Winstein et al., NSDI 2013). A threshold relative to the
  trace's mean keeps the definition meaningful from 3G to broadband; pass
  ``outage_below_bps`` for an absolute threshold instead (e.g. a ladder's lowest rung).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable

import numpy as np

from traces.capacity import binned_rates
from traces.model import Trace

DEFAULT_BIN_S = 1.0
DEFAULT_OUTAGE_FRACTION = 0.01


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches ``q`` (0..1) of the total."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    cw = np.cumsum(weights[order])
    target = q * cw[-1]
    # A hair of tolerance so q * total landing exactly on a boundary picks that value.
    i = int(np.searchsorted(cw, target - 1e-12 * cw[-1], side="left"))
    return float(v[min(i, v.size - 1)])


@dataclass(frozen=True)
class TraceStats:
    name: str
    sha256: str
    source: str
    entries: int
    duration_s: float
    mean_bps: float
    median_bps: float
    p10_bps: float
    p90_bps: float
    min_bps: float
    max_bps: float
    std_bps: float
    outage_share: float
    outage_threshold_bps: float
    bin_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def trace_stats(
    trace: Trace,
    bin_s: float = DEFAULT_BIN_S,
    outage_fraction: float = DEFAULT_OUTAGE_FRACTION,
    outage_below_bps: float | None = None,
) -> TraceStats:
    rates, widths = binned_rates(trace, bin_s)
    mean = trace.mean_rate_bps
    threshold = outage_below_bps if outage_below_bps is not None else outage_fraction * mean
    var = float(np.sum(widths * (rates - mean) ** 2) / np.sum(widths))
    return TraceStats(
        name=trace.name,
        sha256=trace.sha256,
        source=trace.provenance.describe(),
        entries=trace.n_entries,
        duration_s=trace.duration_s,
        mean_bps=mean,
        median_bps=weighted_percentile(rates, widths, 0.5),
        p10_bps=weighted_percentile(rates, widths, 0.1),
        p90_bps=weighted_percentile(rates, widths, 0.9),
        min_bps=float(rates.min()),
        max_bps=float(rates.max()),
        std_bps=var**0.5,
        outage_share=float(np.sum(widths[rates < threshold]) / np.sum(widths)),
        outage_threshold_bps=float(threshold),
        bin_s=bin_s,
    )


def summarize_stats(stats: Iterable[TraceStats]) -> dict[str, Any]:
    """A set of traces at a glance: count, total time, and the spread of per-trace means."""
    items = list(stats)
    if not items:
        return {"traces": 0}
    means = np.array([s.mean_bps for s in items])
    durs = np.array([s.duration_s for s in items])
    outage = np.array([s.outage_share for s in items])
    return {
        "traces": len(items),
        "total_duration_s": float(durs.sum()),
        "mean_bps": float(np.sum(means * durs) / durs.sum()),  # over all the time
        "trace_mean_p10_bps": float(np.percentile(means, 10)),
        "trace_mean_median_bps": float(np.median(means)),
        "trace_mean_p90_bps": float(np.percentile(means, 90)),
        "outage_share": float(np.sum(outage * durs) / durs.sum()),
    }
