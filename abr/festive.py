"""``festive``: FESTIVE, Jiang, Sekar and Zhang, "Improving Fairness, Efficiency, and
Stability in HTTP-based Adaptive Video Streaming with FESTIVE", CoNEXT 2012.

- Bandwidth estimate: harmonic mean of the last ``window`` (20) segment throughputs.
- Target: the highest rung at or below ``target_fraction`` (0.85) x estimate.
- Gradual switching: down by one rung at once; up by one rung only, and only once the
  target has been above the current rung for k decisions in a row, k being the current
  rung's level counting from 1 at the lowest (the paper's "from level k to k+1 only after
  k chunks"). The count (``up_count=wishes``, the default) is kept as the public
  reimplementation ported from Pensieve keeps it (switchUpCount, cross-checked): +1 at
  each decision whose target is above the current rung, back to 0 at a decision whose
  target is not, and after a switch up; a decision kept at the current rung by the cost
  comparison below does not reset it. ``up_count=run`` counts instead the segments
  fetched in a row at the current rung, whatever the target (abrlab's earlier reading of
  the paper, kept for comparison).
- Delayed update: between the current rung and that reference rung, take the one with
  the lower combined cost  stability + ``alpha`` x efficiency, where stability =
  2^(switches in the last ``stability_window_s`` (20 s)), plus one switch for changing,
  and efficiency = |b / min(w, b_ref) - 1| with w the bandwidth estimate itself (§5.3:
  "w is the estimated bandwidth and b_ref is the reference bitrate"; the 0.85 factor
  only picks the target); alpha = 12 (the paper's value). The current rung wins ties.
- Randomized scheduling: each request waits until the buffer is at most a target drawn
  uniformly from ``target_buffer_s`` +/- one segment (the paper randomizes the start
  time of requests around the target buffer to break synchronisation between players).
  ``seed`` makes the draws reproducible; ``randomize=false`` waits for the plain target.
"""

from __future__ import annotations

import random
from collections import deque

from abr.base import AbrAlgorithm, AbrContext, Decision, Param, TransferSample, highest_rung_below


class Festive(AbrAlgorithm):
    name = "festive"
    family = "throughput"
    source = "Jiang, Sekar and Zhang, CoNEXT 2012 (FESTIVE): harmonic mean of 20, 0.85, alpha = 12"
    PARAMS = {
        "window": Param(20, "throughput samples in the harmonic mean", int, lo=1),
        "target_fraction": Param(0.85, "fraction of the estimate the target rung may use (p)", float, lo=0, lo_open=True, hi=1),
        "alpha": Param(12.0, "weight of the efficiency cost against the stability cost", float, lo=0),
        "stability_window_s": Param(20.0, "switches counted for the stability cost over this many seconds", float, lo=0),
        "target_buffer_s": Param(30.0, "randomized scheduling: target buffer level", float, lo=0, lo_open=True),
        "randomize": Param(True, "draw the target buffer uniformly within +/- one segment", bool),
        "seed": Param(0, "seed of the randomized scheduling", int),
        "up_count": Param("wishes", "what the gradual switch-up counts: consecutive decisions wanting up, "
                          "or segments in a row at the current rung", str, choices=("wishes", "run")),
    }

    def reset(self) -> None:
        self._rates: deque[float] = deque(maxlen=self.window)  # type: ignore[attr-defined]
        self._switch_times: deque[float] = deque()
        self._run = 0  # segments fetched in a row at the current rung (up_count=run)
        self._wishes = 0  # decisions in a row whose target was above the current rung
        self._current: int | None = None
        self._rng = random.Random(self.seed)  # type: ignore[attr-defined]

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        r = sample.rate_bps
        if r > 0 and r != float("inf"):
            self._rates.append(r)

    def estimate_bps(self) -> float | None:
        if not self._rates:
            return None
        return len(self._rates) / sum(1.0 / r for r in self._rates)

    def reference_rung(self, cur: int, est: float, bitrates: tuple[int, ...]) -> int:
        target = highest_rung_below(bitrates, self.target_fraction * est)  # type: ignore[attr-defined]
        k = cur + 1  # the paper's level of the current rung, counting from 1
        if target > cur:
            if self.up_count == "run":  # type: ignore[attr-defined]
                return cur + 1 if self._run >= k else cur
            self._wishes += 1
            return cur + 1 if self._wishes >= k else cur
        self._wishes = 0
        return cur - 1 if target < cur else cur

    def cost(self, b: int, cur: int, ref: int, est: float, bitrates: tuple[int, ...], now: float) -> float:
        while self._switch_times and self._switch_times[0] < now - self.stability_window_s:  # type: ignore[attr-defined]
            self._switch_times.popleft()
        n = len(self._switch_times) + (1 if b != cur else 0)
        stability = 2.0**n
        denom = min(bitrates[ref], est)
        efficiency = abs(bitrates[b] / denom - 1.0) if denom > 0 else 0.0
        return stability + self.alpha * efficiency  # type: ignore[attr-defined]

    def decide(self, ctx: AbrContext) -> Decision | int:
        est = self.estimate_bps()
        bitrates = ctx.bitrates_bps
        cur = ctx.last_rung
        if est is None or cur is None:
            rung = 0
        else:
            ref = self.reference_rung(cur, est, bitrates)
            rung = cur
            if ref != cur:
                c_cur = self.cost(cur, cur, ref, est, bitrates, ctx.now_s)
                c_ref = self.cost(ref, cur, ref, est, bitrates, ctx.now_s)
                if c_ref < c_cur:  # the current rung wins ties
                    rung = ref
                    if ref > cur:
                        self._wishes = 0
        if rung != self._current:
            if self._current is not None:
                self._switch_times.append(ctx.now_s)
            self._current = rung
            self._run = 1
        else:
            self._run += 1
        target = self.target_buffer_s  # type: ignore[attr-defined]
        if self.randomize:  # type: ignore[attr-defined]
            target += self._rng.uniform(-ctx.segment_duration_s, ctx.segment_duration_s)
        delay = ctx.buffer_s - target
        return Decision(rung, delay) if delay > 0 else rung
