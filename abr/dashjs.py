"""``dashjs``: dash.js's DYNAMIC ABR strategy (AbrController + ABRRulesCollection), as
dash.js v4 (4.7) ships it. Every active rule proposes a rung (or no change) and the
lowest proposal wins (ABRRulesCollection.getMinSwitchRequest; all these rules have the
default priority); when no rule proposes anything the rung stays.

- ThroughputHistory (src/streaming/rules/ThroughputHistory.js, sliding-window mode, the
  default ``movingAverageMethod``): each segment gives a throughput in kbit/s,
  ``Math.round(8 * bytes / ms)`` over the *download* time only (``useDeadTimeLatency``
  true: the request latency is excluded), and a latency in ms (``|| 1``: a zero becomes
  1 ms). Up to 20 (MAX_MEASUREMENTS_TO_KEEP) of each are kept. A download under 50 ms
  (``cacheLoadThresholds.video``) counts as a cache hit: ignored once real measurements
  exist, and real measurements clear the history of cache hits. The average is the
  arithmetic mean of the last 4 (AVERAGE_THROUGHPUT_SAMPLE_AMOUNT_VOD) throughputs,
  widened by one sample for every ratio >= 1.3 or <= 1/1.3 between neighbouring samples
  (THROUGHPUT_INCREASE_SCALE / _DECREASE_SCALE). dash.js v4's ``getSampleSize`` compares
  ``arr[i] / arr[i - 1]`` for i = 1 .. sampleSize - 1 - the *oldest* kept samples, not
  the newest (v5 compares ``arr[arr.length - i]``); this module does the same. The
  latency is the mean of the last 4 (AVERAGE_LATENCY_SAMPLE_AMOUNT).
- AbrController.getQualityForBitrate: with a latency, if it exceeds the segment duration
  the answer is rung 0, otherwise the throughput is scaled by 1 - latency / duration
  (the "dead time" of each request); then the highest rung with bitrate <= throughput.
- ThroughputRule: the rung for ``bandwidth_safety`` (0.9, bandwidthSafetyFactor) x the
  average, with the average latency, but only while the buffer state is BUFFER_LOADED
  (buffer >= ``stall_threshold_s``, 0.3 s: BufferController._checkIfSufficientBuffer).
- BolaRule (BOLA-E, :class:`abr.bola.BolaE`), including its placeholder buffer and delays.
- DYNAMIC (AbrController._updateDynamicAbrStrategy): BOLA while buffer > on-threshold,
  kept while buffer > off-threshold = half of it (strict comparisons). dash.js v4.7 takes
  the on-threshold from ``stableBufferTime`` (12 s: 12 / 6 s, ``preset=v4``); dash.js v5
  from ``bufferTimeDefault`` (18 s: 18 / 9 s, the default here, as the issue specifies).
- InsufficientBufferRule: silent for the first 2 segments (SEGMENT_IGNORE_COUNT); rung 0
  while the buffer state is BUFFER_EMPTY; otherwise the rung for
  average x buffer / segment duration x ``insufficient_safety`` (0.7, the
  ``throughputSafetyFactor`` of dash.js's settings ``rules.insufficientBufferRule``, as the
  issue specifies; v4.7's rule used a constant 0.5, ``preset=v4``), with the average latency.
- SwitchHistoryRule + SwitchRequestHistory: every decision is recorded as a drop (new <
  old) or no-drop against the rung it left; only the last 8 decisions count
  (SWITCH_REQUEST_HISTORY_DEPTH: older ones are subtracted from the running totals).
  Walking the rungs from the lowest up and *accumulating* drops and no-drops, at the
  first rung where the accumulated count reaches 6 (SAMPLE_SIZE) and drops / no-drops >
  0.075 (MAX_SWITCH), the rule caps at that rung, or one below it when that rung itself
  has drops.
- The first segment: the rung for the initial bitrate, 1000 kbit/s
  (AbrController.getInitialBitrateFor, DEFAULT_VIDEO_BITRATE).
- AbandonRequestsRule (:class:`abr.abandon.DashJsAbandon`).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Sequence

from abr.abandon import DashJsAbandon
from abr.base import AbrAlgorithm, AbrContext, Decision, Param, Progress, TransferSample, js_round
from abr.bola import BolaE


class ThroughputHistory:
    """dash.js v4 ThroughputHistory for one media type, sliding-window mode (see the
    module docstring); throughputs in kbit/s, latencies in ms, as dash.js keeps them."""

    MAX_MEASUREMENTS_TO_KEEP = 20

    def __init__(self, samples: int = 4, latency_samples: int = 4, scale: float = 1.3,
                 dead_time_latency: bool = True, cache_threshold_ms: float = 50.0) -> None:
        self.samples = samples
        self.latency_samples = latency_samples
        self.scale = scale
        self.dead_time_latency = dead_time_latency
        self.cache_threshold_ms = cache_threshold_ms
        self.kbps: list[int] = []
        self.latency_ms: list[float] = []
        self.has_cached_entries = False

    def push(self, sample: TransferSample) -> None:
        latency_ms = sample.ttfb_s * 1000.0 or 1.0
        download_ms = sample.transfer_s * 1000.0 or 1.0
        measure_ms = download_ms if self.dead_time_latency else latency_ms + download_ms
        kbps = js_round(8.0 * sample.size_bytes / measure_ms)
        if download_ms < self.cache_threshold_ms:
            if self.kbps and not self.has_cached_entries:
                return  # a cache hit would skew real measurements
            self.has_cached_entries = True
        elif self.has_cached_entries:
            self.kbps.clear()  # real measurements replace cache hits
            self.latency_ms.clear()
            self.has_cached_entries = False
        self.kbps.append(kbps)
        self.latency_ms.append(latency_ms)
        del self.kbps[: -self.MAX_MEASUREMENTS_TO_KEEP]
        del self.latency_ms[: -self.MAX_MEASUREMENTS_TO_KEEP]

    def sample_size(self) -> int:
        arr = self.kbps
        size = self.samples
        if size >= len(arr):
            return len(arr)
        i = 1
        while i < size:  # the bound grows with size, as in the JavaScript loop
            ratio = arr[i] / arr[i - 1] if arr[i - 1] else math.inf
            if ratio >= self.scale or ratio <= 1.0 / self.scale:
                size += 1
                if size == len(arr):
                    break
            i += 1
        return size

    def average_kbps(self) -> float | None:
        if not self.kbps:
            return None
        recent = self.kbps[-self.sample_size():]
        return sum(recent) / len(recent)

    def average_latency_ms(self) -> float | None:
        if not self.latency_ms:
            return None
        recent = self.latency_ms[-self.latency_samples:]
        return sum(recent) / len(recent)


def quality_for_bitrate(bitrates_bps: Sequence[int], kbps: float, segment_duration_s: float,
                        latency_ms: float | None = None, dead_time_latency: bool = True) -> int:
    """AbrController.getQualityForBitrate: the highest rung whose bitrate is at most
    ``kbps``, after removing the requests' dead time (latency) from the segment time."""
    if dead_time_latency and latency_ms and segment_duration_s:
        latency_s = latency_ms / 1000.0
        if latency_s > segment_duration_s:
            return 0
        kbps = kbps * (1.0 - latency_s / segment_duration_s)
    for i in range(len(bitrates_bps) - 1, -1, -1):
        if kbps * 1000.0 >= bitrates_bps[i]:
            return i
    return 0


