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

from abr.base import AbrAlgorithm, AbrContext, Decision, Param


class BolaBasic(AbrAlgorithm):
    name = "bola"
    family = "buffer"
    source = "Spiteri et al., INFOCOM 2016 (BOLA-BASIC); defaults from Sabre (UMass-LIDS/sabre)"
    PARAMS = {
        "gamma_p": Param(5.0, "gamma * p: weight of rebuffering avoidance (utility units)", float, lo=0, lo_open=True),
        "buffer_s": Param(25.0, "buffer target Q_max in seconds; sets V", float, lo=0, lo_open=True),
        "sizes": Param("nominal", "'nominal' (rung bitrates) or 'actual' (next segment sizes)", str, ("nominal", "actual")),
    }

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
            if self.buffer_s <= ctx.segment_duration_s:  # type: ignore[attr-defined]
                # V = (buffer_s - duration) / (v_M + gamma_p) would be <= 0: every score
                # turns into -Q / S_m and BOLA picks the *top* rung at any buffer level
                raise self.param_error(
                    f"buffer_s={self.buffer_s} must exceed the segment duration {ctx.segment_duration_s:g} s"  # type: ignore[attr-defined]
                )
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


def _rung_for_rate(bitrates: tuple[int, ...], rate_bps: float) -> int:
    """Highest rung whose bitrate does not exceed ``rate_bps`` (dash.js
    getQualityFromThroughput; 0 if none)."""
    q = 0
    for i, b in enumerate(bitrates):
        if b > rate_bps:
            break
        q = i
    return q


class BolaU(BolaBasic):
    """BOLA-U (Spiteri et al., INFOCOM 2016, Sec. VI-B): BOLA-BASIC, but when BOLA wants
    to go up past the rung the measured throughput sustains, it goes only one rung above
    that rung (and never below the previous rung). Throughput is the session's estimate
    (Sabre's ``Bola`` with ``abr_osc`` off)."""

    name = "bola-u"
    source = "Spiteri et al., INFOCOM 2016 (BOLA-U); as in Sabre's Bola with abr_osc off"
    OSCILLATION_CONTROL = False

    def reset(self) -> None:
        super().reset()
        self._last: int | None = None

    def decide(self, ctx: AbrContext) -> Decision | int:  # type: ignore[override]
        q = super().decide(ctx)
        last = ctx.last_rung if ctx.last_rung is not None else 0
        tput = ctx.throughput_bps
        delay = 0.0
        if q > last and tput is not None:
            qt = _rung_for_rate(ctx.bitrates_bps, tput)
            if q <= qt:
                pass
            elif last > qt:
                q = last
            elif not self.OSCILLATION_CONTROL:
                q = min(qt + 1, ctx.n_rungs - 1)
            else:
                q = qt
                u = self.utilities(ctx.bitrates_bps)
                want = self.v(ctx) * (self.gamma_p + u[q])  # type: ignore[attr-defined]
                if q < ctx.n_rungs - 1:
                    delay = max(0.0, ctx.buffer_s - want)
        return Decision(q, delay) if delay > 0 else q


class BolaO(BolaU):
    """BOLA-O (Spiteri et al., INFOCOM 2016, Sec. VI-B): oscillation control. When BOLA
    wants to go up past the sustainable rung it takes the sustainable rung (not below
    the previous one) and idles until the buffer falls to that rung's level
    V (v_m + gamma_p), so it does not oscillate around the throughput."""

    name = "bola-o"
    source = "Spiteri et al., INFOCOM 2016 (BOLA-O); as in Sabre's Bola with abr_osc on"
    OSCILLATION_CONTROL = True


