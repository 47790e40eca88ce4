"""``hlsjs``: the default ABR of hls.js 1.5 (src/controller/abr-controller.ts,
src/utils/ewma-bandwidth-estimator.ts, src/utils/ewma.ts, defaults in src/config.ts).

- Time to first byte (EwmaBandWidthEstimator.sampleTTFB / getEstimateTTFB): one EWMA
  with the slow half-life (``ewma_slow_s``, 9) over ``max(ttfb_ms, 5)``, each sample
  weighted ``sqrt(2) * exp(-ttfb_s^2 / 2)`` (long TTFBs weigh less); before any weight
  (>= 0.001) the default 100 ms. It is sampled when a fragment has loaded (FRAG_LOADED),
  before the bandwidth sample of the same fragment (FRAG_BUFFERED).
- Bandwidth (sample / getEstimate): the fragment's whole load time minus
  ``min(its TTFB, the TTFB estimate)`` (onFragBuffered's processingMs), at least 50 ms
  (minDelayMs_), gives ``8 * bytes / s``, fed to two EWMAs weighted by that time in
  seconds, half-lives ``ewma_fast_s`` 3 s and ``ewma_slow_s`` 9 s (abrEwmaFastVoD /
  abrEwmaSlowVoD); the estimate is the lower of the two, ``default_estimate_bps`` (500
  kbit/s, abrEwmaDefaultEstimate) until the fast EWMA holds a weight of 0.001.
- Level choice (findBestLevel / getNextABRAutoLevel): from the top rung down, the first
  rung with ``adjusted_bw >= bitrate`` and a fetch time (TTFB estimate + bitrate x
  segment duration / adjusted_bw) under the buffer ahead, where adjusted_bw is the
  estimate x ``bw_factor`` (0.95, abrBandWidthFactor) for the last loaded rung and lower
  and x ``bw_up_factor`` (0.7, abrBandWidthUpFactor) above it. If none fits (or the buffer
  is empty), again allowing ``min(segment duration, max_starvation_s)`` (4 s,
  maxStarvationDelay) of stall; failing that, the lowest rung if it is below the last one,
  else the last one. The first fragment: findBestLevel(estimate, 0, 4 s, factors 1).
- Emergency switch-down while a segment loads (_abandonRulesCheck, :meth:`should_abandon`):
  once loading has taken longer than max(TTFB estimate, half the segment duration), with
  the measured load rate (bytes since the first byte / time since it), if the rest of the
  fragment (its real size once the response has started - frag.bitrate comes from the
  Content-Length, stats.total - else duration x level bitrate / 8) would outlast the
  buffer, take the
  highest lower rung (above the lowest) that loads (TTFB estimate + size / rate) within
  min(buffer, duration + TTFB estimate), only if that is quicker than finishing and under
  10 x the duration; sample the partial load into the estimator, reset the estimator to
  that rung's bitrate when 0.7 x the estimate exceeds it, and refine with
  findBestLevel(that bitrate, up to that rung, stall up to the buffer, factors 1). While
  the estimator is reset, decisions use firstAutoLevel again (nextAutoLevel does so until
  canEstimate).

Checked line by line against the stored video-dev/hls.js sources: abr-controller.ts and
ewma-bandwidth-estimator.ts / ewma.ts of the 1.5-1.6 line (TTFB estimator, getTimeToLoadFrag,
_abandonRulesCheck with the resetEstimator step; the same statements appear in the
released 1.5/1.6 bundles stored), fragment.ts for frag.bitrate.

Not modelled: hls.js's bitrate-test first fragment, playlist load times of unvisited
levels (``getTimeToLoadFrag``'s ``isSwitch`` term: VoD playlists are known here), the
separate peak/average bitrates of a level (one bitrate per rung here), the codec-tier and
HDR filtering of the first selection, and the timing of the abort itself. hls.js 1.5
(PR #6082) sets the forced next level and lets the in-flight request be replaced once the
new level's playlist is in; 1.6 (PR #6763, ``abortAndSwitch``) aborts at once when the
fragment would take more than twice the down-switch load, else after that load time,
skips the abort when the choice is level 0, and then drops to the lowest level with the
estimator reset to its bitrate. VoD playlists are all known here, so the new request can
start at once: the abort is immediate and lands on the rung computed above.
"""

from __future__ import annotations

import math

from abr.base import AbrAlgorithm, AbrContext, Param, Progress, TransferSample, js_round
from abr.estimators import Ewma

