"""``shaka``: Shaka Player's SimpleAbrManager (lib/abr/simple_abr_manager.js,
ewma_bandwidth_estimator.js, ewma.js, defaults in lib/util/player_configuration.js;
checked against the stored shaka-project/shaka-player sources, v3/v4 era).

- Estimate (EwmaBandwidthEstimator.sample): transfers under ``min_sample_bytes``
  (abr.advanced.minBytes, 16e3) are ignored; the others count ``8000 * bytes / ms`` at a
  weight of their duration in seconds *including* the time to first byte ("our models do
  not include latency information") in two EWMAs, half-lives ``ewma_fast_s`` 2 s and
  ``ewma_slow_s`` 5 s (fastHalfLife / slowHalfLife); the estimate is the lower one once
  ``min_total_bytes`` (minTotalBytes, 128e3) have been sampled, else
  ``default_estimate_bps`` (abr.defaultBandwidthEstimate: 1e6 since v2.3, 500e3 before;
  ``shaka:preset=v2`` uses the old value; the NetworkInformation ``downlink`` override
  of a browser is not modelled).
- Choice (chooseVariant): variant i is acceptable when the estimate is within
  [b_i / ``downgrade_target``, b_(i+1) / ``upgrade_target``] (0.95 and 0.85); the highest
  acceptable rung wins (the lowest if none is).
- When it chooses: once at start (the default estimate), then from segmentDownloaded,
  i.e. when a transfer ends (``on_download``, at the sample's end time), never at request
  time: suggestStreams_ waits for a good estimate (128 kB sampled) the first time, then
  for ``switch_interval_s`` (abr.switchInterval, 8 s) since the last time a variant was
  *chosen* (lastTimeChosenMs_ is set on every chooseVariant, even one that keeps the
  current variant). The choice holds for every request until the next one.

Not modelled (v4 additions, off or neutral by default here): cacheLoadThreshold,
minTimeToSwitch, clearBufferSwitch / safeMarginSwitch, restrictions to the element or
screen size, the NetworkInformation estimate.
"""

from __future__ import annotations

from abr.base import AbrAlgorithm, AbrContext, Param, TransferSample
from abr.estimators import Ewma


class Shaka(AbrAlgorithm):
    name = "shaka"
    family = "throughput"
    source = "Shaka Player SimpleAbrManager (EWMA 2 s / 5 s, 16 kB / 128 kB, 8 s, 0.85 / 0.95)"
    PARAMS = {
        "ewma_fast_s": Param(2.0, "fast EWMA half-life", float, lo=0, lo_open=True),
        "ewma_slow_s": Param(5.0, "slow EWMA half-life", float, lo=0, lo_open=True),
        "min_sample_bytes": Param(16_000, "transfers smaller than this are not sampled", int, lo=0),
        "min_total_bytes": Param(128_000, "bytes sampled before the estimate is trusted", int, lo=0),
        "default_estimate_bps": Param(1_000_000.0, "estimate before that (abr.defaultBandwidthEstimate)", float, lo=0, lo_open=True),
        "switch_interval_s": Param(8.0, "minimum time between switches (abr.switchInterval)", float, lo=0),
        "upgrade_target": Param(0.85, "abr.bandwidthUpgradeTarget", float, lo=0, lo_open=True, hi=1),
        "downgrade_target": Param(0.95, "abr.bandwidthDowngradeTarget", float, lo=0, lo_open=True, hi=1),
    }

    PRESETS = {"v2": {"default_estimate_bps": 500_000.0}}

    def reset(self) -> None:
        self._fast = Ewma(self.ewma_fast_s)  # type: ignore[attr-defined]
        self._slow = Ewma(self.ewma_slow_s)  # type: ignore[attr-defined]
        self._bytes = 0
        self._current: int | None = None
        self._bitrates: tuple[int, ...] = ()
        self._last_chosen_s: float | None = None  # lastTimeChosenMs_
        self._startup_done = False

    def sample(self, duration_s: float, size_bytes: int) -> None:
        """EwmaBandwidthEstimator.sample(durationMs, numBytes)."""
        if size_bytes < self.min_sample_bytes or duration_s <= 0:  # type: ignore[attr-defined]
            return
        self._bytes += size_bytes
        bw = size_bytes * 8.0 / duration_s
        self._fast.add_value(duration_s, bw)
        self._slow.add_value(duration_s, bw)

    def on_download(self, sample: TransferSample, ctx: AbrContext | None) -> None:
        # SimpleAbrManager.segmentDownloaded: sample, then maybe suggest a new variant
        self.sample(sample.duration_s, sample.size_bytes)
        if self._last_chosen_s is not None:
            self.suggest(sample.t_s)

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

    def choose_variant(self, now_s: float) -> int:
        """chooseVariant: pick from the estimate and note the time."""
        self._current = self.choose(self._bitrates, self.estimate_bps())
        self._last_chosen_s = now_s
        return self._current

    def suggest(self, now_s: float) -> None:
        """suggestStreams_: the startup gate, then the switch interval."""
        if not self._startup_done:
            if not self.has_good_estimate():
                return
            self._startup_done = True
        elif now_s - (self._last_chosen_s or 0.0) < self.switch_interval_s:  # type: ignore[attr-defined]
            return
        self.choose_variant(now_s)

    def decide(self, ctx: AbrContext) -> int:
        if self._current is None:
            # the initial choice, from the default estimate (Player start-up)
            self._bitrates = tuple(ctx.bitrates_bps)
            return self.choose_variant(ctx.now_s)
        return self._current
