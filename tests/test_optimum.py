"""The offline optimum: hand-computed cases, and an upper bound on every algorithm."""

from pathlib import Path

import numpy as np
import pytest

from abr import create
from abr.registry import BUILTIN
from player.config import mode_config
from player.optimum import CONE_SLACK, LinkCurve, offline_optimum
from player.presentation import Rung, Title, Track
from player.replay import replay
from player.sim import simulate
from qoe.metrics import qoe
from tests.conftest import shared_path
from traces import constant_trace, iter_trace_files, load_trace
from traces.model import Provenance, Trace

ENVIVIO_KBPS = (300, 750, 1200, 1850, 2850, 4300)


def _flat_title(size_bytes: int, n: int = 49) -> Title:
    rungs = tuple(Rung(b * 1000) for b in ENVIVIO_KBPS)
    return Title("flat", Track("video", rungs, np.full(n, 4.0), np.full((n, 6), size_bytes, dtype=np.int64)))


def test_flat_title_fast_link_optimum_is_top_rung():
    # Every rung costs the same 95,000 B and the link is fast: play 4.3 Mbps throughout.
    # Pensieve mode: chunk 1 fixed at 750 kbps and unscored; chunk 2 pays |4.3 - 0.75|.
    res = offline_optimum(_flat_title(95_000), constant_trace(8e6, 1000.0), "pensieve", "lin")
    expected = 47 * 4.3 - (4.3 - 0.75)
    assert res.rungs == [1] + [5] * 47
    assert res.qoe_path == pytest.approx(expected)
    # the bound adds back what the pruning slack may have cost: CONE_SLACK per segment
    assert res.qoe_bound == pytest.approx(expected + 47 * CONE_SLACK, abs=1e-6)


def test_flat_title_slow_link_optimum_pays_the_rtt_stalls():
    # 0.2 Mbps: each 95,000 B chunk takes 4.0 s + 80 ms RTT, so each of chunks 2..48
    # stalls 0.08 s whatever the rung: the optimum still plays the top rung.
    res = offline_optimum(_flat_title(95_000), constant_trace(0.2e6, 1000.0), "pensieve", "lin")
    expected = 47 * 4.3 - 4.3 * 47 * 0.08 - (4.3 - 0.75)
    assert res.qoe_path == pytest.approx(expected)
    # the bound is above the truth by at most the documented u-rounding error and slack
    assert expected - 1e-9 <= res.qoe_bound <= expected + 4.3 * res.step_s * 48 + 47 * CONE_SLACK + 1e-6


def test_link_curve_matches_pensieve_link_on_a_real_trace():
    from player.link import PensieveLink

    tr = load_trace(iter_trace_files(shared_path("traces", "hsdpa3g"))[0])
    curve = LinkCurve.for_mode(tr, mode_config("pensieve"))
    link = PensieveLink(tr)
    tau = 0.0
    for size in (2_354_772, 181_801, 1_000_000, 50_000_000, 3_000_000):
        _, dt = link.download(size)
        fin = float(curve.finish(np.array([tau]), size)[0])
        assert fin - tau == pytest.approx(dt, rel=1e-9, abs=1e-9)
        tau = fin


def test_link_curve_loops_like_trace_link():
    from player.link import TraceLink

    tr = Trace([2.0, 3.0], [1e6, 4e6], [0.05, 0.05], name="two", provenance=Provenance("memory", "two"))
    curve = LinkCurve.for_mode(tr, mode_config("default"))
    link = TraceLink(tr)
    tau = 0.0
    for size in (100_000, 2_000_000, 7_000_000, 10):
        ttfb, dt = link.download(size)
        fin = float(curve.finish(np.array([tau]), size)[0])
        assert fin - tau == pytest.approx(ttfb + dt, rel=1e-9)
        tau = fin


@pytest.mark.parametrize("mode", ["pensieve", "default"])
def test_no_algorithm_beats_the_optimum_on_hsdpa3g(envivio, mode):
    traces = [load_trace(p) for p in iter_trace_files(shared_path("traces", "hsdpa3g"))]
    if mode == "default":
        traces = traces[::4]
    cfg = mode_config(mode)
    algos = [create(name, mode=mode) for name in sorted(BUILTIN)]
    for tr in traces:
        res = offline_optimum(envivio, tr, cfg, "lin")
        assert res.qoe_path <= res.qoe_bound + 1e-9, tr.name
        for algo in algos:
            s = simulate(envivio, tr, algo, config=cfg, keep_events=False)
            got = qoe(s.record(), "lin", drop_first=mode == "pensieve")
            assert got <= res.qoe_bound + 1e-9, (tr.name, algo.describe(), got, res.qoe_bound)


