"""MPC / RobustMPC / FastMPC against hand-computed decisions and against the
transliteration of Pensieve's test/mpc.py (bench/reference/pensieve_mpc.py)."""

import itertools
import os
import shutil

import numpy as np
import pytest

from abr import create
from abr.base import AbrContext, TransferSample
from abr.mpc import SequencePlanner, ThroughputHistory
from bench.reference.mpc_bruteforce import BruteForcePlanner
from bench.reference.pensieve_bb import reported_qoe
from bench.reference.pensieve_mpc import run_mpc
from player.replay import collect_traces, replay, resolve_order
from player.sim import simulate
from qoe.metrics import qoe
from tests.conftest import shared_path
from traces import load_trace
from traces.formats import cooked_arrays

TWO = (1_000_000, 3_000_000)  # a 1 Mbps / 3 Mbps ladder


# ----------------------------------------------------------------------------- predictor
def test_robust_prediction_hand_computed():
    h = ThroughputHistory(window=5, error_window=5)
    h.add(1.0)  # first sample: no estimate to compare with, error 0; estimate 1.0
    assert h.prediction(robust=True) == pytest.approx(1.0)
    h.add(2.0)  # error |1.0 - 2.0| / 2.0 = 0.5; harmonic mean of 1, 2 = 4/3
    assert h.last_estimate == pytest.approx(4 / 3)
    assert h.prediction(robust=False) == pytest.approx(4 / 3)
    assert h.prediction(robust=True) == pytest.approx((4 / 3) / 1.5)
    for x in (2.0, 2.0, 2.0, 2.0, 2.0):
        h.add(x)
    # window of 5: all 2.0 now; the 0.5 error has left the last five errors
    assert h.last_estimate == pytest.approx(2.0)
    assert max(h.errors) < 0.5
    assert h.prediction(robust=True) == pytest.approx(2.0 / (1 + max(h.errors)))


def test_sample_is_size_over_delay_including_latency():
    algo = create("robustmpc")
    algo.on_download(TransferSample(1.0, 1_000_000, 0.08, 1.92), None)
    # Pensieve: bytes / (download ms + 80 ms) / 1000 = 1e6 / 2000 / 1000 = 0.5 MB/s
    assert algo.prediction_mbps() == pytest.approx(0.5)
    algo2 = create("robustmpc:include_latency=false")
    algo2.on_download(TransferSample(1.0, 1_000_000, 0.08, 1.92), None)
    assert algo2.prediction_mbps() == pytest.approx(1 / 1.92)


# ----------------------------------------------------------------------------- search
def _dl(sizes_mb, bw):
    return [[s / bw for s in row] for row in sizes_mb]


@pytest.mark.parametrize("planner_cls", [SequencePlanner, BruteForcePlanner])
def test_chosen_sequence_hand_computed(planner_cls):
    # Rungs of 0.5 MB and 1.5 MB per 4 s segment, predicted 0.5 MB/s: downloads take
    # 1 s and 3 s. Horizon 2, last rung 0.
    p = planner_cls(TWO)
    dl = _dl([[0.5, 1.5], [0.5, 1.5]], 0.5)
    durs = [4.0, 4.0]
    # Buffer 4 s: (1,1) never stalls: 1 + 3 + 3 ... score 1+3... = 3+3 - |3-1| = 4 > (0,0)=2,
    # (0,1) = 1+3-2 = 2, (1,0) = 3+1-2-2 = 0.  -> rung 1.
    assert p.best_first_rung(dl, durs, 4.0, 0) == 1
    # Buffer 2.5 s: (1,1) stalls 0.5 s: 6 - 4.3*0.5 - 2 = 1.85 < 2 = (0,0) = (0,1) -> rung 0.
    assert p.best_first_rung(dl, durs, 2.5, 0) == 0


