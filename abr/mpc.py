"""Model-predictive control: ``mpc``, ``robustmpc`` and ``fastmpc``.

Yin, Jindal, Sekar and Sinopoli, "A Control-Theoretic Approach for Dynamic Adaptive
Video Streaming over HTTP", SIGCOMM 2015. Before each segment the controller predicts
the throughput of the next ``horizon`` (5) downloads as the harmonic mean of the last
``window`` (5) throughput samples; RobustMPC divides that prediction by 1 + the largest
relative prediction error of the last ``error_window`` (5) samples. It then scores every
sequence of rungs for the next ``horizon`` segments with Pensieve's QoE_lin objective
(Mao et al., SIGCOMM 2017; its test/mpc.py is the reference implementation every paper
compares against)::

    sum_k R_k / 1e6  -  4.3 * rebuffer  -  sum_k |R_k - R_{k-1}| / 1e6

(bitrates in bit/s, so the first term is in Mbps) where the rebuffering of a sequence
is simulated segment by segment: download time = size / predicted throughput, the
buffer drains by it (stalling at zero) and gains the segment's duration. The first rung
of the best sequence is fetched. Throughput is measured as Pensieve measures it: bytes
over the whole request time (latency included, ``include_latency``), in MB/s.

**Exact and fast.** The search returns exactly the decision of exhaustive enumeration of
all ``n_rungs ** horizon`` sequences, tie-breaking included, but explores a small part of
the tree (:class:`SequencePlanner`): a depth-first branch and bound whose bound is the
smaller of (a) the best smoothness-aware quality of the remaining steps ignoring
rebuffering and (b) a Lagrangian bound on the remaining rebuffering (for any
0 <= lam <= 4.3, 4.3 * R >= lam * (total download time - buffer available), which makes
the remaining steps separable). Every sequence whose bound comes within 1e-7 of the best
found is kept, and the survivors are re-scored with the reference's own floating-point
expression in the reference's order, so float rounding can never change a decision.
``bench/abr_speed.py`` checks decision-for-decision equality against plain numpy
enumeration of all 6^5 sequences and prints the speed-up.

**Pensieve's quirks**, each behind its own switch (all off by default; the correct
behaviour is the default) and all on with ``pensieve_quirks=true``, so that
``--mode pensieve --abr robustmpc:pensieve_quirks=true`` reproduces hongzimao/pensieve
test/mpc.py number for number:

- ``carry_errors``: mpc.py keeps ``past_errors`` and ``past_bandwidth_ests`` in module
  globals that are never cleared, so the prediction error history (and the first error
  of a trace, against the previous trace's last estimate) carries over from one trace to
  the next. Results for a trace then depend on the traces replayed before it in the same
  process, so instances in this mode report ``carries_state_across_sessions`` and batch
  replays keep their sessions in order in one worker.
- ``sizes_ahead``: mpc.py scores position p with ``get_chunk_size(q, last_index + p + 1)``
  where ``last_index`` is already the index of the next chunk, so it reads every size one
  segment ahead (past the end of the title it reads 0).
- ``ties="last"``: mpc.py keeps a sequence when ``reward >= max_reward``, so among equally
  good sequences the last in enumeration order wins (the correct default, ``"first"``,
  keeps the first: on a tie, the lower rung).

``fastmpc`` is the paper's FastMPC: the same decision read from a table precomputed over
discretised (buffer level, last rung, predicted throughput), for segments of the rungs'
nominal sizes (CBR, as in the paper). See :class:`FastMpc`.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, ClassVar, Sequence

from abr.base import AbrAlgorithm, AbrContext, Param, TransferSample, highest_rung_below

# Slack when comparing additive scores against the exact reference expression; float
# error in either is below 1e-12 for any realistic QoE, so 1e-7 only keeps near-ties.
_EPS = 1e-7


class SequencePlanner:
    """Best first rung over all rung sequences of a horizon, for one ladder.

    ``q`` is the per-rung utility (bitrate in Mbps for QoE_lin); a sequence scores
    ``sum q - rebuf_penalty * rebuffer - smooth_penalty * sum |dq|``. Exact scores use the
    reference implementation's expression (``exact_score``).
    """

    # Lagrange multipliers for the rebuffering bound, as multiples of the "price" of a
    # second of download time (the top rung's utility per second of its predicted
    # download), plus the full penalty. Chosen by measurement on real traces: they cut
    # the explored tree to ~1 % of the 9,330 nodes of a 6-rung, 5-step horizon.
    LAMBDA_SCALES = (0.7, 1.4)
    # H (below) is tabulated this many steps ahead, which bounds MPC's horizon.
    MAX_HORIZON = 16

    def __init__(self, bitrates_bps: Sequence[int], rebuf_penalty: float = 4.3, smooth_penalty: float = 1.0) -> None:
        self.bitrates_bps = tuple(int(b) for b in bitrates_bps)
        self.n = n = len(self.bitrates_bps)
        self.q = q = tuple(b / 1e6 for b in self.bitrates_bps)
        self.mu = float(rebuf_penalty)
        self.ls = ls = float(smooth_penalty)
        # SM[r][r2]: utility of stepping from rung r to rung r2 (quality minus smoothness).
        self.SM = [[q[r2] - ls * abs(q[r2] - q[r]) for r2 in range(n)] for r in range(n)]
        # H[m][r]: best utility over m further steps from rung r ignoring rebuffering.
        H = [[0.0] * n]
        for _ in range(self.MAX_HORIZON):
            prev = H[-1]
            H.append([max(self.SM[r][r2] + prev[r2] for r2 in range(n)) for r in range(n)])
        self.H = H
        self.lsq = [ls * x for x in q]
        self.nodes = 0  # explored nodes (statistics for benchmarks)

    # ------------------------------------------------------------------ exact scoring
    def exact_score(self, combo: Sequence[int], dl: Sequence[Sequence[float]], durs: Sequence[float], b0: float, last: int) -> float:
        """The reference's score of one sequence, same operations in the same order
        (Pensieve test/mpc.py): integer bitrate sums, rebuffer accumulated in sequence."""
        rates = self.bitrates_bps
        rebuf = 0.0
        buf = b0
        bitrate_sum = 0
        smooth = 0
        lq = last
        for pos, cq in enumerate(combo):
            t = dl[pos][cq]
            if buf < t:
                rebuf += t - buf
                buf = 0.0
            else:
                buf -= t
            buf += durs[pos]
            bitrate_sum += rates[cq]
            smooth += abs(rates[cq] - rates[lq])
            lq = cq
        s = smooth / 1e6 if self.ls == 1.0 else self.ls * (smooth / 1e6)
        return (bitrate_sum / 1e6) - (self.mu * rebuf) - s

    # ------------------------------------------------------------------ bounds
    def _lagrangian_tables(self, dl: Sequence[Sequence[float]], lams: Sequence[float]) -> list[list[list[float]]]:
        """G[k][i][r]: the best of sum_j (SM step - lam_i * download time) over the steps
        from position k on, starting from rung r: an upper bound on the remaining utility
        minus lam_i * (remaining download time), smoothness included. O(n) per step via
        prefix/suffix maxima (stepping up from r is worth ls*q_r, down -ls*q_r, plus the
        step's own term)."""
        h = len(dl)
        n = self.n
        q = self.q
        lsq = self.lsq
        G: list[list[list[float]]] = [[] for _ in range(h + 1)]
        G[h] = [[0.0] * n for _ in lams]
        rng_up = range(n - 1, -1, -1)
        rng_dn = range(n)
        for k in range(h - 1, 0, -1):
            row = dl[k]
            nxt = G[k + 1]
            cur = []
            for i, lam in enumerate(lams):
                g = nxt[i]
                # w[r2] = q - lam*t + g at r2; from r: up -> w - ls*(q2 - q), down -> w - ls*(q - q2)
                w = [q[r2] - lam * row[r2] + g[r2] for r2 in rng_dn]
                out = [0.0] * n
                m = -math.inf
                for r in rng_up:
                    x = w[r] - lsq[r]
                    if x > m:
                        m = x
                    out[r] = m + lsq[r]
                m = -math.inf
                for r in rng_dn:
                    x = w[r] + lsq[r]
                    if x > m:
                        m = x
                    y = m - lsq[r]
                    if y > out[r]:
                        out[r] = y
                cur.append(out)
            G[k] = cur
        return G

    # ------------------------------------------------------------------ search
    def best_first_rung(
        self,
        dl: Sequence[Sequence[float]],
        durs: Sequence[float],
        b0: float,
        last: int,
        ties_last: bool = False,
    ) -> int:
        """First rung of the best sequence. ``dl[j][r]`` is the predicted download time of
        the j-th next segment at rung r, ``durs[j]`` its duration. Ties: the first
        sequence in lexicographic order (lowest rungs), or the last with ``ties_last``.

        Depth-first branch and bound, children visited best bound first. A node's bound is
        its utility so far plus the smallest of H (no rebuffering) and, for each
        multiplier lam <= rebuf_penalty, lam * (buffer + durations still to come before
        the last download) + G (the Lagrangian relaxation of the remaining rebuffering,
        which by Lindley's recursion is at least total download time minus that budget).
        """
        h = len(dl)
        if h == 0:
            return 0
        n = self.n
        mu = self.mu
        SM = self.SM
        H = self.H
        t_top = dl[0][n - 1]
        scale = self.q[n - 1] / t_top if t_top > 0 else mu
        lams = [min(mu, f * scale) for f in self.LAMBDA_SCALES]
        G = self._lagrangian_tables(dl, lams) if h > 1 else []
        L = len(lams)
        A = [0.0] * (h + 1)
        for k in range(h - 2, -1, -1):
            A[k] = A[k + 1] + durs[k]
        best = [-math.inf]
        cands: list[tuple[float, tuple[int, ...]]] = []
        nodes = [0]
        rng = range(n)
        lam_idx = range(L)

        def rec(k: int, r: int, b: float, v: float, prefix: tuple[int, ...]) -> None:
            row = dl[k]
            dur = durs[k]
            sm = SM[r]
            m = h - k - 1  # steps left after this one
            if m == 0:
                nodes[0] += n
                floor = best[0] - _EPS
                for r2 in rng:
                    t = row[r2]
                    nv = v + sm[r2] - mu * (t - b) if t > b else v + sm[r2]
                    if nv >= floor:
                        cands.append((nv, prefix + (r2,)))
                        if nv > best[0]:
                            best[0] = nv
                            floor = nv - _EPS
                return
            Hm = H[m]
            Gk = G[k + 1]
            Ak = A[k + 1]
            kids = []
            for r2 in rng:
                t = row[r2]
                if t > b:
                    nv = v + sm[r2] - mu * (t - b)
                    nb = dur
                else:
                    nv = v + sm[r2]
                    nb = b - t + dur
                ub = Hm[r2]
                for i in lam_idx:
                    x = lams[i] * (nb + Ak) + Gk[i][r2]
                    if x < ub:
                        ub = x
                kids.append((nv + ub, r2, nb, nv))
            nodes[0] += n
            kids.sort(reverse=True)
            for u, r2, nb, nv in kids:
                if u < best[0] - _EPS:
                    break
                rec(k + 1, r2, nb, nv, prefix + (r2,))

        rec(0, last, b0, 0.0, ())
        self.nodes += nodes[0]
        floor = best[0] - _EPS
        top = -math.inf
        pick = 0
        for v, combo in cands:
            if v < floor:
                continue
            s = self.exact_score(combo, dl, durs, b0, last)
            first = combo[0]
            if s > top or (s == top and (first > pick if ties_last else first < pick)):
                top = s
                pick = first
        return pick


class ThroughputHistory:
    """RobustMPC's predictor state: the last ``window`` samples (MB/s), the last
    harmonic-mean estimate, and the last ``error_window`` relative errors."""

    __slots__ = ("samples", "errors", "last_estimate")

    def __init__(self, window: int, error_window: int) -> None:
        self.samples: deque[float] = deque(maxlen=window)
        self.errors: deque[float] = deque(maxlen=error_window)
        self.last_estimate: float | None = None

    def add(self, rate_mbps: float) -> None:
        """One throughput sample (MB/s); updates the error history and the estimate
        exactly as Pensieve's mpc.py does after each chunk."""
        if self.last_estimate is not None:
            self.errors.append(abs(self.last_estimate - rate_mbps) / float(rate_mbps))
        else:
            self.errors.append(0.0)
        self.samples.append(rate_mbps)
        total = 0.0
        for x in self.samples:
            total += 1 / float(x)
        self.last_estimate = 1.0 / (total / len(self.samples))

    def prediction(self, robust: bool) -> float | None:
        est = self.last_estimate
        if est is None or not self.samples:
            return None
        if not robust:
            return est
        return est / (1 + float(max(self.errors)))


class Mpc(AbrAlgorithm):
    """MPC with the harmonic-mean predictor (``robust=False``); see the module docstring."""

    name = "mpc"
    family = "control"
    source = "Yin et al., SIGCOMM 2015 (MPC); objective and constants from Pensieve test/mpc.py (hongzimao/pensieve)"
    ROBUST = False
    PARAMS: ClassVar[dict[str, Param]] = {
        "horizon": Param(5, "segments looked ahead (MPC_FUTURE_CHUNK_COUNT)", int, lo=1, hi=SequencePlanner.MAX_HORIZON),
        "window": Param(5, "throughput samples in the harmonic mean", int, lo=1),
        "error_window": Param(5, "relative errors whose maximum discounts the prediction (RobustMPC)", int, lo=1),
        "rebuf_penalty": Param(4.3, "QoE_lin rebuffering weight per second (Pensieve REBUF_PENALTY)", float, lo=0),
        "smooth_penalty": Param(1.0, "QoE_lin weight of |bitrate change| in Mbps (SMOOTH_PENALTY)", float, lo=0),
        "include_latency": Param(True, "throughput sample = bytes / (latency + transfer), as Pensieve's size/delay", bool),
        "sizes": Param("actual", "'actual' segment sizes (VBR) or 'nominal' (bitrate x duration)", str, ("actual", "nominal")),
        "pensieve_quirks": Param(False, "switch on every Pensieve mpc.py quirk below (reproduces its numbers)", bool),
        "carry_errors": Param(False, "quirk: keep the error history across sessions (mpc.py module globals)", bool),
        "sizes_ahead": Param(False, "quirk: read segment sizes one index ahead (mpc.py get_chunk_size(index + 1))", bool),
        "ties": Param("first", "equal scores: 'first' sequence (lower rungs) or 'last' (quirk: mpc.py's >=)", str, ("first", "last")),
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if getattr(self, "pensieve_quirks", False):
            self.carry_errors = True
            self.sizes_ahead = True
            self.ties = "last"
        self.history = ThroughputHistory(self.window, self.error_window)  # type: ignore[attr-defined]
        self._planner: SequencePlanner | None = None
        self._mb_rows: dict[int, tuple[Any, tuple[float, ...]]] = {}

    @property
    def carries_state_across_sessions(self) -> bool:
        return bool(self.carry_errors)  # type: ignore[attr-defined]

    def reset(self) -> None:
        h = getattr(self, "history", None)
        if h is None:
            return
        if self.carry_errors:  # type: ignore[attr-defined]
            # mpc.py clears its state array per trace (the throughput window) but never
            # its past_errors / past_bandwidth_ests lists.
            h.samples.clear()
        else:
            self.history = ThroughputHistory(self.window, self.error_window)  # type: ignore[attr-defined]

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        if sample.size_bytes <= 0:
            return
        if self.include_latency:  # type: ignore[attr-defined]
            # Pensieve: delay (ms) = download * 1000 + RTT; sample = bytes / delay / 1000.
            delay_ms = sample.transfer_s * 1000.0 + sample.ttfb_s * 1000.0
        else:
            delay_ms = sample.transfer_s * 1000.0
        if delay_ms <= 0:
            return
        self.history.add(float(sample.size_bytes) / delay_ms / 1000.0)

    def planner(self, bitrates_bps: Sequence[int]) -> SequencePlanner:
        p = self._planner
        if p is None or p.bitrates_bps != tuple(bitrates_bps):
            p = self._planner = SequencePlanner(bitrates_bps, self.rebuf_penalty, self.smooth_penalty)  # type: ignore[attr-defined]
        return p

    def _sizes_mb(self, ctx: AbrContext, index: int) -> tuple[float, ...]:
        """Sizes of segment ``index`` in MB (bytes / 1e6, as mpc.py divides), cached per row."""
        if index >= ctx.title_segments:  # past the title: mpc.py's get_chunk_size gives 0
            return (0.0,) * ctx.n_rungs
        if self.sizes == "nominal":  # type: ignore[attr-defined]
            d = ctx.duration_of(index)
            return tuple(b * d / 8.0 / 1000000.0 for b in ctx.bitrates_bps)
        row = ctx.sizes_bytes(index)
        hit = self._mb_rows.get(id(row))
        if hit is not None and hit[0] is row:
            return hit[1]
        mb = tuple(s / 1000000.0 for s in row)
        self._mb_rows[id(row)] = (row, mb)
        return mb

    def prediction_mbps(self) -> float | None:
        """Predicted throughput in MB/s (bytes per microsecond), or None before a sample."""
        return self.history.prediction(self.ROBUST)

    def decide(self, ctx: AbrContext) -> int:
        bw = self.prediction_mbps()
        if bw is None or bw <= 0:
            return 0
        idx = ctx.segment_index
        h = min(self.horizon, ctx.segment_count - idx)  # type: ignore[attr-defined]
        if h <= 0:
            return 0
        ahead = 1 if self.sizes_ahead else 0  # type: ignore[attr-defined]
        dl = []
        durs = []
        for j in range(h):
            mb = self._sizes_mb(ctx, idx + j + ahead)
            dl.append([x / bw for x in mb])
            durs.append(ctx.duration_of(min(idx + j, ctx.title_segments - 1)))
        last = ctx.last_rung if ctx.last_rung is not None else 0
        return self.planner(ctx.bitrates_bps).best_first_rung(dl, durs, ctx.buffer_s, last, self.ties == "last")  # type: ignore[attr-defined]


class RobustMpc(Mpc):
    """RobustMPC: the harmonic-mean prediction divided by 1 + max recent relative error."""

    name = "robustmpc"
    source = "Yin et al., SIGCOMM 2015 (RobustMPC); reference implementation Pensieve test/mpc.py (hongzimao/pensieve)"
    ROBUST = True


class FastMpc(RobustMpc):
    """FastMPC (Yin et al., SIGCOMM 2015, Sec. 4.3): the RobustMPC decision read from a
    table instead of searched online.

    The table is precomputed over a grid of (buffer level, last rung, predicted
    throughput) for segments of the rungs' nominal sizes (bitrate x duration, the paper's
    CBR assumption), one table per remaining horizon: buffer from 0 in steps of
    ``buffer_step_s`` up to ``buffer_max_s``, throughput on ``throughput_bins`` log-spaced
    points from ``throughput_lo_frac`` x the lowest to ``throughput_hi_frac`` x the top
    bitrate. At run time both inputs are rounded *down* to the grid (the conservative
    side) and the entry is looked up; every entry is the exact RobustMPC decision at its
    grid point (the same search, so the same tie-breaking). Tables are built on first use
    and shared by every FastMPC with the same ladder, duration and parameters.
    """

    name = "fastmpc"
    source = "Yin et al., SIGCOMM 2015 (FastMPC: table over discretised buffer, last rung, throughput)"
    PARAMS: ClassVar[dict[str, Param]] = {
        k: v for k, v in Mpc.PARAMS.items() if k not in ("sizes", "sizes_ahead", "pensieve_quirks")
    }
    PARAMS.update({
        "buffer_step_s": Param(1.0, "buffer grid step (seconds)", float, lo=0, lo_open=True),
        "buffer_max_s": Param(60.0, "largest buffer level in the table", float, lo=0, lo_open=True),
        "throughput_bins": Param(40, "log-spaced throughput grid points", int, lo=2),
        "throughput_lo_frac": Param(0.25, "lowest grid throughput as a fraction of the lowest bitrate", float, lo=0, lo_open=True),
        "throughput_hi_frac": Param(2.0, "highest grid throughput as a multiple of the top bitrate", float, lo=0, lo_open=True),
    })
    _TABLES: ClassVar[dict[tuple[Any, ...], list[list[list[int]]]]] = {}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.sizes = "nominal"
        self.sizes_ahead = False

    def check_params(self) -> None:
        # the grid must span something: more than the single buffer level 0, and a
        # throughput range running upward (lo x lowest bitrate < hi x top bitrate)
        lo, hi = self.throughput_lo_frac, self.throughput_hi_frac  # type: ignore[attr-defined]
        if lo >= hi:
            raise self.param_error(f"throughput_lo_frac={lo} must be < throughput_hi_frac={hi}")
        step, top = self.buffer_step_s, self.buffer_max_s  # type: ignore[attr-defined]
        if step > top:
            raise self.param_error(f"buffer_step_s={step} must be <= buffer_max_s={top}")

    def grid_mbps(self, bitrates: Sequence[int]) -> list[float]:
        lo = self.throughput_lo_frac * bitrates[0] / 8e6  # type: ignore[attr-defined]
        hi = self.throughput_hi_frac * bitrates[-1] / 8e6  # type: ignore[attr-defined]
        n = self.throughput_bins  # type: ignore[attr-defined]
        return [lo * (hi / lo) ** (j / (n - 1)) for j in range(n)]

    def grid_buffers(self) -> list[float]:
        n = int(math.floor(self.buffer_max_s / self.buffer_step_s + 1e-9)) + 1  # type: ignore[attr-defined]
        return [i * self.buffer_step_s for i in range(n)]  # type: ignore[attr-defined]

    def nominal_dl(self, bitrates: Sequence[int], dur: float, h: int, bw: float) -> list[list[float]]:
        mb = [b * dur / 8.0 / 1000000.0 for b in bitrates]
        return [[x / bw for x in mb] for _ in range(h)]

    def table(self, bitrates: Sequence[int], dur: float, h: int) -> list[list[list[int]]]:
        key = (tuple(bitrates), dur, h, self.rebuf_penalty, self.smooth_penalty, self.ties,  # type: ignore[attr-defined]
               self.buffer_step_s, self.buffer_max_s, self.throughput_bins,  # type: ignore[attr-defined]
               self.throughput_lo_frac, self.throughput_hi_frac)  # type: ignore[attr-defined]
        t = self._TABLES.get(key)
        if t is None:
            planner = self.planner(bitrates)
            ties_last = self.ties == "last"  # type: ignore[attr-defined]
            grid = self.grid_mbps(bitrates)
            bufs = self.grid_buffers()
            t = []
            for last in range(len(bitrates)):
                rows = []
                for b in bufs:
                    rows.append([
                        planner.best_first_rung(self.nominal_dl(bitrates, dur, h, bw), [dur] * h, b, last, ties_last)
                        for bw in grid
                    ])
                t.append(rows)
            self._TABLES[key] = t
        return t

    def decide(self, ctx: AbrContext) -> int:
        bw = self.prediction_mbps()
        if bw is None or bw <= 0:
            return 0
        h = min(self.horizon, ctx.segment_count - ctx.segment_index)  # type: ignore[attr-defined]
        if h <= 0:
            return 0
        t = self.table(ctx.bitrates_bps, ctx.segment_duration_s, h)
        j = highest_rung_below(self.grid_mbps(ctx.bitrates_bps), bw)  # grid point at or below
        i = min(int(ctx.buffer_s / self.buffer_step_s), len(t[0]) - 1)  # type: ignore[attr-defined]
        last = ctx.last_rung if ctx.last_rung is not None else 0
        return t[last][i][j]
