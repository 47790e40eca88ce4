"""Bandwidth estimators: objects fed transfer samples, asked for an estimate.

Each estimator has ``add(sample)``, ``estimate_bps() -> float | None`` (None before
it has enough data) and ``reset()``. They are pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

from abr.base import TransferSample


class Estimator(Protocol):
    def add(self, sample: TransferSample) -> None: ...

    def estimate_bps(self) -> float | None: ...

    def reset(self) -> None: ...


def _rate(sample: TransferSample, include_latency: bool) -> float:
    return sample.rate_with_latency_bps if include_latency else sample.rate_bps


class Ewma:
    """Exponentially weighted moving average weighted by transfer time, with a half-life.

    As in Shaka Player's ``Ewma`` and hls.js's ``EWMA``: each sample's weight is its
    duration, ``alpha = 0.5 ** (duration / half_life)``; the estimate is divided by the
    zero-factor ``1 - 0.5 ** (total_weight / half_life)`` so early estimates are not
    biased toward zero.
    """

    __slots__ = ("half_life_s", "_estimate", "_total_weight")

    def __init__(self, half_life_s: float) -> None:
        if half_life_s <= 0:
            raise ValueError("half_life_s must be positive")
        self.half_life_s = half_life_s
        self.reset()

    def reset(self) -> None:
        self._estimate = 0.0
        self._total_weight = 0.0

    def add_value(self, weight_s: float, value: float) -> None:
        alpha = 0.5 ** (weight_s / self.half_life_s)
        self._estimate = value * (1 - alpha) + alpha * self._estimate
        self._total_weight += weight_s

    def value(self) -> float | None:
        if self._total_weight <= 0:
            return None
        zero_factor = 1 - 0.5 ** (self._total_weight / self.half_life_s)
        return self._estimate / zero_factor


class DualEwmaEstimator:
    """Two EWMAs (fast and slow half-life); the estimate is the lower one.

    Defaults are hls.js's (``abrEwmaFastVoD`` 3 s, ``abrEwmaSlowVoD`` 9 s); Shaka uses
    2 s / 5 s. Samples shorter than ``min_transfer_s`` are weighted as that long, as
    hls.js does, so a tiny fast transfer does not dominate.
    """

    __slots__ = ("fast", "slow", "include_latency", "min_transfer_s")

    def __init__(
        self,
        fast_half_life_s: float = 3.0,
        slow_half_life_s: float = 9.0,
        include_latency: bool = False,
        min_transfer_s: float = 0.0,
    ) -> None:
        self.fast = Ewma(fast_half_life_s)
        self.slow = Ewma(slow_half_life_s)
        self.include_latency = include_latency
        self.min_transfer_s = min_transfer_s

    def reset(self) -> None:
        self.fast.reset()
        self.slow.reset()

    def add(self, sample: TransferSample) -> None:
        rate = _rate(sample, self.include_latency)
        if not math.isfinite(rate):
            return
        w = sample.duration_s if self.include_latency else sample.transfer_s
        w = max(w, self.min_transfer_s)
        if w <= 0:
            return
        self.fast.add_value(w, rate)
        self.slow.add_value(w, rate)

    def estimate_bps(self) -> float | None:
        f = self.fast.value()
        s = self.slow.value()
        if f is None or s is None:
            return None
        return min(f, s)


class SlidingMeanEstimator:
    """Mean of the last ``window`` samples' rates: ``harmonic`` (robust to outliers, as
    in MPC / Pensieve's rate-based baseline) or ``arithmetic``.

    The window's sums are recomputed from the kept samples (not updated incrementally)
    so the estimate has no accumulated rounding drift over long sessions.
    """

    __slots__ = ("window", "kind", "include_latency", "_rates", "_value")

    def __init__(self, window: int = 5, kind: str = "harmonic", include_latency: bool = False) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        if kind not in ("harmonic", "arithmetic"):
            raise ValueError("kind must be 'harmonic' or 'arithmetic'")
        self.window = window
        self.kind = kind
        self.include_latency = include_latency
        self._rates: deque[float] = deque(maxlen=window)
        self._value: float | None = None

    def reset(self) -> None:
        self._rates.clear()
        self._value = None

    def add(self, sample: TransferSample) -> None:
        rate = _rate(sample, self.include_latency)
        if not math.isfinite(rate):
            return
        rates = self._rates
        rates.append(rate)
        if self.kind == "arithmetic":
            self._value = sum(rates) / len(rates)
        elif min(rates) <= 0:
            self._value = 0.0
        else:
            inv = 0.0
            for r in rates:
                inv += 1.0 / r
            self._value = len(rates) / inv

    def estimate_bps(self) -> float | None:
        return self._value


class SlidingPercentileEstimator:
    """Weighted percentile over recent samples, as ExoPlayer's ``SlidingPercentile``
    (Media3 libraries/exoplayer/.../upstream/SlidingPercentile.java) in
    ``DefaultBandwidthMeter``: each sample weighs ``(int) sqrt(bytes)`` (an integer, as
    there); once the total weight passes ``max_weight`` (ExoPlayer: 2000) the *oldest*
    sample loses the excess weight, and is removed only when its weight reaches zero, so
    the window holds exactly ``max_weight`` in the steady state. The percentile walks
    the samples by value until the accumulated weight reaches ``percentile x total``.
    """

    __slots__ = ("percentile", "max_weight", "include_latency", "_samples", "_total")

    def __init__(self, percentile: float = 0.5, max_weight: int = 2000, include_latency: bool = True) -> None:
        if not 0.0 <= percentile <= 1.0:
            raise ValueError("percentile must be within [0, 1]")
        self.percentile = percentile
        self.max_weight = int(max_weight)
        self.include_latency = include_latency
        self._samples: deque[list[float]] = deque()  # [weight, value], oldest first
        self._total = 0

    def reset(self) -> None:
        self._samples.clear()
        self._total = 0

    def add(self, sample: TransferSample) -> None:
        rate = _rate(sample, self.include_latency)
        if not math.isfinite(rate):
            return
        self.add_weighted(int(math.sqrt(max(sample.size_bytes, 0))), rate)

    def add_weighted(self, weight: int, value: float) -> None:
        """SlidingPercentile.addSample(weight, value)."""
        self._samples.append([weight, value])
        self._total += weight
        while self._total > self.max_weight:
            excess = self._total - self.max_weight
            oldest = self._samples[0]
            if oldest[0] <= excess:
                self._total -= oldest[0]
                self._samples.popleft()
            else:
                oldest[0] -= excess
                self._total -= excess

    def estimate_bps(self) -> float | None:
        if not self._samples:
            return None
        target = self.percentile * self._total
        acc = 0
        ordered = sorted(self._samples, key=lambda s: s[1])  # stable, as Java's List.sort
        for w, r in ordered:
            acc += w
            if acc >= target:
                return r
        return ordered[-1][1]


ESTIMATORS = {
    "dual_ewma": DualEwmaEstimator,
    "sliding_mean": SlidingMeanEstimator,
    "sliding_percentile": SlidingPercentileEstimator,
}