def test_exact_score_matches_hand_computation():
    p = SequencePlanner(TWO)
    dl = _dl([[0.5, 1.5], [0.5, 1.5]], 0.5)
    assert p.exact_score((1, 1), dl, [4.0, 4.0], 2.5, 0) == pytest.approx(6 - 4.3 * 0.5 - 2)
    assert p.exact_score((0, 1), dl, [4.0, 4.0], 2.5, 0) == pytest.approx(2.0)
    assert p.exact_score((1, 0), dl, [4.0, 4.0], 4.0, 0) == pytest.approx(0.0)


@pytest.mark.parametrize("planner_cls", [SequencePlanner, BruteForcePlanner])
def test_tie_breaking(planner_cls):
    # Horizon 1 from rung 0 with plenty of buffer: staying scores 1, going up scores
    # 3 - |3 - 1| = 1: a tie. Correct default: the first sequence (rung 0); Pensieve's
    # ">=" keeps the last (rung 1).
    p = planner_cls(TWO)
    dl = _dl([[0.5, 1.5]], 0.5)
    assert p.best_first_rung(dl, [4.0], 20.0, 0, ties_last=False) == 0
    assert p.best_first_rung(dl, [4.0], 20.0, 0, ties_last=True) == 1


def test_branch_and_bound_equals_enumeration_on_random_cases():
    rng = np.random.default_rng(7)
    ladder = (300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000)
    fast, brute = SequencePlanner(ladder), BruteForcePlanner(ladder)
    for _ in range(300):
        h = int(rng.integers(1, 6))
        bw = float(np.exp(rng.uniform(np.log(0.02), np.log(1.5))))
        sizes = [[b * 4 / 8 / 1e6 * float(rng.uniform(0.7, 1.3)) for b in ladder] for _ in range(h)]
        dl = _dl(sizes, bw)
        b0 = float(rng.uniform(0, 40))
        last = int(rng.integers(0, 6))
        for ties in (False, True):
            assert fast.best_first_rung(dl, [4.0] * h, b0, last, ties) == brute.best_first_rung(dl, [4.0] * h, b0, last, ties)


def test_pensieve_objective_exhaustive_small_case():
    # All 2^3 sequences scored by hand-written Pensieve arithmetic; the planner must pick
    # the first rung of the best one.
    p = SequencePlanner(TWO)
    dl = _dl([[0.4, 1.3], [0.6, 1.6], [0.5, 1.4]], 0.4)
    durs = [4.0] * 3
    for b0 in (0.0, 1.0, 3.0, 5.0, 9.0):
        for last in (0, 1):
            best = None
            for c in itertools.product((0, 1), repeat=3):
                buf, reb, q, sm, lq = b0, 0.0, 0.0, 0.0, last
                for k, r in enumerate(c):
                    t = dl[k][r]
                    reb += max(t - buf, 0.0)
                    buf = max(buf - t, 0.0) + 4.0
                    q += TWO[r] / 1e6
                    sm += abs(TWO[r] - TWO[lq]) / 1e6
                    lq = r
                s = q - 4.3 * reb - sm
                if best is None or s > best[0] + 1e-12:
                    best = (s, c)
            assert p.best_first_rung(dl, durs, b0, last) == best[1][0], (b0, last)


# ----------------------------------------------------------------------------- quirks
def _ctx(sizes_rows, n_session=None):
    ctx = AbrContext(
        rungs=TWO, bitrates_bps=TWO, size_rows=sizes_rows, durations=[4.0] * len(sizes_rows), max_buffer_s=60.0
    )
    if n_session is not None:
        ctx.segment_count = n_session
    return ctx


def test_sizes_ahead_quirk_reads_the_next_index():
    # Segment 1 is cheap at the top rung, segment 2 very expensive. The correct planner
    # scores segment 1 (and goes up); with sizes_ahead it scores segment 2 (and stays).
    rows = [(500_000, 1_500_000), (500_000, 1_500_000), (500_000, 50_000_000)]
    correct = create("robustmpc:horizon=1")
    quirky = create("robustmpc:horizon=1,sizes_ahead=true")
    for a in (correct, quirky):
        a.on_download(TransferSample(1.0, 500_000, 0.0, 1.0), None)  # 0.5 MB/s
    ctx = _ctx(rows)
    ctx.segment_index = 1
    ctx.buffer_s = 10.0
    ctx.last_rung = 1
    assert correct.decide(ctx) == 1
    assert quirky.decide(ctx) == 0


