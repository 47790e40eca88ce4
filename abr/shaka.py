"""``shaka``: Shaka Player's SimpleAbrManager (lib/abr/simple_abr_manager.js,
ewma_bandwidth_estimator.js, default config in lib/util/player_configuration.js).

- Estimate: two EWMAs weighted by transfer time, half-lives ``ewma_fast_s`` 2 s and
  ``ewma_slow_s`` 5 s, the lower of the two. Transfers under ``min_sample_bytes``
  (16 kB) are ignored; until ``min_total_bytes`` (128 kB) have been sampled the
  estimate is ``default_estimate_bps`` (abr.defaultBandwidthEstimate, 1 Mbps).
- Choice (chooseVariant): variant i is acceptable when the estimate is within
  [b_i / ``downgrade_target``, b_(i+1) / ``upgrade_target``] (0.95 and 0.85); the highest
  acceptable rung wins (the lowest if none is).
- Switching: the first switch happens once the estimate is good (128 kB sampled); after
  that at most one switch per ``switch_interval_s`` (8 s).
"""

from __future__ import annotations

from abr.base import AbrAlgorithm, AbrContext, Param, TransferSample
from abr.estimators import Ewma


class Shaka(AbrAlgorithm):
    name = "shaka"
    family = "throughput"
    source = "Shaka Player SimpleAbrManager (EWMA 2 s / 5 s, 16 kB / 128 kB, 8 s, 0.85 / 0.95)"
    PARAMS = {
        "ewma_fast_s": Param(2.0, "fast EWMA half-life", float),
        "ewma_slow_s": Param(5.0, "slow EWMA half-life", float),
        "min_sample_bytes": Param(16_000, "transfers smaller than this are not sampled", int),
        "min_total_bytes": Param(128_000, "bytes sampled before the estimate is trusted", int),
        "default_estimate_bps": Param(1_000_000.0, "estimate before that (abr.defaultBandwidthEstimate)", float),
        "switch_interval_s": Param(8.0, "minimum time between switches (abr.switchInterval)", float),
        "upgrade_target": Param(0.85, "abr.bandwidthUpgradeTarget", float),
        "downgrade_target": Param(0.95, "abr.bandwidthDowngradeTarget", float),
    }

    def reset(self) -> None:
        self._fast = Ewma(self.ewma_fast_s)  # type: ignore[attr-defined]
        self._slow = Ewma(self.ewma_slow_s)  # type: ignore[attr-defined]
        self._bytes = 0
        self._current: int | None = None
        self._last_switch_s: float | None = None
        self._startup_done = False

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        if sample.size_bytes < self.min_sample_bytes:  # type: ignore[attr-defined]
            return
        dur = sample.duration_s
        if dur <= 0:
            return
        self._bytes += sample.size_bytes
        bw = sample.size_bytes * 8.0 / dur
        self._fast.add_value(dur, bw)
        self._slow.add_value(dur, bw)

    def has_good_estimate(self) -> bool:
        return self._bytes >= self.min_total_bytes  # type: ignore[attr-defined]

    def estimate_bps(self) -> float:
        if not self.has_good_estimate():
            return self.default_estimate_bps  # type: ignore[attr-defined]
        return min(self._fast.value() or 0.0, self._slow.value() or 0.0)

    def choose(self, bitrates: tuple[int, ...], est: float) -> int:
        chosen = 0
        n = len(bitrates)
        for i, b in enumerate(bitrates):
            nxt = bitrates[i + 1] if i + 1 < n else float("inf")
            lo = b / self.downgrade_target  # type: ignore[attr-defined]
            hi = nxt / self.upgrade_target  # type: ignore[attr-defined]
            if lo <= est <= hi:
                chosen = i
        return chosen

    def decide(self, ctx: AbrContext) -> int:
        if self._current is None:
            # the initial choice, from the default estimate
            self._current = self.choose(ctx.bitrates_bps, self.estimate_bps())
            self._last_switch_s = ctx.now_s
            return self._current
        if not self._startup_done:
            if not self.has_good_estimate():
                return self._current
            self._startup_done = True
        elif ctx.now_s - (self._last_switch_s or 0.0) < self.switch_interval_s:  # type: ignore[attr-defined]
            return self._current
        self._current = self.choose(ctx.bitrates_bps, self.estimate_bps())
        self._last_switch_s = ctx.now_s
        return self._current