def test_replay_reports_regret_once_per_trace(tmp_path):
    d = shared_path("traces", "hsdpa3g")
    content = str(shared_path("content", "envivio.json"))
    files = iter_trace_files(d)[:3]
    rows = list(replay(files, content, ["bba", "robustmpc"], mode="pensieve", regret="lin", jobs=2))
    assert len(rows) == 6
    by_trace = {}
    for r in rows:
        assert r["regret_model"] == "lin"
        assert r["regret"] == pytest.approx(r["qoe_optimum"] - r["qoe_lin"])
        assert r["regret"] >= 0
        assert r["qoe_optimum_path"] <= r["qoe_optimum"] + 1e-9
        by_trace.setdefault(r["trace"], set()).add(r["qoe_optimum"])
    assert all(len(v) == 1 for v in by_trace.values())
    plain = list(replay(files[:1], content, ["bba"], mode="pensieve"))
    assert plain[0]["regret"] is None and plain[0]["qoe_optimum"] is None


@pytest.mark.parametrize("model", ["log", "hd"])
def test_optimum_bounds_other_qoe_models(envivio, model):
    tr = load_trace(iter_trace_files(shared_path("traces", "hsdpa3g"))[3])
    res = offline_optimum(envivio, tr, "pensieve", model)
    for name in ("bba", "robustmpc", "bola"):
        s = simulate(envivio, tr, create(name, mode="pensieve"), mode="pensieve", keep_events=False)
        assert qoe(s.record(), model, drop_first=True) <= res.qoe_bound + 1e-9


