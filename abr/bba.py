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

from typing import Sequence

from abr.base import AbrAlgorithm, AbrContext, Param


class Bba(AbrAlgorithm):
    name = "bba"
    family = "buffer"
    source = "Huang et al., SIGCOMM 2014 (BBA-0); Pensieve test/bb.py for the index map"
    PARAMS = {
        "reservoir_s": Param(5.0, "buffer below which the lowest rung is fetched", float, lo=0),
        "cushion_s": Param(10.0, "buffer span over which the map climbs to the top rung", float, lo=0, lo_open=True),
        "map": Param("rate", "'rate' (paper: linear in bitrate, with hysteresis) or 'index' (Pensieve: linear in rung index)", str, ("rate", "index")),
    }
    PRESETS = {
        "pensieve": {"reservoir_s": 5.0, "cushion_s": 10.0, "map": "index"},
        "paper": {"map": "rate"},
    }
    MODE_PRESETS = {"pensieve": "pensieve"}

    def reset(self) -> None:
        self._fits_buffer_s: float | None = None  # the max_buffer_s last checked against

    def check_buffer(self, max_buffer_s: float) -> None:
        """The reservoir must lie inside the session's buffer: at or above
        ``max_buffer_s`` the buffer never leaves it and BBA would fetch nothing but the
        lowest rung. A cushion reaching past the buffer is allowed and cuts the map at
        the buffer size, so the rungs above f(max_buffer_s) are not reached: the
        published 5 s + 10 s (Pensieve, of 60 s) are also played with small buffers (the
        paper: 90 s + 126 s of 240 s)."""
        r = self.reservoir_s  # type: ignore[attr-defined]
        if r >= max_buffer_s:
            raise self.param_error(
                f"reservoir_s={r} must be < the session's max_buffer_s={max_buffer_s:g} "
                "(else only the lowest rung is ever fetched)"
            )
        self._fits_buffer_s = max_buffer_s

    def decide(self, ctx: AbrContext) -> int:
        if ctx.max_buffer_s != self._fits_buffer_s:
            self.check_buffer(ctx.max_buffer_s)
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
        return hysteresis_step(rates, f, prev)


def hysteresis_step(values: Sequence[float], f: float, prev: int) -> int:
    """BBA-0's Algorithm 1 step over per-rung ``values`` (rates, or BBA-1's chunk sizes):
    up when f reaches the value of the rung above (then max{i : v_i < f}), down when f
    falls to the value of the rung below (then min{i : v_i > f}), else stay."""
    n = len(values)
    up = values[prev + 1] if prev + 1 < n else values[-1]
    down = values[prev - 1] if prev > 0 else values[0]
    if f >= up:
        best = 0
        for i, v in enumerate(values):
            if v < f:
                best = i
        return best
    if f <= down:
        for i, v in enumerate(values):
            if v > f:
                return i
        return n - 1
    return prev