class SwitchRequestHistory:
    """dash.js SwitchRequestHistory + SwitchHistoryRule (see the module docstring)."""

    def __init__(self, depth: int = 8, sample_size: int = 6, max_switch: float = 0.075) -> None:
        self.depth = depth
        self.sample_size = sample_size
        self.max_switch = max_switch
        self.drops: dict[int, int] = {}
        self.no_drops: dict[int, int] = {}
        self.history: deque[tuple[int, int]] = deque()  # (old rung, 1 if a drop)

    def push(self, old: int, new: int) -> None:
        drop = 1 if new < old else 0
        self.drops[old] = self.drops.get(old, 0) + drop
        self.no_drops[old] = self.no_drops.get(old, 0) + 1 - drop
        self.history.append((old, drop))
        if len(self.history) > self.depth:
            o, d = self.history.popleft()
            self.drops[o] -= d
            self.no_drops[o] -= 1 - d

    def max_rung(self, n_rungs: int) -> int | None:
        """The rule's cap, or None (no change requested)."""
        drops = no_drops = 0
        for i in range(n_rungs):
            if i not in self.drops:
                continue
            drops += self.drops[i]
            no_drops += self.no_drops[i]
            ratio = drops / no_drops if no_drops else (math.inf if drops else math.nan)
            if drops + no_drops >= self.sample_size and ratio > self.max_switch:
                return i - 1 if i > 0 and self.drops[i] > 0 else i
        return None