# ----------------------------------------------------------------------------- action values
FLAT_SIZES = tuple(b * 4 // 8 for b in (300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000))


def _nominal_title(n: int = 30) -> Title:
    rungs = tuple(Rung(b * 1000) for b in ENVIVIO_KBPS)
    return Title("nominal", Track("video", rungs, np.full(n, 4.0), np.tile(np.array(FLAT_SIZES), (n, 1))))


def _values(trace, buffer_s, last, horizon, stalled=False, rules=True, link=100.0):
    from player.optimum import action_values

    return action_values(_nominal_title(), trace, "default", segment_index=10, link_time_s=link, wall_s=link,
                         buffer_s=buffer_s, last_rung=last, stalled=stalled, horizon=horizon, step_s=1e-6,
                         player_rules=rules)


def test_action_values_one_segment_by_hand():
    # 4 Mbps: the six rungs download in 0.3, 0.75, 1.2, 1.85, 2.85, 4.3 s; 2 s of buffer;
    # value = Mbps - 4.3 x stall - |Mbps - 1.2|
    v = _values(constant_trace(4e6, 1000.0), 2.0, 2, 1)
    dl = [s / 500_000 for s in FLAT_SIZES]
    q = [k / 1000 for k in ENVIVIO_KBPS]
    by_hand = [q[a] - 4.3 * max(dl[a] - 2.0, 0.0) - abs(q[a] - 1.2) for a in range(6)]
    assert v == pytest.approx(by_hand, abs=1e-6)
    assert by_hand[2] == pytest.approx(1.2) and by_hand[5] == pytest.approx(4.3 - 4.3 * 2.3 - 3.1)


def test_action_values_play_the_resume_threshold():
    # 0.5 s of buffer, rung 5 first: 4.3 s download, 3.8 s stall; 4 s buffered < 5 s
    # (Media3's resume threshold), so the whole next download stalls too: rung 0 (0.3 s)
    # is then the best, 0.3 - 4.3 x 0.3 - 4.0. The relaxation resumes at once instead:
    # rung 5 again stalls only 0.3 s.
    tr = constant_trace(4e6, 1000.0)
    first = 4.3 - 4.3 * 3.8 - 4.0
    real = _values(tr, 0.5, 0, 2)
    assert real[5] == pytest.approx(first + (0.3 - 4.3 * 0.3 - 4.0), abs=1e-4)
    relaxed = _values(tr, 0.5, 0, 2, rules=False)  # (a bound: plus the slack of one stage)
    assert relaxed[5] == pytest.approx(first + (4.3 - 4.3 * 0.3) + CONE_SLACK, abs=1e-4)
    # already stalled with 4 s buffered: the next download is all stall
    paused = _values(tr, 4.0, 0, 1, stalled=True)
    assert paused[0] == pytest.approx(0.3 - 4.3 * 0.3, abs=1e-6)


def test_action_values_play_the_buffer_cap():
    # 48 s buffered, cap 50 s: the player waits 2 s before the request, by which time the
    # link has dropped from 4 Mbps to 0.1 Mbps (12,500 B/s). Rung 5 (2.15 MB) then takes
    # 172 s and stalls 172 - 46 = 126 s; fetched at once (the relaxation) it would get
    # 1 MB through at 4 Mbps and the rest in 92 s: 94 - 48 = 46 s of stall.
    from traces.generators import step_trace

    tr = step_trace([(102.0, 4e6), (1000.0, 0.1e6)])
    real = _values(tr, 48.0, 5, 1)
    relaxed = _values(tr, 48.0, 5, 1, rules=False)  # one stage: no slack
    assert real[5] == pytest.approx(4.3 - 4.3 * 126.0, abs=1e-4)
    assert relaxed[5] == pytest.approx(4.3 - 4.3 * 46.0, abs=1e-4)
    assert real[0] == pytest.approx(0.3 - 4.0, abs=1e-6)  # 12 s at 0.1 Mbps: no stall


def test_action_values_agree_with_the_offline_optimum():
    # Without the player's rules, from the very start, the value of the optimum's first
    # rung is the optimum itself, less the switch cost from the stated last rung (the
    # optimum charges none on its first segment). Both are upper bounds of the same
    # relaxation, each above the truth by at most its grid error (4.3 x step x segments).
    from player.optimum import action_values

    tr = load_trace(iter_trace_files(shared_path("traces", "hsdpa3g"))[2])
    title = _nominal_title(20)
    v = action_values(title, tr, "default", segment_index=0, link_time_s=0.0, wall_s=0.0, buffer_s=0.0,
                      last_rung=0, player_rules=False, step_s=0.01)
    res = offline_optimum(title, tr, "default", "lin", replay_path=False)
    first = res.rungs[0]
    expected = res.qoe_bound - abs(ENVIVIO_KBPS[first] - 300) / 1000
    err = 4.3 * (0.01 + 0.001) * 20 + 19 * CONE_SLACK
    assert abs(v[first] - expected) <= err
    assert max(v) <= res.qoe_bound + err  # no first rung beats the optimum


@pytest.mark.parametrize("mode", ["default", "pensieve"])
def test_action_values_predict_the_simulated_segment(envivio, mode):
    # One segment ahead the oracle's dynamics are exact: at every decision of a real
    # session (a fixed zig-zag of rungs over a real 3G trace with stalls), the value of
    # the rung then fetched is that segment's QoE_lin reward as qoe.metrics scores it.
    # This pins the state the oracle reads from the simulator (link time, clock, buffer,
    # stall flag) in both link models.
    from player.imitation import LinkClock
    from player.link import make_link
    from player.optimum import action_values
    from player.session import Session
    from player.sim import drive
    from qoe.metrics import per_segment_rewards

    tr = load_trace(iter_trace_files(shared_path("traces", "hsdpa3g"))[4])
    cfg = mode_config(mode)
    link = LinkClock(make_link(mode, tr), latency_on_trace=mode == "default")
    predicted = {}

    class ZigZag:
        name = "zigzag"

        def decide(self, ctx):
            rung = (0, 3, 5, 2, 4, 1)[ctx.segment_index % 6]
            if ctx.last_rung is not None:
                v = action_values(envivio, tr, cfg, segment_index=ctx.segment_index, link_time_s=link.position_s,
                                  wall_s=ctx.now_s, buffer_s=ctx.buffer_s, last_rung=ctx.last_rung,
                                  stalled=ctx.stalled, horizon=1, step_s=1e-6)
                predicted[ctx.segment_index] = v[rung]
            return rung

    s = Session(envivio, ZigZag(), cfg, keep_events=False)
    drive(s, link)
    rewards = per_segment_rewards(s.record(), "lin")
    assert sum(s.video.stalls[1:]) > 10  # the case has stalls
    assert len(predicted) == len(rewards) - 1
    for k, v in predicted.items():
        assert v == pytest.approx(rewards[k], abs=1e-6), k


def test_bound_beats_buying_buffer_with_an_expensive_first_segment():
    # Regression: the cone rule once let a state with *less* buffer stand for one with
    # more. On this fast trace, paying the top rung's startup for four seconds of buffer
    # beats starting low, and the old bound (249.47) sat below what dash.js reached
    # (249.72) and what the top rung throughout reaches (251.49).
    from player.defaults import default_content
    from player.optimum import _Sequence
    from player.presentation import load_title

    title = load_title(default_content())
    tr = load_trace(Path(__file__).resolve().parents[1] / "traces" / "bundled" / "broadband-04.json")
    res = offline_optimum(title, tr, "default", "lin")
    n = title.video.n_segments
    for first in range(6):
        s = simulate(title, tr, _Sequence([first] + [5] * (n - 1)), mode="default", keep_events=False)
        assert qoe(s.record(), "lin") <= res.qoe_bound + 1e-9, first
    assert res.rungs[0] == 5 and res.qoe_path == pytest.approx(251.4854416695652)


@pytest.mark.parametrize("mode", ["default", "pensieve"])
def test_bound_is_above_random_rung_sequences(envivio, mode):
    from player.optimum import _Sequence

    rng = np.random.default_rng(7)
    tr = load_trace(iter_trace_files(shared_path("traces", "hsdpa3g"))[6])
    res = offline_optimum(envivio, tr, mode, "lin", replay_path=False)
    for _ in range(25):
        # random walks up and down the ladder, some sticky, some jumpy
        steps = rng.integers(-1, 2, size=49) * rng.integers(1, 3, size=49)
        path = [int(x) for x in np.clip(np.cumsum(steps) + int(rng.integers(0, 6)), 0, 5)]
        s = simulate(envivio, tr, _Sequence(path), mode=mode, keep_events=False)
        assert qoe(s.record(), "lin", drop_first=mode == "pensieve") <= res.qoe_bound + 1e-9
