"""The offline optimum: the best QoE any ABR could reach on a trace it knew in advance.

Dynamic programming over (segment, rung, link time, buffer-exhaustion time) on the
simulator's own link model, maximising the chosen QoE model (``lin``, ``log``, ``hd``,
``yin``; the same per-segment rewards as ``qoe.metrics``, with Pensieve mode's first
chunk fixed and unscored). The result is a **true upper bound** on the QoE of every
policy in the simulated mode, by construction:

1. *Relaxation.* The DP plays in a model that is at least as good for the player as the
   real one: no buffer cap (the real player's waits and Pensieve's 500 ms sleeps are
   idle time; idling never helps here, because a transfer started later never finishes
   earlier - the link is first-in-first-out), playback resumes as soon as a segment
   arrives (no resume threshold), and the request latency is the trace's smallest (all
   traces in ../shared have one latency per trace, so this is exact there). The first
   request is exact.
2. *Optimistic rounding.* After each segment the state is the link time ``tau`` at which
   the next download starts and the wall-clock time ``u`` at which the buffer would run
   dry (buffer = u - now). The future is no worse from an earlier ``tau`` with the same
   ``u`` (FIFO: everything finishes no later) and no worse with a later ``u`` at the same
   ``tau`` (more buffer). States are merged on a grid of ``step_s`` seconds with ``tau``
   rounded *down* and ``u`` rounded *up*, keeping the best value per cell, so every
   merged state dominates the states it replaces.
3. *Pruning that is a proof.* Of two states with the same rung, A makes B redundant when
   A's ``tau`` is no later and ``value_A >= value_B + rebuf_penalty * max(u_B - u_A, 0)``:
   B's extra buffer saves at most one second of stall per second, so it is worth at most
   ``rebuf_penalty`` per second, and a buffer *smaller* than A's is no advantage to B.
   (Until this was fixed the rule compared ``value - rebuf_penalty * u``, which lets a
   state with less buffer stand for one with more; on fast links that dropped starting
   with an expensive first segment, and the "bound" sat below what dash.js reached.)
   The test couples both u's, so it is a three-dimensional dominance, decided exactly by
   a sweep in ``tau`` order over two staircases (:func:`_cone_keep`). It also drops a
   state that is within ``CONE_SLACK`` (0.005) of one that would make it redundant, and
   the bound adds that slack back for every segment (0.235 for 48 segments), so it stays
   an upper bound while the state count stays in the low thousands.
4. *Branch and bound.* A first pass with a fast screening rule (the old one, which is no
   proof) finds a good rung sequence; its exact value in the relaxed model is reached by
   that fixed policy, so the optimum is at least that. States that could not reach it
   (less the slack allowance) even if nothing ever stalled again are dropped.
   Envivio over a 3G trace: ~0.3-0.6 s per trace.
   Finish times are moved 1e-9 s earlier to absorb float differences from the exact
   link ports.

Quantisation error (how much the bound can exceed the true optimum of the relaxed
model): rounding ``u`` up by less than ``step_s`` per segment can save at most that much
stall per segment, so at most ``rebuf_penalty * step_s * segments`` (4.3 x 0.001 x 48 =
0.21 QoE_lin at the defaults, a loose worst case); rounding ``tau`` down by less than
``step_s`` lets a download start that much earlier, whose effect depends on the trace;
the slack adds ``CONE_SLACK * (segments - 1)``. All are measured, not assumed:
:func:`offline_optimum` replays the DP's best path in the real simulator (``qoe_path``,
an achievable QoE), so ``qoe_bound - qoe_path`` brackets the total gap (relaxation +
quantisation + slack) for every trace.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from player.config import SessionConfig, mode_config
from player.presentation import Title
from qoe.metrics import (
    HD_REBUF_PENALTY,
    LIN_REBUF_PENALTY,
    LOG_MIN_RATE_MBPS,
    LOG_REBUF_PENALTY,
    QOE_MODELS,
    SMOOTH_PENALTY,
    YIN_LAMBDA,
    YIN_MU,
    hd_utility,
    qoe,
)
from traces.formats import cooked_arrays
from traces.model import Trace

DEFAULT_STEP_S = 0.001
_SLACK_S = 1e-9
_PRUNE_MARGIN = 1e-9
# A state is dropped when another is at most this much worse (per segment); the bound
# adds this back for every segment, so it stays an upper bound (module docstring).
CONE_SLACK = 0.005
_STAGE_LOSS = CONE_SLACK + 2 * _PRUNE_MARGIN


class OptimumError(ValueError):
    pass


def utilities(bitrates_bps: tuple[int, ...], model: str) -> tuple[np.ndarray, float, float]:
    """Per-rung quality, rebuffering penalty and smoothness weight of a QoE model,
    exactly as ``qoe.metrics`` scores segments."""
    b = np.asarray(bitrates_bps, dtype=np.float64)
    if model == "lin":
        return b / 1e6, LIN_REBUF_PENALTY, SMOOTH_PENALTY
    if model == "log":
        return np.log(b / 1e6 / LOG_MIN_RATE_MBPS), LOG_REBUF_PENALTY, SMOOTH_PENALTY
    if model == "hd":
        return np.array([hd_utility(x / 1e6) for x in b]), HD_REBUF_PENALTY, SMOOTH_PENALTY
    if model == "yin":
        return b / 1e3, YIN_MU, YIN_LAMBDA
    raise OptimumError(f"unknown QoE model {model!r} (known: {', '.join(QOE_MODELS)})")


class LinkCurve:
    """The link model of a simulator mode as a cumulative-bytes curve over link time,
    so that the finish time of a transfer from any start time is one vectorised search.

    ``head`` covers the first pass over the trace, ``loop`` every later pass (they differ
    for Pensieve, whose first pass starts at the cooked file's first time and whose later
    passes start at 0). ``extra_wall_s`` is added to every request's wall time without
    advancing link time (Pensieve's 80 ms RTT); ``latency_s`` advances link time before the
    payload (our model and Sabre's).
    """

    def __init__(self, head_d: np.ndarray, head_r: np.ndarray, loop_d: np.ndarray, loop_r: np.ndarray,
                 latency_s: float, extra_wall_s: float) -> None:
        self.head_ends = np.cumsum(head_d)
        self.head_cum = np.concatenate(([0.0], np.cumsum(head_d * head_r)))
        self.head_r = head_r
        self.loop_ends = np.cumsum(loop_d)
        self.loop_cum = np.concatenate(([0.0], np.cumsum(loop_d * loop_r)))
        self.loop_r = loop_r
        self.T0 = float(self.head_ends[-1]) if len(head_d) else 0.0
        self.T1 = float(self.loop_ends[-1])
        self.B0 = float(self.head_cum[-1])
        self.B1 = float(self.loop_cum[-1])
        if self.B1 <= 0:
            raise OptimumError("the trace carries no capacity on its repeating part")
        self.latency_s = latency_s
        self.extra_wall_s = extra_wall_s

    @classmethod
    def for_mode(cls, trace: Trace, config: SessionConfig) -> "LinkCurve":
        if config.mode == "pensieve":
            times, bws = cooked_arrays(trace)
            t = np.asarray(times, dtype=np.float64)
            rate = np.asarray(bws, dtype=np.float64) * 1e6 / 8.0 * 0.95  # payload bytes/s
            head_d = np.diff(t)
            loop_d = np.concatenate(([t[1] - 0.0], np.diff(t)[1:]))
            return cls(head_d, rate[1:], loop_d, rate[1:], 0.0, 0.08)
        d = np.asarray(trace.durations_s, dtype=np.float64)
        r = np.asarray(trace.rates_bps, dtype=np.float64) / 8.0
        lat = float(np.min(trace.latencies_s))
        return cls(d[:0], r[:0], d, r, lat, 0.0)

    def bytes_at(self, tau: np.ndarray) -> np.ndarray:
        tau = np.asarray(tau, dtype=np.float64)
        out = np.empty_like(tau)
        head = tau < self.T0
        if np.any(head):
            x = tau[head]
            i = np.minimum(np.searchsorted(self.head_ends, x, side="right"), len(self.head_ends) - 1)
            start = np.where(i > 0, self.head_ends[i - 1], 0.0)
            out[head] = self.head_cum[i] + (x - start) * self.head_r[i]
        rest = ~head
        if np.any(rest):
            y = tau[rest] - self.T0
            m = np.floor(y / self.T1)
            off = y - m * self.T1
            i = np.minimum(np.searchsorted(self.loop_ends, off, side="right"), len(self.loop_ends) - 1)
            start = np.where(i > 0, self.loop_ends[i - 1], 0.0)
            out[rest] = self.B0 + m * self.B1 + self.loop_cum[i] + (off - start) * self.loop_r[i]
        return out

    def time_at(self, b: np.ndarray) -> np.ndarray:
        """First link time at which ``b`` bytes have been delivered since time 0."""
        b = np.asarray(b, dtype=np.float64)
        out = np.empty_like(b)
        head = b <= self.B0
        if np.any(head) and self.T0 > 0:
            x = b[head]
            j = np.clip(np.searchsorted(self.head_cum, x, side="left") - 1, 0, len(self.head_r) - 1)
            start = np.where(j > 0, self.head_ends[j - 1], 0.0)
            r = self.head_r[j]
            with np.errstate(divide="ignore", invalid="ignore"):
                out[head] = start + np.where(r > 0, (x - self.head_cum[j]) / r, 0.0)
        else:
            head = np.zeros_like(b, dtype=bool)
        rest = ~head
        if np.any(rest):
            y = b[rest] - self.B0
            m = np.floor(y / self.B1)
            rem = y - m * self.B1
            # exactly at a pass boundary: the end of the previous pass
            edge = (rem <= 0) & (m > 0)
            m = np.where(edge, m - 1, m)
            rem = np.where(edge, self.B1, rem)
            j = np.clip(np.searchsorted(self.loop_cum, rem, side="left") - 1, 0, len(self.loop_r) - 1)
            start = np.where(j > 0, self.loop_ends[j - 1], 0.0)
            r = self.loop_r[j]
            with np.errstate(divide="ignore", invalid="ignore"):
                out[rest] = self.T0 + m * self.T1 + start + np.where(r > 0, (rem - self.loop_cum[j]) / r, 0.0)
        return out

    def finish(self, tau: np.ndarray, size_bytes: float | np.ndarray) -> np.ndarray:
        """Link time at which a request for ``size_bytes`` issued at ``tau`` completes."""
        start = np.asarray(tau, dtype=np.float64) + self.latency_s
        return self.time_at(self.bytes_at(start) + size_bytes)


@dataclass
class OptimumResult:
    model: str
    qoe_bound: float  # upper bound on the QoE of any policy (regret is measured from it)
    rungs: list[int]  # the bound's best path
    qoe_path: float | None = None  # QoE of that path replayed in the real simulator
    step_s: float = DEFAULT_STEP_S
    max_states: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


class _Sequence:
    """A fixed rung sequence as an ABR (to replay the optimum's path)."""

    name = "offline-optimum-path"

    def __init__(self, rungs: list[int]) -> None:
        self.rungs = rungs

    def decide(self, ctx: Any) -> int:
        return self.rungs[min(ctx.segment_index, len(self.rungs) - 1)]


def _grouped_dominance(keys_major: np.ndarray, order_key: np.ndarray, acc: np.ndarray, tie_key: np.ndarray | None = None) -> np.ndarray:
    """Within each group of ``keys_major``, sorted by ``order_key`` ascending, keep an
    entry only if its value beats every earlier entry of its group by more than the
    margin. Returns a boolean keep-mask in the input order. The running maximum that
    restarts at each group is taken over integer value ranks offset per group, so it is
    exact whatever the values' magnitude."""
    n = acc.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    rank_order = np.argsort(acc, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[rank_order] = np.arange(n)
    idx = np.lexsort((order_key, keys_major) if tie_key is None else (tie_key, order_key, keys_major))
    g = keys_major[idx]
    starts = np.concatenate(([True], g[1:] != g[:-1]))
    grp = np.cumsum(starts) - 1
    shifted = rank[idx] + grp * n
    run = np.maximum.accumulate(shifted)
    prev = np.concatenate(([0], run[:-1])) - grp * n
    prev_val = acc[rank_order[np.clip(prev, 0, n - 1)]]
    a = acc[idx]
    keep_sorted = starts | (prev < 0) | (a > prev_val + _PRUNE_MARGIN)
    keep = np.empty(n, dtype=bool)
    keep[idx] = keep_sorted
    return keep


def _cone_keep(grp: np.ndarray, it: np.ndarray, u: np.ndarray, a: np.ndarray, mu: float, slack: float = 0.0) -> np.ndarray:
    """Keep-mask of the cone rule: state A (same group) makes state B redundant when A's
    link time is no later and ``a_A >= a_B + mu * max(u_B - u_A, 0)``: from an earlier
    link time everything finishes no later, and B's extra buffer can save at most
    ``u_B - u_A`` seconds of stall, worth ``mu`` each (a buffer *below* B's is no
    advantage to A, so then A's value must simply be higher).

    Exact: states are swept in link-time order (at equal link time the better first, so
    of two equal states only the later goes) keeping, per group, the redundancy-free
    states seen so far as two staircases over u: for A with ``u_A >= u_B`` the test is
    ``a_A >= a_B`` (the highest value at or above u_B), for ``u_A <= u_B`` it is
    ``a_A + mu u_A >= a_B + mu u_B`` (the highest such sum at or below u_B). With
    ``slack`` a state also goes when A is at most that much short of it."""
    n = len(a)
    keep = np.zeros(n, dtype=bool)
    order = np.lexsort((-a, -u, it, grp))
    g_list = grp[order].tolist()
    u_list = u[order].tolist()
    a_list = a[order].tolist()
    margin = _PRUNE_MARGIN - slack
    cur = None
    hi_u: list[float] = []  # staircase 1: u ascending, value descending
    hi_v: list[float] = []
    lo_u: list[float] = []  # staircase 2: u ascending, value + mu u ascending
    lo_w: list[float] = []
    for pos, idx in enumerate(order.tolist()):
        g = g_list[pos]
        if g != cur:
            cur = g
            hi_u, hi_v, lo_u, lo_w = [], [], [], []
        ub, vb = u_list[pos], a_list[pos]
        wb = vb + mu * ub
        j = bisect_left(hi_u, ub)
        if j < len(hi_u) and hi_v[j] >= vb + margin:
            continue
        k = bisect_right(lo_u, ub) - 1
        if k >= 0 and lo_w[k] >= wb + margin:
            continue
        keep[idx] = True
        # staircase 1: drop the points at or below u_b that value no more than v_b
        i = j
        while i > 0 and hi_v[i - 1] <= vb:
            i -= 1
        end = j
        while end < len(hi_u) and hi_u[end] == ub and hi_v[end] <= vb:
            end += 1
        hi_u[i:end] = [ub]
        hi_v[i:end] = [vb]
        # staircase 2: drop the points at or above u_b whose sum is no more than w_b
        q = bisect_left(lo_u, ub)
        end = q
        while end < len(lo_u) and lo_w[end] <= wb:
            end += 1
        start = q
        while start > 0 and lo_u[start - 1] == ub and lo_w[start - 1] <= wb:
            start -= 1
        lo_u[start:end] = [ub]
        lo_w[start:end] = [wb]
    return keep


@dataclass(frozen=True)
class PlayerRules:
    """The real player's buffer rules, for :func:`action_values` (the bound ignores them).

    ``cap_s``: the buffer cap; with ``room`` the player waits before a request until the
    segment fits under it (default and sabre modes), otherwise it sleeps after a load in
    ``quantum_s`` steps until it is back under the cap (Pensieve). ``resume_s``: after a
    stall, playback resumes only once this much is buffered (Media3's 5 s in default
    mode; 0 in the reference simulators).
    """

    cap_s: float
    room: bool = True
    quantum_s: float = 0.5
    resume_s: float = 0.0

    @classmethod
    def of(cls, cfg: SessionConfig) -> "PlayerRules":
        return cls(cfg.max_buffer_s, cfg.wait_policy == "room", cfg.wait_quantum_s, cfg.resume_buffer_s)


def _expand_stage(
    curve: LinkCurve,
    q: np.ndarray,
    mu: float,
    ls: float,
    step_s: float,
    tau: np.ndarray,
    u: np.ndarray,
    acc: np.ndarray,
    r: np.ndarray,
    size_row: np.ndarray,
    dur_s: float,
    wall_offset_s: float,
    root: np.ndarray | None = None,
    rules: PlayerRules | None = None,
    paused: np.ndarray | None = None,
    floor: float | None = None,
    h_after: np.ndarray | None = None,
    exact: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """One DP stage: expand every state (link time ``tau``, buffer-dry time ``u``, value
    ``acc``, last rung ``r``) by every rung, round onto the grid and prune dominated
    states (module docstring). ``wall_offset_s`` is the wall clock minus the link time at
    the end of this download (Pensieve's RTTs). With ``root`` (the first action each
    state descends from), states are only merged or pruned within the same root, so the
    best value per root stays exact (:func:`action_values`).

    With ``rules`` the stage plays the real player's buffer cap and resume threshold
    instead of the relaxation; a state whose playback is stopped after a stall
    (``paused``) then keeps its buffered seconds in ``u`` instead of a time. The pruning
    rules are not proofs under a cap (more buffer can force a later, slower download),
    so this is an estimate, not a bound. Returns the new ``tau, u, acc, r``, each state's
    parent index, its root and its paused flag."""
    n_rungs = len(q)
    inv = 1.0 / step_s
    S = len(r)
    rr = np.tile(np.arange(n_rungs), S)
    par = np.repeat(np.arange(S), n_rungs)
    t0 = tau[par]
    uu = u[par]
    size = size_row[rr]
    prev_a = acc[par] + q[rr] - ls * np.abs(q[rr] - q[r[par]])
    if rules is None:
        fin = curve.finish(t0, size) - _SLACK_S
        w_fin = fin + wall_offset_s
        stall = np.maximum(w_fin - uu, 0.0)
        a = prev_a - mu * stall
        nu = np.maximum(uu, w_fin) + dur_s
        pz = None
    else:
        pz0 = paused[par] if paused is not None else np.zeros(len(par), dtype=bool)
        prev_off = wall_offset_s - curve.extra_wall_s
        if rules.room:  # wait until the segment fits under the cap (only while playing)
            t0 = np.where(pz0, t0, np.maximum(t0, uu + dur_s - rules.cap_s - prev_off))
        fin = curve.finish(t0, size) - _SLACK_S
        w_fin = fin + wall_offset_s
        # playing: a stall starts when the buffer runs dry; paused: the whole download stalls
        stall = np.where(pz0, w_fin - (t0 + prev_off), np.maximum(w_fin - uu, 0.0))
        level = np.where(pz0, uu, 0.0) + dur_s  # buffered seconds if playback is stopped
        stalled_now = pz0 | (w_fin > uu)
        pz = stalled_now & (level < rules.resume_s - 1e-9)
        nu = np.where(pz, level, np.where(stalled_now, w_fin + level, uu + dur_s))
        a = prev_a - mu * stall
        if not rules.room:  # Pensieve: sleep in quanta until back under the cap
            over = np.where(pz, 0.0, nu - w_fin - rules.cap_s)
            sleep = np.where(over > 0, np.ceil(over / rules.quantum_s - 1e-9) * rules.quantum_s, 0.0)
            fin = fin + sleep
    if floor is not None and h_after is not None:
        # branch and bound: drop what cannot reach a value some policy is known to reach,
        # even with no stall at all from here on (h_after: the best quality-minus-switching
        # sum of the segments still to come)
        live = a + h_after[rr] >= floor
        rr, par, fin, nu, a = rr[live], par[live], fin[live], nu[live], a[live]
        if pz is not None:
            pz = pz[live]
        if not len(a):
            raise OptimumError("internal: the branch-and-bound floor removed every state")
    # optimistic rounding onto the grid: tau down, u up
    it = np.floor(fin * inv).astype(np.int64)
    iu = np.ceil(nu * inv).astype(np.int64)
    grp = rr if root is None else root[par] * n_rungs + rr
    if pz is not None:
        grp = grp * 2 + pz
    # best value per (group, tau cell, u cell)
    key_order = np.lexsort((-a, iu, it, grp))
    g_s, it_s, iu_s = grp[key_order], it[key_order], iu[key_order]
    first = np.concatenate(([True], (g_s[1:] != g_s[:-1]) | (it_s[1:] != it_s[:-1]) | (iu_s[1:] != iu_s[:-1])))
    sel = key_order[first]
    grp, rr, it, iu, a, par = grp[sel], rr[sel], it[sel], iu[sel], a[sel], par[sel]
    # dominance: same (group, tau cell): a later u cell must not have a better value
    major = grp * (int(it.max()) + 2) + it
    keep = _grouped_dominance(major, -iu, a)
    grp, rr, it, iu, a, par = grp[keep], rr[keep], it[keep], iu[keep], a[keep], par[keep]
    # dominance across tau cells (the cone rule, module docstring)
    if exact:
        keep = _cone_keep(grp, it, iu * step_s, a, mu, CONE_SLACK)
    else:
        # a fast screen that is not a proof (it lets a state with less buffer stand for
        # one with more): only used to find a good path quickly, never for a bound
        cone = a - mu * (iu * step_s)
        keep = _grouped_dominance(grp, it, cone, tie_key=-cone)
    if pz is not None:
        keep |= (grp & 1).astype(bool)  # paused states: u is a level, the cone does not apply
    grp, rr, it, iu, a, par = grp[keep], rr[keep], it[keep], iu[keep], a[keep], par[keep]
    new_root = None if root is None else root[par]
    new_paused = None if pz is None else (grp & 1).astype(bool)
    return it * step_s, iu * step_s, a, rr, par, new_root, new_paused


def offline_optimum(
    title: Title,
    trace: Trace,
    config: SessionConfig | str = "default",
    model: str = "lin",
    *,
    step_s: float = DEFAULT_STEP_S,
    replay_path: bool = True,
) -> OptimumResult:
    """The DP bound (see the module docstring) and its best path."""
    cfg = mode_config(config) if isinstance(config, str) else config
    if step_s <= 0:
        raise OptimumError("step_s must be positive")
    track = title.video
    q, mu, ls = utilities(track.bitrates_bps, model)
    n_rungs = track.n_rungs
    K = track.n_segments if not cfg.max_segments else min(track.n_segments, cfg.max_segments)
    sizes = np.asarray(track.sizes_bytes[:K], dtype=np.float64)
    durs = np.asarray(track.segment_durations_s[:K], dtype=np.float64)
    curve = LinkCurve.for_mode(trace, cfg)
    extra = curve.extra_wall_s
    pensieve = cfg.mode == "pensieve"
    drop_first = pensieve

    # ---- first segment: exact, from link time 0 (our latency at 0 is the trace's own).
    if cfg.first_rung_bps is not None:
        first_rungs = np.array([track.rung_index(cfg.first_rung_bps)])
    else:
        first_rungs = np.arange(n_rungs)
    lat0 = float(trace.latencies_s[0]) if not pensieve else 0.0
    start0 = np.zeros(len(first_rungs)) + lat0
    tau = curve.time_at(curve.bytes_at(start0) + sizes[0, first_rungs]) - _SLACK_S
    wall = tau + extra  # wall clock: link time + RTTs so far (no idling in the relaxation)
    startup = wall - (lat0 if not cfg.startup_counts_latency else 0.0)
    if drop_first:
        acc = np.zeros(len(first_rungs))
    else:
        acc = q[first_rungs] - mu * np.maximum(startup, 0.0)
    u = wall + durs[0]
    r = first_rungs.astype(np.int64)
    from player.sim import simulate

    def replay(path: list[int]) -> float:
        s = simulate(title, trace, _Sequence(path), config=cfg, keep_events=False)
        return qoe(s.record(), model, drop_first=drop_first)

    # A fast pass with the screening rule finds a good path; what it really scores in
    # the simulator is a value some policy reaches, hence a floor for branch and bound.
    h = _no_stall_utility(q, ls, K)
    quick = _forward(curve, q, mu, ls, step_s, sizes, durs, extra, tau, u, acc, r, None, h, exact=False)
    first = int(np.flatnonzero(r == quick[1][0])[0])
    floor = _path_value(curve, q, mu, ls, sizes, durs, extra, tau[first], u[first], acc[first], quick[1])
    # the slack lets a kept state stand for a better one by up to _STAGE_LOSS a segment:
    # lower the floor by all of it, so that such stand-ins are never cut
    floor -= (K - 1) * _STAGE_LOSS + _PRUNE_MARGIN
    value, path, max_states = _forward(curve, q, mu, ls, step_s, sizes, durs, extra, tau, u, acc, r, floor, h, exact=True)
    bound = value + (K - 1) * _STAGE_LOSS
    res = OptimumResult(model=model, qoe_bound=bound, rungs=path, step_s=step_s, max_states=max_states)
    if replay_path:
        res.qoe_path = replay(path)
    return res


def _path_value(curve: LinkCurve, q: np.ndarray, mu: float, ls: float, sizes: np.ndarray, durs: np.ndarray,
                extra: float, tau: float, u: float, acc: float, path: list[int]) -> float:
    """The relaxation's value of one rung sequence, exactly (no grid): what that fixed
    policy scores in the relaxed model, so a value the optimum reaches at least."""
    t, uu, a = np.array([tau]), float(u), float(acc)
    for k in range(1, len(sizes)):
        r, prev = path[k], path[k - 1]
        fin = float(curve.finish(t, sizes[k, r])[0]) - _SLACK_S
        w_fin = fin + extra * (k + 1)
        a += q[r] - mu * max(w_fin - uu, 0.0) - ls * abs(q[r] - q[prev])
        uu = max(uu, w_fin) + durs[k]
        t = np.array([fin])
    return a


def _no_stall_utility(q: np.ndarray, ls: float, K: int) -> list[np.ndarray]:
    """h[m][r]: the best sum of quality minus switching over m more segments after one at
    rung r, if nothing ever stalled (an upper bound on what those segments can add)."""
    step = q[None, :] - ls * np.abs(q[None, :] - q[:, None])  # from rung r (row) to r2
    h = [np.zeros(len(q))]
    for _ in range(K):
        h.append(np.max(step + h[-1][None, :], axis=1))
    return h


def _forward(curve: LinkCurve, q: np.ndarray, mu: float, ls: float, step_s: float, sizes: np.ndarray,
             durs: np.ndarray, extra: float, tau: np.ndarray, u: np.ndarray, acc: np.ndarray, r: np.ndarray,
             floor: float | None, h: list[np.ndarray], exact: bool) -> tuple[float, list[int], int]:
    """The DP from the states after the first segment to the last: best value, its path
    and the largest state count."""
    K = len(sizes)
    parents: list[np.ndarray] = []
    rung_hist: list[np.ndarray] = [r]
    max_states = len(r)
    for k in range(1, K):
        tau, u, acc, r, par, _, _ = _expand_stage(
            curve, q, mu, ls, step_s, tau, u, acc, r, sizes[k], durs[k], extra * (k + 1),
            floor=floor, h_after=h[K - 1 - k], exact=exact,
        )
        parents.append(par)
        rung_hist.append(r)
        max_states = max(max_states, len(r))
    best = int(np.argmax(acc))
    path = [0] * K
    i = best
    for k in range(K - 1, -1, -1):
        path[k] = int(rung_hist[k][i])
        if k > 0:
            i = int(parents[k - 1][i])
    return float(acc[best]), path, max_states


def action_values(
    title: Title,
    trace: Trace,
    config: SessionConfig | str,
    *,
    segment_index: int,
    link_time_s: float,
    wall_s: float,
    buffer_s: float,
    last_rung: int,
    stalled: bool = False,
    model: str = "lin",
    horizon: int | None = None,
    step_s: float = 0.01,
    player_rules: bool = True,
) -> np.ndarray:
    """The best QoE still reachable from a mid-session state, for each rung of the next
    segment: ``values[a]`` is the best QoE of segments ``segment_index`` onwards
    (``horizon`` of them, or all) when the next segment is fetched at rung ``a`` and the
    rest are chosen knowing the trace.

    The state is what a simulator holds when the ABR decides: the link's position in the
    trace (``link_time_s``: ``TraceLink.position_s`` in default and sabre modes), the
    session clock (``wall_s``; it runs ahead of the link by Pensieve's RTTs), the buffer,
    the last rung, and whether playback is stopped after a stall (``stalled``). This is
    the oracle that labels states when the learned ABR is trained (player/imitation.py).

    With ``player_rules`` (the default) the DP plays the mode's buffer cap and resume
    threshold (:class:`PlayerRules`) and screens states with the fast rule that is no
    proof (a state with less buffer may stand for one with more), so the values are
    realistic estimates; without, it is the relaxation of :func:`offline_optimum`, pruned
    only where provably redundant, and every value is an upper bound. Merging and
    pruning stay within each first rung.
    """
    cfg = mode_config(config) if isinstance(config, str) else config
    track = title.video
    q, mu, ls = utilities(track.bitrates_bps, model)
    K = track.n_segments if not cfg.max_segments else min(track.n_segments, cfg.max_segments)
    if not 0 <= segment_index < K:
        raise OptimumError(f"segment_index {segment_index} outside 0..{K - 1}")
    end = K if horizon is None else min(K, segment_index + max(int(horizon), 1))
    curve = LinkCurve.for_mode(trace, cfg)
    rules = PlayerRules.of(cfg) if player_rules else None
    extra = curve.extra_wall_s
    offset0 = wall_s - link_time_s
    sizes = np.asarray(track.sizes_bytes, dtype=np.float64)
    durs = np.asarray(track.segment_durations_s, dtype=np.float64)
    buf = max(float(buffer_s), 0.0)
    pause = bool(stalled) and rules is not None and rules.resume_s > 0
    tau = np.array([float(link_time_s)])
    u = np.array([buf if pause else float(wall_s) + buf])
    paused = np.array([pause]) if rules is not None else None
    acc = np.zeros(1)
    r = np.array([int(last_rung)], dtype=np.int64)
    root: np.ndarray | None = None
    for j, k in enumerate(range(segment_index, end)):
        tau, u, acc, r, _, root, paused = _expand_stage(
            curve, q, mu, ls, step_s, tau, u, acc, r, sizes[k], durs[k], offset0 + extra * (j + 1), root, rules, paused,
            exact=not player_rules,
        )
        if root is None:
            root = r.copy()  # after the first stage each state's rung is its first action
    values = np.full(track.n_rungs, -np.inf)
    np.maximum.at(values, root, acc)
    if not player_rules:
        values += (end - segment_index - 1) * _STAGE_LOSS  # what the slack may have cost
    return values


def optimum_bound(title: Title, trace: Trace, config: SessionConfig, model: str = "lin") -> float:
    """Just the upper bound (what regret is measured from)."""
    return offline_optimum(title, trace, config, model, replay_path=False).qoe_bound


__all__ = ["LinkCurve", "OptimumError", "OptimumResult", "PlayerRules", "action_values", "offline_optimum", "optimum_bound", "utilities"]

