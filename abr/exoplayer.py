"""``exoplayer``: Media3/ExoPlayer's AdaptiveTrackSelection with DefaultBandwidthMeter.

Checked line by line against androidx/media (Media3 1.x, main branch as stored):
libraries/exoplayer/src/main/java/androidx/media3/exoplayer/trackselection/
AdaptiveTrackSelection.java and .../upstream/DefaultBandwidthMeter.java,
SlidingPercentile.java, BandwidthMeter.java.

- Meter (DefaultBandwidthMeter.onTransferEnd): the sample's clock starts at
  onTransferStart, which an HTTP data source reports once the connection is open and
  the response headers are in, so the sample time excludes the time to first byte. The
  time is whole milliseconds, ``(int)(now - start)``; a sample with a positive time adds
  ``(int) sqrt(bytes)`` of weight at ``bytes * 8000f / ms`` bit/s (Java float arithmetic,
  reproduced in single precision) to a SlidingPercentile of max weight 2000
  (DEFAULT_SLIDING_WINDOW_MAX_WEIGHT), and, once ``min_elapsed_s`` (2 s,
  ELAPSED_MILLIS_FOR_ESTIMATE) of transfer time or ``min_bytes`` (512 KiB,
  BYTES_TRANSFERRED_FOR_ESTIMATE) have been seen, sets the estimate to the window's
  median, truncated to a long. Before that the estimate is the initial one:
  DEFAULT_INITIAL_BITRATE_ESTIMATE, 1 Mbps, used when the network type is unknown (the
  per-country, per-network-type tables are not modelled: a simulation has no SIM card;
  set ``initial_estimate_bps`` to one of them if you need it).
- Selection (getTotalAllocatableBandwidth / determineIdealSelectedIndex): the allocatable
  bandwidth is ``(long)(estimate * 0.7f)`` (DEFAULT_BANDWIDTH_FRACTION, float); the ideal
  rung is the highest whose bitrate is ``<=`` it, else the lowest. DefaultBandwidthMeter
  gives no time-to-first-byte estimate (BandwidthMeter's default C.TIME_UNSET), so the
  TTFB correction of getTotalAllocatableBandwidth does not apply.
- Hysteresis (updateSelectedTrack), against the rung of the last fetched chunk: go up
  only with at least ``min_buffer_up_s`` (10 s, DEFAULT_MIN_DURATION_FOR_QUALITY_INCREASE_MS)
  buffered; go down only with less than ``max_buffer_down_s`` (25 s,
  DEFAULT_MAX_DURATION_FOR_QUALITY_DECREASE_MS) buffered. The first selection takes the
  ideal rung as is.

Not modelled: evaluateQueueSize's discard of already-buffered lower-quality chunks on an
up-switch (DEFAULT_MIN_DURATION_TO_RETAIN_AFTER_DISCARD_MS 25 s, only for video of at most
1279x719): the session core never drops buffered media. The 25 s there is the retained
buffer after a discard, not the down-switch gate (that is maxDurationForQualityDecrease,
also 25 s). Live-edge scaling of the up-switch gate (bufferedFractionToLiveEdge) and
adaptation checkpoints across several adaptive tracks are not modelled either.
"""

from __future__ import annotations

import math

import numpy as np

from abr.base import AbrAlgorithm, AbrContext, Param, TransferSample
from abr.estimators import SlidingPercentileEstimator

_F32 = np.float32


def java_float_rate_bps(size_bytes: int, elapsed_ms: int) -> float:
    """``(sampleBytesTransferred * 8000f) / sampleElapsedTimeMs`` in Java float arithmetic
    (long and int promoted to float, single-precision multiply and divide)."""
    return float(_F32(_F32(size_bytes) * _F32(8000.0)) / _F32(elapsed_ms))


def java_fraction(estimate_bps: int, fraction: float) -> int:
    """``(long) (latestBitrateEstimate * bandwidthFraction)``: long x float is a float
    multiply in Java, truncated toward zero."""
    return int(_F32(estimate_bps) * _F32(fraction))


class ExoPlayer(AbrAlgorithm):
    name = "exoplayer"
    family = "throughput"
    source = "Media3 AdaptiveTrackSelection + DefaultBandwidthMeter (0.7, 10 s up, 25 s down, sliding median)"
    PARAMS = {
        "bandwidth_fraction": Param(0.7, "fraction of the estimate to use (DEFAULT_BANDWIDTH_FRACTION)", float, lo=0, lo_open=True, hi=1),
        "min_buffer_up_s": Param(10.0, "buffer needed to switch up (minDurationForQualityIncreaseMs)", float, lo=0),
        "max_buffer_down_s": Param(25.0, "switch down only below this buffer (maxDurationForQualityDecreaseMs)", float, lo=0),
        "initial_estimate_bps": Param(1_000_000.0, "estimate before the meter has enough data", float, lo=0, lo_open=True),
        "min_elapsed_s": Param(2.0, "transfer time before the meter's estimate is used", float, lo=0),
        "min_bytes": Param(524_288, "or bytes transferred before it is used", int, lo=0),
        "max_weight": Param(2000, "SlidingPercentile max weight", int, lo=1),
    }

    def check_params(self) -> None:
        up, down = self.min_buffer_up_s, self.max_buffer_down_s  # type: ignore[attr-defined]
        if down < up:
            # Media3 does not check this itself (its constructor only adjusts the discard
            # retention); with less, a buffer between the two could neither go up nor go
            # down, which no documented configuration intends (defaults 10 s / 25 s)
            raise self.param_error(f"max_buffer_down_s={down} must be >= min_buffer_up_s={up}")

    def reset(self) -> None:
        self.meter = SlidingPercentileEstimator(0.5, self.max_weight)  # type: ignore[attr-defined]
        self._elapsed_ms = 0
        self._bytes = 0
        self._estimate: int | None = None  # None: still the initial estimate

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        # onTransferStart comes after the response headers: the TTFB is not timed
        elapsed_ms = int(math.floor(sample.transfer_s * 1000.0 + 1e-6))
        self._elapsed_ms += elapsed_ms
        self._bytes += sample.size_bytes
        if elapsed_ms > 0:
            self.meter.add_weighted(int(math.sqrt(sample.size_bytes)), java_float_rate_bps(sample.size_bytes, elapsed_ms))
            if self._elapsed_ms >= 1000.0 * self.min_elapsed_s or self._bytes >= self.min_bytes:  # type: ignore[attr-defined]
                median = self.meter.estimate_bps()
                if median is not None:
                    self._estimate = int(median)

    def estimate_bps(self) -> float:
        if self._estimate is not None:
            return float(self._estimate)
        return self.initial_estimate_bps  # type: ignore[attr-defined]

    def ideal_rung(self, bitrates: tuple[int, ...]) -> int:
        allocatable = java_fraction(int(self.estimate_bps()), self.bandwidth_fraction)  # type: ignore[attr-defined]
        ideal = 0
        for i, b in enumerate(bitrates):
            if b <= allocatable:
                ideal = i
        return ideal

    def decide(self, ctx: AbrContext) -> int:
        ideal = self.ideal_rung(ctx.bitrates_bps)
        cur = ctx.last_rung
        if cur is None:
            return ideal
        if ideal > cur and ctx.buffer_s < self.min_buffer_up_s:  # type: ignore[attr-defined]
            return cur
        if ideal < cur and ctx.buffer_s >= self.max_buffer_down_s:  # type: ignore[attr-defined]
            return cur
        return ideal