def test_horizon_stops_at_session_end():
    # The session ends at segment 2 of 3: from index 1, only one segment is planned.
    rows = [(500_000, 1_500_000)] * 3
    algo = create("robustmpc")
    algo.on_download(TransferSample(1.0, 500_000, 0.0, 1.0), None)
    ctx = _ctx(rows, n_session=2)
    ctx.segment_index = 1
    ctx.buffer_s = 20.0
    ctx.last_rung = 0
    # One segment left, tie between staying (1) and going up (3 - 2 = 1): first -> 0.
    assert algo.decide(ctx) == 0


def test_pensieve_quirks_switch_sets_every_quirk():
    a = create("robustmpc:pensieve_quirks=true")
    assert a.carry_errors and a.sizes_ahead and a.ties == "last"
    assert a.carries_state_across_sessions
    assert not create("robustmpc").carries_state_across_sessions


def test_carry_errors_keeps_history_across_reset():
    a = create("robustmpc:carry_errors=true")
    a.on_download(TransferSample(1.0, 1_000_000, 0.0, 1.0), None)
    a.reset()
    a.on_download(TransferSample(1.0, 2_000_000, 0.0, 1.0), None)
    # error against the previous session's estimate: |1 - 2| / 2
    assert list(a.history.errors) == [0.0, 0.5]
    b = create("robustmpc")
    b.on_download(TransferSample(1.0, 1_000_000, 0.0, 1.0), None)
    b.reset()
    b.on_download(TransferSample(1.0, 2_000_000, 0.0, 1.0), None)
    assert list(b.history.errors) == [0.0]


