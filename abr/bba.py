"""``bba``: BBA-0, the buffer-based algorithm of Huang et al., "A Buffer-Based Approach
to Rate Adaptation: Evidence from a Large Video Streaming Service", SIGCOMM 2014.

Below the reservoir the lowest rung, above reservoir + cushion the highest, and in
between a linear rate map f(B). ``map="rate"`` is the paper's Algorithm 1: f maps the
buffer linearly onto [R_min, R_max] and the rung only moves when f(B) crosses the next
rung up (then: the highest rung below f(B)) or the next rung down (then: the lowest
rung above f(B)), which damps oscillation. ``map="index"`` is Pensieve's BB
(hongzimao/pensieve, test/bb.py): the buffer maps linearly onto the rung *index*,
``int((N - 1) * (B - reservoir) / cushion)``, with no hysteresis; its 5 s / 10 s
are the ``pensieve`` preset, the default in ``--mode pensieve``.
"""

from __future__ import annotations

from abr.base import AbrAlgorithm, AbrContext, Param


class Bba(AbrAlgorithm):
    name = "bba"
    family = "buffer"
    source = "Huang et al., SIGCOMM 2014 (BBA-0); Pensieve test/bb.py for the index map"
    PARAMS = {
        "reservoir_s": Param(5.0, "buffer below which the lowest rung is fetched", float),
        "cushion_s": Param(10.0, "buffer span over which the map climbs to the top rung", float),
        "map": Param("rate", "'rate' (paper: linear in bitrate, with hysteresis) or 'index' (Pensieve: linear in rung index)", str, ("rate", "index")),
    }
    PRESETS = {
        "pensieve": {"reservoir_s": 5.0, "cushion_s": 10.0, "map": "index"},
        "paper": {"map": "rate"},
    }
    MODE_PRESETS = {"pensieve": "pensieve"}

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        if self.cushion_s <= 0:  # type: ignore[attr-defined]
            from abr.base import AbrError

            raise AbrError("bba: cushion_s must be positive")

    def decide(self, ctx: AbrContext) -> int:
        buf = ctx.buffer_s
        r = self.reservoir_s  # type: ignore[attr-defined]
        cu = self.cushion_s  # type: ignore[attr-defined]
        rates = ctx.bitrates_bps
        n = len(rates)
        if self.map == "index":  # type: ignore[attr-defined]
            # Pensieve's bb.py, same comparisons and operation order.
            if buf < r:
                return 0
            if buf >= r + cu:
                return n - 1
            return int((n - 1) * (buf - r) / float(cu))
        # The paper's Algorithm 1 (BBA-0).
        if buf <= r:
            return 0
        if buf >= r + cu:
            return n - 1
        f = rates[0] + (rates[-1] - rates[0]) * (buf - r) / cu
        prev = ctx.last_rung if ctx.last_rung is not None else 0
        up = rates[prev + 1] if prev + 1 < n else rates[-1]
        down = rates[prev - 1] if prev > 0 else rates[0]
        if f >= up:
            # max{R_i : R_i < f(B)}
            best = 0
            for i, b in enumerate(rates):
                if b < f:
                    best = i
            return best
        if f <= down:
            # min{R_i : R_i > f(B)}
            for i, b in enumerate(rates):
                if b > f:
                    return i
            return n - 1
        return prev