_MIN_WEIGHT = 0.001  # EwmaBandWidthEstimator.minWeight_


class HlsJs(AbrAlgorithm):
    name = "hlsjs"
    family = "throughput"
    source = "hls.js 1.5 abr-controller.ts + ewma-bandwidth-estimator.ts (3 s / 9 s EWMA, TTFB EWMA, 0.95 / 0.7)"
    PARAMS = {
        "ewma_fast_s": Param(3.0, "fast EWMA half-life (abrEwmaFastVoD)", float, lo=0, lo_open=True),
        "ewma_slow_s": Param(9.0, "slow EWMA half-life (abrEwmaSlowVoD); also the TTFB EWMA's", float, lo=0, lo_open=True),
        "default_estimate_bps": Param(500_000.0, "estimate before any sample (abrEwmaDefaultEstimate)", float, lo=0, lo_open=True),
        "default_ttfb_s": Param(0.1, "TTFB estimate before any sample (defaultTTFB 100 ms)", float, lo=0),
        "bw_factor": Param(0.95, "bandwidth fraction for the last rung and lower (abrBandWidthFactor)", float, lo=0, lo_open=True, hi=1),
        "bw_up_factor": Param(0.7, "bandwidth fraction for higher rungs (abrBandWidthUpFactor)", float, lo=0, lo_open=True, hi=1),
        "max_starvation_s": Param(4.0, "stall tolerated when nothing fits without (maxStarvationDelay)", float, lo=0),
        "min_sample_s": Param(0.05, "shortest load time a bandwidth sample counts for (minDelayMs_ 50)", float, lo=0, lo_open=True),
        "emergency": Param(True, "emergency switch-down while a segment loads", bool),
    }

    def reset(self) -> None:
        self._reset_estimator(self.default_estimate_bps)  # type: ignore[attr-defined]

    def _reset_estimator(self, default_bps: float) -> None:
        # AbrController.resetEstimator: a fresh estimator (TTFB included) with a new default
        self._default_bps = default_bps
        self._fast = Ewma(self.ewma_fast_s)  # type: ignore[attr-defined]
        self._slow = Ewma(self.ewma_slow_s)  # type: ignore[attr-defined]
        self._ttfb = Ewma(self.ewma_slow_s)  # type: ignore[attr-defined]
        self._fast_weight = 0.0
        self._ttfb_weight = 0.0

    # ---- EwmaBandWidthEstimator
    def sample_ttfb(self, ttfb_ms: float) -> None:
        seconds = ttfb_ms / 1000.0
        weight = math.sqrt(2.0) * math.exp(-(seconds**2) / 2.0)
        self._ttfb.add_value(weight, max(ttfb_ms, 5.0))
        self._ttfb_weight += weight

    def sample_bandwidth(self, duration_ms: float, size_bytes: float) -> None:
        duration_s = max(duration_ms, 1000.0 * self.min_sample_s) / 1000.0  # type: ignore[attr-defined]
        bps = 8.0 * size_bytes / duration_s
        self._fast.add_value(duration_s, bps)
        self._slow.add_value(duration_s, bps)
        self._fast_weight += duration_s

    def ttfb_estimate_ms(self) -> float:
        if self._ttfb_weight >= _MIN_WEIGHT:
            v = self._ttfb.value()
            if v is not None:
                return v
        return 1000.0 * self.default_ttfb_s  # type: ignore[attr-defined]

    def ttfb_s(self) -> float:
        return self.ttfb_estimate_ms() / 1000.0

    def can_estimate(self) -> bool:
        """EwmaBandWidthEstimator.canEstimate: the fast EWMA holds a weight of 0.001."""
        return self._fast_weight >= _MIN_WEIGHT

    def estimate_bps(self) -> float:
        if self.can_estimate():
            f, s = self._fast.value(), self._slow.value()
            if f is not None and s is not None:
                return min(f, s)
        return self._default_bps

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        ttfb_ms = sample.ttfb_s * 1000.0
        self.sample_ttfb(ttfb_ms)  # FRAG_LOADED comes before FRAG_BUFFERED
        load_ms = (sample.ttfb_s + sample.transfer_s) * 1000.0
        self.sample_bandwidth(load_ms - min(ttfb_ms, self.ttfb_estimate_ms()), sample.size_bytes)

    # ---- level choice
    def find_best(self, ctx: AbrContext, bw: float, starvation_s: float, max_starvation_s: float,
                  f_down: float, f_up: float, max_rung: int | None = None) -> int:
        base = ctx.last_rung if ctx.last_rung is not None else 0
        ttfb = self.ttfb_s()
        dur = ctx.segment_duration_s
        limit = starvation_s + max_starvation_s
        top = ctx.n_rungs - 1 if max_rung is None else max_rung
        for i in range(top, -1, -1):
            adj = (f_up if i > base else f_down) * bw
            rate = ctx.bitrates_bps[i]
            fetch = ttfb + rate * dur / adj if adj > 0 else math.inf
            if adj >= rate and (fetch <= ttfb or not math.isfinite(fetch) or fetch < limit):
                return i
        return -1

    def decide(self, ctx: AbrContext) -> int:
        bw = self.estimate_bps()
        # nextAutoLevel: firstAutoLevel until a fragment has loaded *and* the estimator can
        # estimate (after the emergency rule's resetEstimator it cannot, until a sample)
        if ctx.last_rung is None or not self.can_estimate():  # firstAutoLevel
            return max(self.find_best(ctx, bw, 0.0, self.max_starvation_s, 1.0, 1.0), 0)  # type: ignore[attr-defined]
        starvation = ctx.buffer_s
        if starvation > 0:
            q = self.find_best(ctx, bw, starvation, 0.0, self.bw_factor, self.bw_up_factor)  # type: ignore[attr-defined]
            if q >= 0:
                return q
        max_starve = min(ctx.segment_duration_s, self.max_starvation_s) if ctx.segment_duration_s else self.max_starvation_s  # type: ignore[attr-defined]
        q = self.find_best(ctx, bw, starvation, max_starve, self.bw_factor, self.bw_up_factor)  # type: ignore[attr-defined]
        if q > -1:
            return q
        last = ctx.last_rung
        return 0 if ctx.bitrates_bps[0] < ctx.bitrates_bps[last] else last

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> int | None:
        if not self.emergency or progress.rung <= 0:  # type: ignore[attr-defined]
            return None
        dur = ctx.segment_duration_s
        ttfb_est_ms = self.ttfb_estimate_ms()
        elapsed_ms = progress.elapsed_s * 1000.0
        if elapsed_ms <= max(ttfb_est_ms, 1000.0 * dur / 2.0):
            return None
        buf = ctx.buffer_s
        ttfb_ms = progress.ttfb_s * 1000.0 if progress.ttfb_s is not None else -1.0
        loaded = progress.bytes_loaded
        first_byte = loaded > 0 and ttfb_ms > -1
        bw_est = self.estimate_bps()
        bitrates = ctx.bitrates_bps
        # expectedLen = max(loaded, round(duration x (frag.bitrate || level bitrate) / 8)):
        # once the response has started, frag.bitrate is byteLength x 8 / duration with
        # byteLength = stats.total (the Content-Length), i.e. the segment's real size
        frag_bps = progress.size_bytes * 8.0 / dur if first_byte and dur > 0 else bitrates[progress.rung]
        expected = max(loaded, js_round(dur * frag_bps / 8.0))
        streaming_ms = elapsed_ms - ttfb_ms if first_byte else elapsed_ms
        if streaming_ms < 1 and first_byte:
            streaming_ms = min(elapsed_ms, loaded * 8.0 / bw_est)
        load_rate = loaded * 1000.0 / streaming_ms if first_byte else 0.0  # bytes/s
        ttfb_sec = ttfb_est_ms / 1000.0
        if load_rate:
            frag_delay = (expected - loaded) / load_rate
        else:
            frag_delay = expected * 8.0 / bw_est + ttfb_sec
        if frag_delay <= buf:
            return None
        bwe = load_rate * 8.0 if load_rate else bw_est
        next_delay = math.inf
        nxt = progress.rung - 1
        while nxt > 0:
            next_delay = ttfb_sec + dur * bitrates[nxt] / bwe
            if next_delay < min(buf, dur + ttfb_sec):
                break
            nxt -= 1
        if next_delay >= frag_delay or next_delay > dur * 10:
            return None
        if first_byte:
            self.sample_bandwidth(elapsed_ms - min(ttfb_est_ms, ttfb_ms), loaded)
        else:
            self.sample_ttfb(elapsed_ms)
        next_bps = bitrates[nxt]
        if self.estimate_bps() * self.bw_up_factor > next_bps:  # type: ignore[attr-defined]
            self._reset_estimator(next_bps)
        best = self.find_best(ctx, next_bps, 0.0, buf, 1.0, 1.0, max_rung=nxt)
        return best if best > -1 else nxt