# ----------------------------------------------------------------------------- reference
def _check_against_reference(envivio, files):
    traces = [load_trace(p) for p in files]
    cols = [cooked_arrays(t) for t in traces]
    sizes = {q: [int(x) for x in envivio.video.sizes_bytes[:, q]] for q in range(6)}
    ref_rewards, ref_rates = run_mpc([c[0] for c in cols], [c[1] for c in cols], sizes)
    algo = create("robustmpc:pensieve_quirks=true", mode="pensieve")
    for tr, rewards, rates in zip(traces, ref_rewards, ref_rates):
        s = simulate(envivio, tr, algo, mode="pensieve", keep_events=False)
        rec = s.record()
        assert [envivio.video.bitrates_bps[r] // 1000 for r in rec.rungs] == rates, tr.name
        assert abs(qoe(rec, "lin", drop_first=True) - reported_qoe(rewards)) < 1e-6, tr.name


def test_mpc_sizes_are_envivio():
    # mpc.py hard-codes Envivio's sizes (size_video1 = top rung ... size_video6 = bottom);
    # first and last entries of its lists:
    env_sizes = None
    from player.presentation import load_title

    env_sizes = load_title(shared_path("content", "envivio.json")).video.sizes_bytes
    assert (env_sizes[0, 5], env_sizes[48, 5]) == (2354772, 1433658)
    assert (env_sizes[0, 0], env_sizes[48, 0]) == (181801, 112270)
    assert (env_sizes[0, 4], env_sizes[48, 4]) == (1728879, 889412)


@pytest.mark.parametrize("folder", ["hsdpa3g", "belgium4g", "fcc_sd"])
def test_robustmpc_quirks_match_pensieve_first_traces(envivio, folder):
    d = shared_path("traces", folder)
    files = sorted(p for p in d.iterdir() if p.suffix == ".json")[:4]
    _check_against_reference(envivio, files)


@pytest.mark.slow
@pytest.mark.parametrize("folder", ["hsdpa3g", "belgium4g", "fcc_sd"])
def test_robustmpc_quirks_match_pensieve_every_trace(envivio, folder):
    d = shared_path("traces", folder)
    _check_against_reference(envivio, sorted(p for p in d.iterdir() if p.suffix == ".json"))


def _copied_in_reverse(folder, n, tmp_path):
    """The first ``n`` traces of a ../shared folder, copied in reverse creation order."""
    src = shared_path("traces", folder)
    names = sorted(p.name for p in src.iterdir() if p.suffix == ".json")[:n]
    d = tmp_path / "tr"
    d.mkdir()
    for name in reversed(names):
        shutil.copy(src / name, d / name)
    return d


def _reference_rewards(envivio, files):
    """mpc.py's per-chunk rewards over ``files`` in the order given (one run)."""
    cols = [cooked_arrays(load_trace(p)) for p in files]
    sizes = {q: [int(x) for x in envivio.video.sizes_bytes[:, q]] for q in range(6)}
    return run_mpc([c[0] for c in cols], [c[1] for c in cols], sizes)[0]


def test_replay_keeps_carrying_sessions_in_order_listdir(envivio, tmp_path):
    # Copy a few traces in a chosen creation order; replay in listdir order with the
    # quirks on, jobs=2, and compare with the reference run over the same order.
    d = _copied_in_reverse("hsdpa3g", 5, tmp_path)
    listed = collect_traces([d], order="listdir")
    assert [os.path.basename(p) for p in listed] == [n for n in os.listdir(d)]
    ref_rewards = _reference_rewards(envivio, listed)
    content = str(shared_path("content", "envivio.json"))
    spec = "robustmpc:pensieve_quirks=true"
    rows1 = list(replay([d], content, [spec], mode="pensieve", jobs=1, order="listdir"))
    rows2 = list(replay([d], content, [spec, "bba"], mode="pensieve", jobs=2, order="listdir"))
    q1 = [r["qoe_lin"] for r in rows1]
    q2 = [r["qoe_lin"] for r in rows2 if r["abr_spec"] == spec]
    assert q1 == q2
    # With no order given, the carried state makes the replay read the directory as
    # Pensieve does; an algorithm without such state gets names sorted.
    rows_auto = list(replay([d], content, [spec], mode="pensieve"))
    assert [r["trace"] for r in rows_auto] == [r["trace"] for r in rows1] and [r["qoe_lin"] for r in rows_auto] == q1
    assert resolve_order("auto", [spec], "pensieve") == "listdir" and resolve_order("auto", ["robustmpc", "bba"]) == "sorted"
    assert [r["trace"] for r in rows1] == [os.path.splitext(os.path.basename(p))[0] for p in listed]
    for got, rw in zip(q1, ref_rewards):
        assert abs(got - reported_qoe(rw)) < 1e-6


def test_cli_replay_with_quirks_matches_pensieve_and_reports_regret(envivio, tmp_path):
    # As a user runs it: the quirks switch from the command line, in pensieve mode, the
    # directory in os.listdir order (as Pensieve loads it), regret against the optimum.
    import subprocess
    import sys

    from player.results import read_results

    d = _copied_in_reverse("belgium4g", 4, tmp_path)
    out = tmp_path / "res.csv"
    spec = "robustmpc:pensieve_quirks=true"
    r = subprocess.run(
        [sys.executable, "-m", "player", "replay", "--trace", str(d), "--content", str(shared_path("content", "envivio.json")),
         "--abr", f"{spec},throughput", "--mode", "pensieve", "--order", "listdir", "--regret", "lin", "--out", str(out), "-q"],
        capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "regret" in r.stdout and "qoe_optimum" in r.stdout
    rows = read_results(out)
    listed = [os.path.splitext(n)[0] for n in os.listdir(d)]
    quirky = {row["trace"]: row for row in rows if row["abr_spec"] == spec}
    ref_rewards = _reference_rewards(envivio, [d / f"{n}.json" for n in listed])
    for name, rw in zip(listed, ref_rewards):
        assert abs(quirky[name]["qoe_lin"] - reported_qoe(rw)) < 1e-6, name
    for row in rows:
        assert row["regret"] == pytest.approx(row["qoe_optimum"] - row["qoe_lin"])
        assert row["regret"] >= -1e-9