class Bba1(AbrAlgorithm):
    """BBA-1 (Huang et al., SIGCOMM 2014, Sec. 5): BBA-0's map over *chunk sizes*.

    With VBR encodings a rate map lets a big chunk of a low rate drain the buffer, so
    BBA-1 maps the buffer level onto the size of the next chunk: f(B) runs linearly from
    the next chunk's size at the lowest rung (at the reservoir) to its size at the top
    rung (at reservoir + cushion), and the rung changes with BBA-0's hysteresis applied
    to the next chunk's sizes: up when f(B) reaches the size at the rung above (then the
    highest rung whose next chunk is smaller than f(B)), down when f(B) falls to the size
    at the rung below (then the lowest rung whose chunk is bigger than f(B)).

    The reservoir is *dynamic*: the buffer needed to ride out the upcoming stretch of
    big chunks at the lowest rung, i.e. the extra download time over the next
    ``lookahead_s`` of content at R_min beyond its playback time (sum of sizes / R_min -
    duration), clamped to [``reservoir_min_s``, ``reservoir_max_frac`` x buffer size]
    (the paper: 8 s to 140 s of a 240 s buffer, lookahead twice the buffer). The top
    ``upper_reservoir_frac`` of the buffer (paper: 10 %) is the upper reservoir, where the
    top rung is fetched; the cushion is what lies between.
    """

    name = "bba1"
    family = "buffer"
    source = "Huang et al., SIGCOMM 2014, BBA-1 (chunk map, dynamic reservoir)"
    PARAMS = {
        "reservoir_min_s": Param(5.0, "smallest reservoir (paper: 8 s of 240 s)", float, lo=0),
        "reservoir_max_frac": Param(0.4, "largest reservoir as a fraction of the buffer size (paper: 140/240)", float, lo=0, lo_open=True, hi=1, hi_open=True),
        "upper_reservoir_frac": Param(0.1, "top fraction of the buffer where the top rung is fetched (paper: 10 %)", float, lo=0, hi=1, hi_open=True),
        "lookahead_s": Param(0.0, "content looked ahead for the dynamic reservoir; 0 = twice the buffer size (paper)", float, lo=0),
    }
    STARTUP = False

    def check_params(self) -> None:
        # reservoir and upper reservoir must leave a cushion between them
        lo, up = self.reservoir_max_frac, self.upper_reservoir_frac  # type: ignore[attr-defined]
        if lo + up >= 1.0:
            raise self.param_error(f"reservoir_max_frac={lo} + upper_reservoir_frac={up} must be < 1 (no cushion left)")

    def reset(self) -> None:
        self._startup = self.STARTUP
        self._last_sample = None

    def on_download(self, sample, ctx: AbrContext) -> None:  # type: ignore[no-untyped-def]
        self._last_sample = sample

    def reservoir_s(self, ctx: AbrContext) -> float:
        cap = ctx.max_buffer_s
        look = self.lookahead_s or 2.0 * cap  # type: ignore[attr-defined]
        r_min = ctx.bitrates_bps[0]
        i = ctx.segment_index
        bits = 0.0
        content = 0.0
        while i < ctx.segment_count and content < look:
            bits += ctx.sizes_bytes(i)[0] * 8.0
            content += ctx.duration_of(i)
            i += 1
        extra = bits / r_min - content
        lo = self.reservoir_min_s  # type: ignore[attr-defined]
        hi = max(lo, self.reservoir_max_frac * cap)  # type: ignore[attr-defined]
        return min(max(extra, lo), hi)

    def chunk_map(self, ctx: AbrContext) -> int:
        buf = ctx.buffer_s
        sizes = ctx.next_sizes_bytes
        n = len(sizes)
        res = self.reservoir_s(ctx)
        upper = ctx.max_buffer_s * (1.0 - self.upper_reservoir_frac)  # type: ignore[attr-defined]
        cushion = max(upper - res, 1e-9)
        if buf <= res:
            return 0
        if buf >= res + cushion:
            return n - 1
        f = sizes[0] + (sizes[-1] - sizes[0]) * (buf - res) / cushion
        prev = ctx.last_rung if ctx.last_rung is not None else 0
        return hysteresis_step(sizes, f, prev)

    def decide(self, ctx: AbrContext) -> int:
        return self.chunk_map(ctx)


class Bba2(Bba1):
    """BBA-2 (Huang et al., SIGCOMM 2014, Sec. 6): BBA-1 plus a startup ramp.

    While the buffer is growing from empty the chunk map knows nothing about capacity,
    so BBA-2 steps up one rung whenever the last chunk downloaded fast enough: its
    buffer gain dB = V - download time must exceed ``start_gain`` x V (0.875: a chunk
    downloaded 8x faster than real time) at an empty buffer, the threshold falling
    linearly to ``end_gain`` x V (0.5: 2x faster) as the buffer reaches the cushion. It
    takes the higher of the ramp and the chunk map, and leaves startup for good once
    the chunk map suggests at least as high a rung, or the buffer shrinks (dB < 0).
    """

    name = "bba2"
    source = "Huang et al., SIGCOMM 2014, BBA-2 (BBA-1 + startup ramp: 0.875 V falling to 0.5 V)"
    PARAMS = dict(Bba1.PARAMS)
    PARAMS.update({
        "start_gain": Param(0.875, "ramp-up threshold on dB / V at an empty buffer (8x real time)", float, lo=0, hi=1, hi_open=True),
        "end_gain": Param(0.5, "ramp-up threshold on dB / V at the top of the cushion (2x real time)", float, lo=0, hi=1, hi_open=True),
    })
    STARTUP = True

    def check_params(self) -> None:
        super().check_params()
        # the ramp's threshold falls as the buffer grows (8x real time, then 2x)
        if self.end_gain > self.start_gain:  # type: ignore[attr-defined]
            raise self.param_error(f"end_gain={self.end_gain} must be <= start_gain={self.start_gain}")  # type: ignore[attr-defined]

    def decide(self, ctx: AbrContext) -> int:
        mapped = self.chunk_map(ctx)
        if not self._startup or self._last_sample is None or ctx.last_rung is None:
            return mapped
        last = ctx.last_rung
        v = ctx.duration_of(max(ctx.segment_index - 1, 0))
        gain = v - self._last_sample.duration_s
        if gain < 0:
            self._startup = False
            return mapped
        top = ctx.max_buffer_s * (1.0 - self.upper_reservoir_frac)  # type: ignore[attr-defined]
        frac = min(max(ctx.buffer_s / max(top, 1e-9), 0.0), 1.0)
        threshold = self.start_gain + (self.end_gain - self.start_gain) * frac  # type: ignore[attr-defined]
        ramp = min(last + 1, ctx.n_rungs - 1) if gain > threshold * v else last
        if mapped >= ramp:
            self._startup = False
            return mapped
        return ramp