class DashJsDynamic(AbrAlgorithm):
    name = "dashjs"
    family = "hybrid"
    source = (
        "dash.js v4 AbrController DYNAMIC strategy: ThroughputRule + ThroughputHistory, BolaRule, "
        "InsufficientBufferRule, SwitchHistoryRule, AbandonRequestsRule"
    )
    PARAMS = {
        "bola_on_s": Param(18.0, "BOLA once the buffer exceeds this (dash.js v5 bufferTimeDefault; v4: stableBufferTime 12)", float, lo=0),
        "bola_off_s": Param(9.0, "back to the throughput rule at or below this (half the on-threshold)", float, lo=0),
        "bandwidth_safety": Param(0.9, "ThroughputRule bandwidthSafetyFactor", float, lo=0, lo_open=True, hi=1),
        "throughput_samples": Param(4, "AVERAGE_THROUGHPUT_SAMPLE_AMOUNT_VOD (before widening)", int, lo=1),
        "throughput_scale": Param(1.3, "THROUGHPUT_INCREASE_SCALE / _DECREASE_SCALE: a ratio this large widens the window", float, lo=1, lo_open=True),
        "dead_time_latency": Param(True, "useDeadTimeLatency: throughput over the download time, rung choice discounts latency", bool),
        "cache_threshold_ms": Param(50.0, "cacheLoadThresholds.video: faster downloads count as cache hits", float, lo=0),
        "stall_threshold_s": Param(0.3, "buffer below this is BUFFER_EMPTY (streaming.buffer.stallThreshold)", float, lo=0),
        "insufficient_safety": Param(0.7, "InsufficientBufferRule throughputSafetyFactor (dash.js settings rules.insufficientBufferRule; v4.7's rule constant was 0.5)", float, lo=0, lo_open=True, hi=1),
        "insufficient_ignore": Param(2, "InsufficientBufferRule SEGMENT_IGNORE_COUNT", int, lo=0),
        "switch_history_depth": Param(8, "SWITCH_REQUEST_HISTORY_DEPTH: decisions remembered", int, lo=1),
        "switch_history_samples": Param(6, "SwitchHistoryRule SAMPLE_SIZE", int, lo=1),
        "max_switch_ratio": Param(0.075, "SwitchHistoryRule MAX_SWITCH (drops / no-drops)", float, lo=0),
        "initial_bitrate_bps": Param(1_000_000, "first segment at the rung for this (DEFAULT_VIDEO_BITRATE 1000 kbit/s)", int, lo=0, lo_open=True),
        # not "abandon": that key attaches a rule to any algorithm (abr.registry)
        "abandon_requests": Param(True, "AbandonRequestsRule (additionalAbrRules.abandonRequestsRule)", bool),
    }
    PRESETS = {
        # dash.js v4.7: the DYNAMIC thresholds come from stableBufferTime (12 s) and the
        # InsufficientBufferRule used its INSUFFICIENT_BUFFER_SAFETY_FACTOR constant 0.5.
        "v4": {"bola_on_s": 12.0, "bola_off_s": 6.0, "insufficient_safety": 0.5},
    }

    def check_params(self) -> None:
        on, off = self.bola_on_s, self.bola_off_s  # type: ignore[attr-defined]
        if off > on:  # the hysteresis band: BOLA above on, back to throughput at or below off
            raise self.param_error(f"bola_off_s={off} must be <= bola_on_s={on}")
        depth, samples = self.switch_history_depth, self.switch_history_samples  # type: ignore[attr-defined]
        if samples > depth:  # the rule needs `samples` decisions and remembers `depth`
            raise self.param_error(
                f"switch_history_samples={samples} must be <= switch_history_depth={depth} "
                "(else the SwitchHistoryRule never fires)"
            )

    def reset(self) -> None:
        self.bola = BolaE()
        self.history = ThroughputHistory(
            self.throughput_samples, 4, self.throughput_scale,  # type: ignore[attr-defined]
            self.dead_time_latency, self.cache_threshold_ms,  # type: ignore[attr-defined]
        )
        self.switches = SwitchRequestHistory(
            self.switch_history_depth, self.switch_history_samples, self.max_switch_ratio,  # type: ignore[attr-defined]
        )
        self.using_bola = False
        self._appended = 0
        self._abandon_rule = DashJsAbandon()

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        self.history.push(sample)
        self._appended += 1
        self.bola.on_download(sample, ctx)

    def on_wait(self, wait_s: float) -> None:
        self.bola.on_wait(wait_s)

    def throughput_bps(self) -> float | None:
        kbps = self.history.average_kbps()
        return None if kbps is None else kbps * 1000.0

    def _quality(self, ctx: AbrContext, kbps: float) -> int:
        return quality_for_bitrate(
            ctx.bitrates_bps, kbps, ctx.segment_duration_s, self.history.average_latency_ms(), self.dead_time_latency,  # type: ignore[attr-defined]
        )

    # ---- the rules (None: no change requested)
    def throughput_rule(self, ctx: AbrContext) -> int | None:
        avg = self.history.average_kbps()
        if avg is None or ctx.buffer_s < self.stall_threshold_s:  # type: ignore[attr-defined]
            return None
        return self._quality(ctx, avg * self.bandwidth_safety)  # type: ignore[attr-defined]

    def insufficient_buffer_rule(self, ctx: AbrContext) -> int | None:
        if self._appended < self.insufficient_ignore:  # type: ignore[attr-defined]
            return None
        if ctx.buffer_s < self.stall_threshold_s:  # type: ignore[attr-defined]
            return 0
        avg = self.history.average_kbps()
        if avg is None:
            return 0  # NaN throughput: no rung qualifies, QUALITY_DEFAULT
        kbps = avg * (ctx.buffer_s / ctx.segment_duration_s) * self.insufficient_safety  # type: ignore[attr-defined]
        return self._quality(ctx, kbps)

    def switch_history_rule(self, n_rungs: int) -> int | None:
        return self.switches.max_rung(n_rungs)

    def first_rung(self, ctx: AbrContext) -> int:
        return quality_for_bitrate(ctx.bitrates_bps, self.initial_bitrate_bps / 1000.0, ctx.segment_duration_s)  # type: ignore[attr-defined]

    def decide(self, ctx: AbrContext) -> Decision | int:
        bola_d = self.bola.decide(ctx)  # keeps BOLA's state current whichever rule is active
        last = ctx.last_rung
        if last is None:
            return self.first_rung(ctx)
        buf = ctx.buffer_s
        self.using_bola = buf > (self.bola_off_s if self.using_bola else self.bola_on_s)  # type: ignore[attr-defined]
        proposals: list[int] = []
        delay = 0.0
        bola_q = None
        if self.using_bola:
            bola_q = bola_d.rung if isinstance(bola_d, Decision) else int(bola_d)
            delay = bola_d.delay_s if isinstance(bola_d, Decision) else 0.0
            proposals.append(bola_q)
        else:
            q = self.throughput_rule(ctx)
            if q is not None:
                proposals.append(q)
        for q in (self.insufficient_buffer_rule(ctx), self.switch_history_rule(ctx.n_rungs)):
            if q is not None:
                proposals.append(q)
        q = min(proposals) if proposals else last
        if q != bola_q:
            delay = 0.0
        self.switches.push(last, q)
        return Decision(q, delay) if delay > 0 else q

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> int | None:
        if not self.abandon_requests:  # type: ignore[attr-defined]
            return None
        return self._abandon_rule(ctx, progress)
