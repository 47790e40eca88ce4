"""``dashjs``: dash.js's DYNAMIC ABR strategy (AbrController + ABRRulesCollection).

The rules of the reference player, combined as it combines them - every active rule
proposes a rung and the lowest proposal wins (ABRRulesCollection.getMinSwitchRequest):

- ThroughputRule: the highest rung within ``bandwidth_safety`` (0.9) x the mean of the
  last ``throughput_samples`` (4, VoD) segment throughputs (transfer time, latency
  excluded, as dash.js's ThroughputHistory measures).
- BolaRule (BOLA-E, :class:`abr.bola.BolaE`), including its placeholder buffer and delays.
- DYNAMIC switching between the two: BOLA once the buffer reaches ``bola_on_s`` (18 s),
  back to throughput below ``bola_off_s`` (9 s); it starts with throughput.
- InsufficientBufferRule: after a stall the lowest rung; otherwise at most the rung that
  ``insufficient_safety`` (0.7) x throughput x buffer / segment duration sustains.
- SwitchHistoryRule: per rung, drops (a decision below the previous rung) and no-drops are
  counted; once a rung has ``switch_history_samples`` (8) of them and drops / no-drops
  exceeds ``max_switch_ratio`` (0.075), proposals are capped one rung below it.
- AbandonRequestsRule (:class:`abr.abandon.DashJsAbandon`): 1.8 x segment duration after
  500 ms.
"""

from __future__ import annotations

from collections import deque

from abr.abandon import DashJsAbandon
from abr.base import AbrAlgorithm, AbrContext, Decision, Param, Progress, TransferSample, highest_rung_below
from abr.bola import BolaE


class DashJsDynamic(AbrAlgorithm):
    name = "dashjs"
    family = "hybrid"
    source = "dash.js AbrController DYNAMIC strategy: ThroughputRule, BolaRule, InsufficientBufferRule, SwitchHistoryRule, AbandonRequestsRule"
    PARAMS = {
        "bola_on_s": Param(18.0, "switch to BOLA at this buffer level", float),
        "bola_off_s": Param(9.0, "back to the throughput rule below this buffer level", float),
        "bandwidth_safety": Param(0.9, "ThroughputRule bandwidthSafetyFactor", float),
        "throughput_samples": Param(4, "samples in the mean throughput (VoD)", int),
        "insufficient_safety": Param(0.7, "InsufficientBufferRule safety factor", float),
        "switch_history_samples": Param(8, "SwitchHistoryRule SAMPLE_SIZE", int),
        "max_switch_ratio": Param(0.075, "SwitchHistoryRule MAX_SWITCH (drops / no-drops)", float),
        "abandon": Param(True, "AbandonRequestsRule (1.8 x segment duration after 500 ms)", bool),
    }

    def reset(self) -> None:
        self.bola = BolaE()
        self._rates: deque[float] = deque(maxlen=self.throughput_samples)  # type: ignore[attr-defined]
        self.using_bola = False
        self._drops: dict[int, int] = {}
        self._nodrops: dict[int, int] = {}
        self._stalled_since_load = False
        self._abandon_rule = DashJsAbandon()

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        r = sample.rate_bps
        if 0 < r < float("inf"):
            self._rates.append(r)
        self.bola.on_download(sample, ctx)

    def on_wait(self, wait_s: float) -> None:
        self.bola.on_wait(wait_s)

    def throughput_bps(self) -> float | None:
        if not self._rates:
            return None
        return sum(self._rates) / len(self._rates)

    # ---- the rules
    def throughput_rule(self, ctx: AbrContext, tput: float) -> int:
        return highest_rung_below(ctx.bitrates_bps, tput * self.bandwidth_safety)  # type: ignore[attr-defined]

    def insufficient_buffer_rule(self, ctx: AbrContext, tput: float) -> int:
        if ctx.stalled or ctx.buffer_s <= 0:
            return 0
        rate = self.insufficient_safety * tput * ctx.buffer_s / ctx.segment_duration_s  # type: ignore[attr-defined]
        return highest_rung_below(ctx.bitrates_bps, rate)

    def switch_history_rule(self, n: int) -> int:
        for q in range(n):
            d, nd = self._drops.get(q, 0), self._nodrops.get(q, 0)
            if d + nd >= self.switch_history_samples and nd > 0 and d / nd > self.max_switch_ratio:  # type: ignore[attr-defined]
                return max(q - 1, 0)
        return n - 1

    def decide(self, ctx: AbrContext) -> Decision | int:
        tput = self.throughput_bps()
        last = ctx.last_rung
        bola_d = self.bola.decide(ctx)  # keeps BOLA's state current whichever rule is active
        if tput is None or last is None:
            return 0
        buf = ctx.buffer_s
        if self.using_bola and buf < self.bola_off_s:  # type: ignore[attr-defined]
            self.using_bola = False
        elif not self.using_bola and buf >= self.bola_on_s:  # type: ignore[attr-defined]
            self.using_bola = True
        if self.using_bola:
            main = bola_d.rung if isinstance(bola_d, Decision) else int(bola_d)
            delay = bola_d.delay_s if isinstance(bola_d, Decision) else 0.0
        else:
            main = self.throughput_rule(ctx, tput)
            delay = 0.0
        q = min(main, self.insufficient_buffer_rule(ctx, tput), self.switch_history_rule(ctx.n_rungs))
        if q < main:
            delay = 0.0
        # SwitchRequestHistory: a drop is counted against the rung we left
        if q < last:
            self._drops[last] = self._drops.get(last, 0) + 1
        else:
            self._nodrops[last] = self._nodrops.get(last, 0) + 1
        return Decision(q, delay) if delay > 0 else q

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> int | None:
        if not self.abandon:  # type: ignore[attr-defined]
            return None
        return self._abandon_rule(ctx, progress)
