"""``fixed``: always the same rung (a baseline and a debugging aid).

``rung`` counts from the lowest rung (0) or, when negative, from the top (-1 = highest),
as Python indexes a list. A rung beyond the ladder is *clamped* to the nearest end (99
on a 6-rung ladder is rung 5, -99 is rung 0) rather than refused: one spec runs over
titles with different ladders and over a title's audio track too (the same algorithm
plays both pipelines), and the ladder is only known when the session decides. A clamped
decision says so in its ``reason``.
"""

from __future__ import annotations

from abr.base import AbrAlgorithm, AbrContext, Decision, Param


class Fixed(AbrAlgorithm):
    name = "fixed"
    family = "baseline"
    source = "none (constant rung)"
    PARAMS = {
        "rung": Param(0, "rung index; negative counts from the top (-1 = highest); beyond the ladder: clamped to its nearest end", int),
    }

    def decide(self, ctx: AbrContext) -> Decision | int:
        n = len(ctx.bitrates_bps)
        want = self.rung  # type: ignore[attr-defined]
        r = want if want >= 0 else n + want
        if 0 <= r < n:
            return r
        got = min(max(r, 0), n - 1)
        return Decision(got, reason=f"fixed: rung={want} is outside the {n}-rung ladder, clamped to rung {got}")