class BolaE(AbrAlgorithm):
    """BOLA-E as dash.js ships it (BolaRule.js; Spiteri, Sitaraman and Sparacio, "From
    Theory to Practice: Improving Bitrate Adaptation in the DASH Reference Player",
    MMSys 2018).

    - Utilities ln(bitrate); gamma_p and V chosen so the lowest rung wins at
      ``minimum_buffer_s`` (10 s) and the top rung at ``buffer_target_s`` (30 s).
    - Throughput: harmonic mean of the last ``throughput_samples`` (3, VoD) requests,
      request latency included.
    - Startup: before the first sample, the lowest rung; then the rung the throughput x
      ``bandwidth_safety`` (0.9) sustains, until the buffer exceeds segment duration /
      ``rebuffer_safety`` (0.5); on leaving startup the *placeholder buffer* is set to the
      smallest effective buffer at which BOLA would pick that rung.
    - Placeholder buffer: idle time (delays, full-buffer waits) is added to it, it is
      used as if buffered, drained first by BOLA's own delays, reset on a stall
      (buffer <= 0.1 s).
    - Steady: BOLA on buffer + placeholder; BOLA-O cap when going up past the rung the
      throughput sustains (not below the last rung); insufficient-buffer rule: drop while
      the bitrate exceeds 0.5 x throughput x buffer / segment duration; then delay until
      the effective buffer falls to V (u + gamma_p) (no delay at the top rung).
    """

    name = "bola-e"
    family = "buffer"
    source = "dash.js BolaRule.js (BOLA-E); Spiteri et al., MMSys 2018"
    PARAMS = {
        "minimum_buffer_s": Param(10.0, "buffer at which the lowest rung wins (MINIMUM_BUFFER_S)", float, lo=0, lo_open=True),
        "buffer_target_s": Param(30.0, "buffer at which the top rung wins (BUFFER_TARGET_S)", float, lo=0, lo_open=True),
        "rebuffer_safety": Param(0.5, "REBUFFER_SAFETY_FACTOR (startup exit, insufficient-buffer rule)", float, lo=0, lo_open=True, hi=1),
        "bandwidth_safety": Param(0.9, "dash.js bandwidthSafetyFactor during startup", float, lo=0, lo_open=True, hi=1),
        "throughput_samples": Param(3, "requests in the harmonic-mean throughput (AVERAGE_THROUGHPUT_SAMPLE_AMOUNT_VOD)", int, lo=1),
    }

    def check_params(self) -> None:
        mn, tg = self.minimum_buffer_s, self.buffer_target_s  # type: ignore[attr-defined]
        if mn >= tg:  # gamma_p and V divide by target / minimum - 1
            raise self.param_error(f"minimum_buffer_s={mn} must be < buffer_target_s={tg}")

    def reset(self) -> None:
        self._ladder: tuple[int, ...] | None = None
        self.steady = False
        self.placeholder_s = 0.0
        self._rates: list[float] = []

    def _params(self, bitrates: tuple[int, ...]) -> None:
        if self._ladder == bitrates:
            return
        self._ladder = bitrates
        u = [math.log(b) for b in bitrates]
        mn, tg = self.minimum_buffer_s, self.buffer_target_s  # type: ignore[attr-defined]
        self.u = u
        self.gp = 1 - u[0] + (u[-1] - u[0]) / (tg / mn - 1)
        self.vp = mn / (u[0] + self.gp - 1)

    def on_download(self, sample, ctx: AbrContext) -> None:  # type: ignore[no-untyped-def]
        if sample.duration_s > 0:
            self._rates.append(sample.size_bytes * 8.0 / sample.duration_s)
            del self._rates[: -self.throughput_samples]  # type: ignore[attr-defined]

    def on_wait(self, wait_s: float) -> None:
        if self.steady:
            self.placeholder_s += wait_s

    def throughput_bps(self) -> float:
        if not self._rates:
            return 0.0
        return len(self._rates) / sum(1.0 / r for r in self._rates)

    def score_rung(self, level_s: float) -> int:
        best, score = 0, None
        for i, (u, b) in enumerate(zip(self.u, self._ladder or ())):
            s = (self.vp * (u + self.gp) - level_s) / b
            if score is None or s >= score:
                best, score = i, s
        return best

    def min_buffer_for(self, q: int) -> float:
        b, u = self._ladder, self.u  # type: ignore[assignment]
        want = 0.0
        for i in range(q):
            x = self.vp * (self.gp + (b[q] * u[i] - b[i] * u[q]) / (b[q] - b[i]))  # type: ignore[index]
            want = max(want, x)
        return want

    def decide(self, ctx: AbrContext) -> Decision | int:
        bitrates = ctx.bitrates_bps
        self._params(bitrates)
        tput = self.throughput_bps()
        buf = ctx.buffer_s
        if tput <= 0:
            return 0  # dash.js: no measurement yet, another rule picks the first rung
        if buf <= 0.1:
            self.placeholder_s = 0.0
        if not self.steady:
            q = _rung_for_rate(bitrates, tput * self.bandwidth_safety)  # type: ignore[attr-defined]
            if buf > ctx.segment_duration_s / self.rebuffer_safety:  # type: ignore[attr-defined]
                self.steady = True
                want = self.min_buffer_for(q)
                if want > buf:
                    self.placeholder_s = want - buf
            return q
        effective = buf + self.placeholder_s
        q = self.score_rung(effective)
        last = ctx.last_rung if ctx.last_rung is not None else 0
        if q > last:
            qt = _rung_for_rate(bitrates, tput)
            if q > qt:
                q = max(qt, last)
        safe = self.rebuffer_safety * tput * buf / ctx.segment_duration_s  # type: ignore[attr-defined]
        while q > 0 and bitrates[q] > safe:
            q -= 1
        delay = effective - self.vp * (self.u[q] + self.gp)
        if delay > 0:
            if delay > self.placeholder_s:
                delay -= self.placeholder_s
                self.placeholder_s = 0.0
            else:
                self.placeholder_s -= delay
                delay = 0.0
        if delay > 0 and q == len(bitrates) - 1:
            delay = 0.0
        return Decision(q, delay) if delay > 0 else q
