"""Keeping the traces whose rates fall within bounds, as papers do.

Pensieve (Mao et al., SIGCOMM 2017, §5.1): "To avoid scenarios where bitrate selection is
trivial, i.e., situations where picking the maximum bitrate is always the optimal
solution, or where the network cannot support any available bitrate for an extended
period, we only considered original traces whose average throughput is less than 6 Mbps,
and whose minimum throughput is above 0.2 Mbps." That is :data:`PENSIEVE_BOUNDS`.

Bounds are on the trace's time-weighted mean rate and on its minimum and maximum rate
over ``bin_s`` bins (see :mod:`traces.stats`; 1 s by default, the granularity of the
logs Pensieve filtered, whose 5 s FCC entries it does not split). All bounds are
inclusive; ``None`` means unbounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from traces.capacity import binned_rates
from traces.model import Trace


@dataclass(frozen=True)
class RateBounds:
    min_mean_bps: float | None = None
    max_mean_bps: float | None = None
    min_rate_bps: float | None = None  # every bin at least this
    max_rate_bps: float | None = None  # every bin at most this
    bin_s: float = 1.0

    def rejection(self, trace: Trace) -> str | None:
        """Why ``trace`` is out of bounds, or None when it is admitted."""
        mean = trace.mean_rate_bps
        if self.min_mean_bps is not None and mean < self.min_mean_bps:
            return f"mean {mean / 1e6:.3f} Mbps < {self.min_mean_bps / 1e6:g}"
        if self.max_mean_bps is not None and mean > self.max_mean_bps:
            return f"mean {mean / 1e6:.3f} Mbps > {self.max_mean_bps / 1e6:g}"
        if self.min_rate_bps is not None or self.max_rate_bps is not None:
            rates, _ = binned_rates(trace, self.bin_s)
            lo, hi = float(rates.min()), float(rates.max())
            if self.min_rate_bps is not None and lo < self.min_rate_bps:
                return f"minimum {lo / 1e6:.3f} Mbps < {self.min_rate_bps / 1e6:g}"
            if self.max_rate_bps is not None and hi > self.max_rate_bps:
                return f"maximum {hi / 1e6:.3f} Mbps > {self.max_rate_bps / 1e6:g}"
        return None

    def admits(self, trace: Trace) -> bool:
        return self.rejection(trace) is None

    def describe(self) -> str:
        parts = []
        for label, v in (
            ("mean >=", self.min_mean_bps),
            ("mean <=", self.max_mean_bps),
            ("min rate >=", self.min_rate_bps),
            ("max rate <=", self.max_rate_bps),
        ):
            if v is not None:
                parts.append(f"{label} {v / 1e6:g} Mbps")
        return ", ".join(parts) + f" ({self.bin_s:g} s bins)" if parts else "no bounds"


PENSIEVE_BOUNDS = RateBounds(max_mean_bps=6e6, min_rate_bps=0.2e6)
PRESETS = {"pensieve": PENSIEVE_BOUNDS}


def filter_traces(traces: Iterable[Trace], bounds: RateBounds) -> Iterator[Trace]:
    """The traces ``bounds`` admits, in order (lazily: a folder is not held in memory)."""
    return (t for t in traces if bounds.admits(t))
