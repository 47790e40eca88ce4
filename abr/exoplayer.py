"""``exoplayer``: Media3/ExoPlayer's AdaptiveTrackSelection with DefaultBandwidthMeter.

- Meter (DefaultBandwidthMeter): a sliding median (SlidingPercentile, 0.5) of transfer
  rates, each weighted sqrt(bytes), oldest dropped past a total weight of 2000; it is
  used once ``min_elapsed_s`` (2 s, ELAPSED_MILLIS_FOR_ESTIMATE) of transfers or
  ``min_bytes`` (512 kB, BYTES_TRANSFERRED_FOR_ESTIMATE) have been seen, else the initial
  estimate (DEFAULT_INITIAL_BITRATE_ESTIMATE, 1 Mbps).
- Ideal rung: the highest whose bitrate fits ``bandwidth_fraction`` (0.7) x estimate.
- Hysteresis (updateSelectedTrack): go up only with at least ``min_buffer_up_s`` (10 s,
  minDurationForQualityIncreaseMs) buffered; go down only with less than
  ``max_buffer_down_s`` (25 s, maxDurationForQualityDecreaseMs) buffered.
"""

from __future__ import annotations

from abr.base import AbrAlgorithm, AbrContext, Param, TransferSample, highest_rung_below
from abr.estimators import SlidingPercentileEstimator


class ExoPlayer(AbrAlgorithm):
    name = "exoplayer"
    family = "throughput"
    source = "Media3 AdaptiveTrackSelection + DefaultBandwidthMeter (0.7, 10 s up, 25 s down, sliding median)"
    PARAMS = {
        "bandwidth_fraction": Param(0.7, "fraction of the estimate to use (DEFAULT_BANDWIDTH_FRACTION)", float),
        "min_buffer_up_s": Param(10.0, "buffer needed to switch up (minDurationForQualityIncreaseMs)", float),
        "max_buffer_down_s": Param(25.0, "switch down only below this buffer (maxDurationForQualityDecreaseMs)", float),
        "initial_estimate_bps": Param(1_000_000.0, "estimate before the meter has enough data", float),
        "min_elapsed_s": Param(2.0, "transfer time before the meter's estimate is used", float),
        "min_bytes": Param(524_288, "or bytes transferred before it is used", int),
        "max_weight": Param(2000.0, "SlidingPercentile max weight", float),
    }

    def reset(self) -> None:
        self.meter = SlidingPercentileEstimator(0.5, self.max_weight, include_latency=True)  # type: ignore[attr-defined]
        self._elapsed = 0.0
        self._bytes = 0

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        if sample.duration_s <= 0:
            return
        self.meter.add(sample)
        self._elapsed += sample.duration_s
        self._bytes += sample.size_bytes

    def estimate_bps(self) -> float:
        if self._elapsed >= self.min_elapsed_s or self._bytes >= self.min_bytes:  # type: ignore[attr-defined]
            est = self.meter.estimate_bps()
            if est is not None:
                return est
        return self.initial_estimate_bps  # type: ignore[attr-defined]

    def decide(self, ctx: AbrContext) -> int:
        ideal = highest_rung_below(ctx.bitrates_bps, self.bandwidth_fraction * self.estimate_bps())  # type: ignore[attr-defined]
        cur = ctx.last_rung
        if cur is None:
            return ideal
        if ideal > cur and ctx.buffer_s < self.min_buffer_up_s:  # type: ignore[attr-defined]
            return cur
        if ideal < cur and ctx.buffer_s >= self.max_buffer_down_s:  # type: ignore[attr-defined]
            return cur
        return ideal
