"""The offline optimum: hand-computed cases, and an upper bound on every algorithm."""

import numpy as np
import pytest

from abr import create
from abr.registry import BUILTIN
from player.config import mode_config
from player.optimum import LinkCurve, offline_optimum
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
    assert res.qoe_bound == pytest.approx(expected, abs=1e-9)


def test_flat_title_slow_link_optimum_pays_the_rtt_stalls():
    # 0.2 Mbps: each 95,000 B chunk takes 4.0 s + 80 ms RTT, so each of chunks 2..48
    # stalls 0.08 s whatever the rung: the optimum still plays the top rung.
    res = offline_optimum(_flat_title(95_000), constant_trace(0.2e6, 1000.0), "pensieve", "lin")
    expected = 47 * 4.3 - 4.3 * 47 * 0.08 - (4.3 - 0.75)
    assert res.qoe_path == pytest.approx(expected)
    # the bound is above the truth by at most the documented u-rounding error
    assert expected - 1e-9 <= res.qoe_bound <= expected + 4.3 * res.step_s * 48


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
