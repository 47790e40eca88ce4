"""``fixed``: always the same rung (a baseline and a debugging aid)."""

from __future__ import annotations

from abr.base import AbrAlgorithm, AbrContext, Param


class Fixed(AbrAlgorithm):
    name = "fixed"
    family = "baseline"
    source = "none (constant rung)"
    PARAMS = {
        "rung": Param(0, "rung index; negative counts from the top (-1 = highest)", int),
    }

    def decide(self, ctx: AbrContext) -> int:
        n = len(ctx.bitrates_bps)
        r = self.rung if self.rung >= 0 else n + self.rung  # type: ignore[attr-defined]
        return min(max(r, 0), n - 1)
