"""``hlsjs``: the default ABR of hls.js (src/controller/abr-controller.ts,
src/utils/ewma-bandwidth-estimator.ts, default config in src/config.ts).

- Estimate: two EWMAs of segment throughput weighted by transfer time, half-lives
  ``ewma_fast_s`` 3 s and ``ewma_slow_s`` 9 s (abrEwmaFastVoD / abrEwmaSlowVoD), the lower
  of the two; transfers shorter than 50 ms count as 50 ms; before any sample
  ``default_estimate_bps`` (abrEwmaDefaultEstimate, 500 kbps). Time to first byte has its
  own EWMA (same half-lives, the mean of the two), default 100 ms.
- Level choice (findBestLevel): from the top rung down, the first rung whose bitrate is
  below the estimate x ``bw_factor`` (0.95, abrBandWidthFactor) for the current rung and
  lower, x ``bw_up_factor`` (0.7, abrBandWidthUpFactor) for higher rungs, and whose fetch
  time (TTFB + bitrate x duration / that bandwidth) is below the buffer ahead. If none
  fits, again allowing up to ``max_starvation_s`` (4 s, maxStarvationDelay, capped at a
  segment duration; maxLoadingDelay 4 s at startup with both factors at 1) of stall;
  failing that, the lowest rung.
- Emergency switch-down while a segment loads (_abandonRulesCheck, :meth:`should_abandon`):
  once loading has taken longer than half the segment's duration, if the buffer ahead is
  under two segment durations and the rest of this load would outlast the buffer, drop
  to the highest lower rung that would load within the buffer at 0.8 x the measured load
  rate (plus TTFB), or the lowest; only if that finishes sooner than staying.
"""

from __future__ import annotations

from abr.base import AbrAlgorithm, AbrContext, Param, Progress, TransferSample
from abr.estimators import Ewma


class HlsJs(AbrAlgorithm):
    name = "hlsjs"
    family = "throughput"
    source = "hls.js abr-controller.ts + ewma-bandwidth-estimator.ts (3 s / 9 s EWMA, 0.95 / 0.7)"
    PARAMS = {
        "ewma_fast_s": Param(3.0, "fast EWMA half-life (abrEwmaFastVoD)", float),
        "ewma_slow_s": Param(9.0, "slow EWMA half-life (abrEwmaSlowVoD)", float),
        "default_estimate_bps": Param(500_000.0, "estimate before any sample (abrEwmaDefaultEstimate)", float),
        "bw_factor": Param(0.95, "bandwidth fraction for the current rung and lower (abrBandWidthFactor)", float),
        "bw_up_factor": Param(0.7, "bandwidth fraction for higher rungs (abrBandWidthUpFactor)", float),
        "max_starvation_s": Param(4.0, "stall tolerated when nothing fits without (maxStarvationDelay)", float),
        "max_loading_s": Param(4.0, "stall tolerated at startup (maxLoadingDelay)", float),
        "min_sample_s": Param(0.05, "shortest transfer time a sample counts for (minDelayMs_ 50)", float),
        "emergency": Param(True, "emergency switch-down while a segment loads", bool),
    }

    def reset(self) -> None:
        self._fast = Ewma(self.ewma_fast_s)  # type: ignore[attr-defined]
        self._slow = Ewma(self.ewma_slow_s)  # type: ignore[attr-defined]
        self._ttfb_fast = Ewma(self.ewma_fast_s)  # type: ignore[attr-defined]
        self._ttfb_slow = Ewma(self.ewma_slow_s)  # type: ignore[attr-defined]

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        dur = max(sample.duration_s, self.min_sample_s)  # type: ignore[attr-defined]
        bw = sample.size_bytes * 8.0 / dur
        self._fast.add_value(dur, bw)
        self._slow.add_value(dur, bw)
        self._ttfb_fast.add_value(dur, sample.ttfb_s)
        self._ttfb_slow.add_value(dur, sample.ttfb_s)

    def estimate_bps(self) -> float:
        f, s = self._fast.value(), self._slow.value()
        if f is None or s is None:
            return self.default_estimate_bps  # type: ignore[attr-defined]
        return min(f, s)

    def ttfb_s(self) -> float:
        f, s = self._ttfb_fast.value(), self._ttfb_slow.value()
        if f is None or s is None:
            return 0.1
        return (f + s) / 2.0

    def find_best(self, ctx: AbrContext, bw: float, starvation_s: float, max_starvation_s: float, f_down: float, f_up: float) -> int:
        cur = ctx.last_rung if ctx.last_rung is not None else 0
        ttfb = self.ttfb_s()
        dur = ctx.segment_duration_s
        limit = starvation_s + max_starvation_s
        for i in range(ctx.n_rungs - 1, -1, -1):
            adj = (f_down if i <= cur else f_up) * bw
            rate = ctx.bitrates_bps[i]
            if adj <= rate:
                continue
            fetch = ttfb + rate * dur / adj
            if fetch < limit:
                return i
        return -1

    def decide(self, ctx: AbrContext) -> int:
        bw = self.estimate_bps()
        starvation = ctx.buffer_s
        q = self.find_best(ctx, bw, starvation, 0.0, self.bw_factor, self.bw_up_factor)  # type: ignore[attr-defined]
        if q >= 0:
            return q
        if starvation <= 0:
            # starting up: tolerate maxLoadingDelay, factors at 1
            q = self.find_best(ctx, bw, 0.0, self.max_loading_s, 1.0, 1.0)  # type: ignore[attr-defined]
        else:
            max_starve = min(ctx.segment_duration_s, self.max_starvation_s)  # type: ignore[attr-defined]
            q = self.find_best(ctx, bw, starvation, max_starve, self.bw_factor, self.bw_up_factor)  # type: ignore[attr-defined]
        return max(q, 0)

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> int | None:
        if not self.emergency or progress.rung == 0:  # type: ignore[attr-defined]
            return None
        dur = ctx.segment_duration_s
        if progress.elapsed_s <= 0.5 * dur:
            return None
        buf = ctx.buffer_s
        if buf > 2 * dur:
            return None
        ttfb = progress.ttfb_s or 0.0
        load_s = progress.elapsed_s - ttfb
        if load_s <= 0 or progress.bytes_loaded <= 0:
            return None
        rate = progress.bytes_loaded * 8.0 / load_s
        left = (progress.size_bytes - progress.bytes_loaded) * 8.0 / rate
        if left <= buf:
            return None
        best = None
        for q in range(progress.rung - 1, -1, -1):
            t = self.ttfb_s() + dur * ctx.bitrates_bps[q] / (0.8 * rate)
            best = (q, t)
            if t < buf:
                break
        if best is None or best[1] >= left:
            return None
        return best[0]
