"""``bola``: BOLA-BASIC, Spiteri, Urgaonkar and Sitaraman, "BOLA: Near-Optimal Bitrate
Adaptation for Online Videos", INFOCOM 2016.

Utility v_m = ln(S_m / S_1) (log utility), and for the next segment the rung maximising

    (V * (v_m + gamma_p) - Q) / S_m

where Q is the buffer level. V follows from the buffer target: the lowest rung's score
turns negative only when Q exceeds V (v_M + gamma_p), which is set to
``buffer_s - segment duration`` so BOLA never overfills (Sabre: ``Vp = (buffer_size -
segment_time) / (utilities[-1] + gp)``). Defaults are Sabre's (gamma_p = 5,
buffer_s = 25 s). ``sizes="nominal"`` uses the rung bitrates for S_m as Sabre does;
``sizes="actual"`` uses the next segment's real sizes (the paper's VBR form).
"""

from __future__ import annotations

import math

from abr.base import AbrAlgorithm, AbrContext, AbrError, Param


class BolaBasic(AbrAlgorithm):
    name = "bola"
    family = "buffer"
    source = "Spiteri et al., INFOCOM 2016 (BOLA-BASIC); defaults from Sabre (UMass-LIDS/sabre)"
    PARAMS = {
        "gamma_p": Param(5.0, "gamma * p: weight of rebuffering avoidance (utility units)", float),
        "buffer_s": Param(25.0, "buffer target Q_max in seconds; sets V", float),
        "sizes": Param("nominal", "'nominal' (rung bitrates) or 'actual' (next segment sizes)", str, ("nominal", "actual")),
    }

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        if self.gamma_p <= 0:  # type: ignore[attr-defined]
            raise AbrError("bola: gamma_p must be positive")
        if self.buffer_s <= 0:  # type: ignore[attr-defined]
            raise AbrError("bola: buffer_s must be positive")

    def reset(self) -> None:
        self._key: tuple[object, float] | None = None
        self._tops: list[float] = []
        self._utilities: list[float] = []

    def utilities(self, bitrates: tuple[int, ...]) -> list[float]:
        """v_m = ln(S_m / S_1) with S the rung bitrates (so v_1 = 0)."""
        return [math.log(b / bitrates[0]) for b in bitrates]

    def v(self, ctx: AbrContext) -> float:
        u = self.utilities(ctx.bitrates_bps)
        return (self.buffer_s - ctx.segment_duration_s) / (u[-1] + self.gamma_p)  # type: ignore[attr-defined]

    def _prepare(self, ctx: AbrContext) -> list[float]:
        # V (v_m + gamma_p) per rung depends only on the ladder and segment duration.
        key = (ctx.bitrates_bps, ctx.segment_duration_s)
        if self._key != key:
            self._key = key
            u = self.utilities(ctx.bitrates_bps)
            vp = self.v(ctx)
            gp = self.gamma_p  # type: ignore[attr-defined]
            self._tops = [vp * (um + gp) for um in u]
        return self._tops

    def scores(self, ctx: AbrContext) -> list[float]:
        """The BOLA objective (V (v_m + gamma_p) - Q) / S_m for every rung."""
        tops = self._prepare(ctx)
        q = ctx.buffer_s
        sizes = ctx.next_sizes_bytes if self.sizes == "actual" else ctx.bitrates_bps  # type: ignore[attr-defined]
        return [(t - q) / s for t, s in zip(tops, sizes)]

    def decide(self, ctx: AbrContext) -> int:
        tops = self._prepare(ctx)
        q = ctx.buffer_s
        sizes = ctx.next_sizes_bytes if self.sizes == "actual" else ctx.bitrates_bps  # type: ignore[attr-defined]
        best = 0
        best_score = (tops[0] - q) / sizes[0]
        for i in range(1, len(tops)):
            sc = (tops[i] - q) / sizes[i]
            if sc > best_score:
                best = i
                best_score = sc
        return best
