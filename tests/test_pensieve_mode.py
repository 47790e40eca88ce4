"""``--mode pensieve --abr bba`` against hand-computed cases and an independent port of
Pensieve's own simulator (bench/reference/pensieve_bb.py) on every real trace we have."""

import math

import numpy as np
import pytest

from abr import create
from bench.reference.pensieve_bb import reported_qoe, run_bb
from player.link import PensieveLink
from player.presentation import Rung, Title, Track
from player.sim import simulate
from qoe.events import SegmentLoaded
from qoe.metrics import qoe
from traces import constant_trace, load_trace
from traces.formats import cooked_arrays, read_cooked
from tests.conftest import shared_path


def test_worked_case_first_4300_chunk_on_3mbps():
    # The worked case: 2,354,772 bytes / 375,000 B/s / 0.95 = 6.61 s, + 80 ms.
    link = PensieveLink(constant_trace(3e6, 100.0))
    ttfb, transfer = link.download(2_354_772)
    assert ttfb == pytest.approx(0.08)
    assert transfer == pytest.approx(2_354_772 / 375_000 / 0.95)
    assert transfer == pytest.approx(6.61, abs=0.005)


def test_worked_case_size_is_envivio_first_top_chunk(envivio):
    assert envivio.video.sizes_bytes[0, 5] == 2_354_772
    assert envivio.video.bitrates_bps[5] == 4_300_000


def _flat_title(size_bytes: int, n: int = 49) -> Title:
    rungs = tuple(Rung(b * 1000) for b in (300, 750, 1200, 1850, 2850, 4300))
    sizes = np.full((n, 6), size_bytes, dtype=np.int64)
    return Title("flat", Track("video", rungs, np.full(n, 4.0), sizes))


def test_stall_hand_computed():
    # 0.2 Mbps link: payload 25,000 B/s x 0.95 = 23,750 B/s. Every chunk is 95,000 B,
    # so every download takes 4.0 s + 0.08 s = 4.08 s.
    title = _flat_title(95_000)
    s = simulate(title, constant_trace(0.2e6, 1000.0), create("bba", mode="pensieve"), mode="pensieve")
    loads = [e for e in s.log if isinstance(e, SegmentLoaded)]
    assert len(loads) == 48
    # chunk 1: startup 4.08 s; buffer 4.0
    assert s.startup_s == pytest.approx(4.08)
    assert loads[0].buffer_s == pytest.approx(4.0)
    # chunk 2: buffer 4.0 drains in 4.08 s -> 0.08 s stall, buffer = 0 + 4 = 4
    assert loads[1].stall_s == pytest.approx(0.08)
    assert loads[1].buffer_s == pytest.approx(4.0)
    # every later chunk the same: 47 stalls of 0.08 s
    assert all(e.stall_s == pytest.approx(0.08) for e in loads[1:])
    assert s.stall_count == 47
    assert s.rebuffer_s == pytest.approx(47 * 0.08)
    # BB: buffer 4 < reservoir 5 -> rung 0 after the 750 kbps first chunk.
    assert [e.rung for e in loads] == [1] + [0] * 47
    # Pensieve's reported QoE_lin: chunks 2..48; chunk 2 pays |0.3 - 0.75| once.
    expected = 47 * 0.3 - 4.3 * 47 * 0.08 - 0.45
    assert qoe(s.record(), "lin", drop_first=True) == pytest.approx(expected)


def test_buffer_cap_hand_computed():
    # 8 Mbps link: 1,000,000 B/s x 0.95; 95,000 B chunks take 0.1 s + 0.08 s = 0.18 s.
    # Buffer after chunk k (no cap): 4 + 3.82 (k - 1). Chunk 16 makes 61.3 s: sleep
    # ceil(1.3 / 0.5) x 0.5 = 1.5 s -> 59.8. Chunk 17: 59.8 - 0.18 + 4 = 63.62 ->
    # sleep 4.0 -> 59.62. Chunk 18: 63.44 -> sleep 3.5 -> 59.94.
    title = _flat_title(95_000)
    s = simulate(title, constant_trace(8e6, 1000.0), create("bba", mode="pensieve"), mode="pensieve")
    loads = [e for e in s.log if isinstance(e, SegmentLoaded)]
    bufs = [e.buffer_s for e in loads]
    for k in range(1, 16):
        assert bufs[k - 1] == pytest.approx(4 + 3.82 * (k - 1))
    assert bufs[15] == pytest.approx(61.3)
    assert bufs[16] == pytest.approx(59.8 - 0.18 + 4)
    assert bufs[17] == pytest.approx(59.62 - 0.18 + 4)
    # Sleeps advance the clock: chunk 17 arrives 1.5 s (sleep) + 0.18 s after chunk 16.
    assert loads[16].t - loads[15].t == pytest.approx(1.5 + 0.18)
    assert loads[17].t - loads[16].t == pytest.approx(4.0 + 0.18)
    assert s.stall_count == 0


def test_sleep_advances_trace_position():
    # A trace at 8 Mbps for 60 s then 0.2 Mbps: sleeps must move the trace pointer so the
    # slow phase arrives on time (Pensieve's sleep loop advances the trace).
    from traces.model import Provenance, Trace

    tr = Trace([60.0, 1000.0], [8e6, 0.2e6], [0.0, 0.0], name="step", provenance=Provenance("memory", "step"))
    link = PensieveLink(tr)
    link.idle(59.9)
    ttfb, dt = link.download(95_000 * 2)  # 0.1 s of fast link carries 95,000 B
    assert dt == pytest.approx(0.1 + 95_000 / 23_750)


def test_cooked_wrap_quirk():
    # Pensieve loops to line 1 with the previous time set to 0, not t(0).
    tr = read_cooked("1.0 9\n2.0 8\n3.0 8\n")
    link = PensieveLink(tr)
    # first pass: from t=1 to 3 at 8 Mbps (line 0's 9 Mbps never used): 2 s carry
    # 2 x 1e6 x 0.95 B; after the wrap, line 1 holds from 0 to 2 (2 s at 8 Mbps).
    size = 2 * 1e6 * 0.95 + 1.5 * 1e6 * 0.95
    ttfb, dt = link.download(int(size))
    assert dt == pytest.approx(2.0 + 1.5)


@pytest.mark.parametrize("folder", ["hsdpa3g", "belgium4g", "fcc_sd"])
def test_bb_matches_pensieve_reference_on_real_traces(envivio, folder):
    d = shared_path("traces", folder)
    files = sorted(p for p in d.iterdir() if p.suffix == ".json")
    traces = [load_trace(p) for p in files]
    cols = [cooked_arrays(t) for t in traces]
    video_size = {q: [int(x) for x in envivio.video.sizes_bytes[:, q]] for q in range(6)}
    ref_rewards, ref_rates = run_bb([c[0] for c in cols], [c[1] for c in cols], video_size)
    algo = create("bba", mode="pensieve")
    for tr, rewards, rates in zip(traces, ref_rewards, ref_rates):
        s = simulate(envivio, tr, algo, mode="pensieve")
        rec = s.record()
        assert [envivio.video.bitrates_bps[r] // 1000 for r in rec.rungs] == rates, tr.name
        assert abs(qoe(rec, "lin", drop_first=True) - reported_qoe(rewards)) < 1e-6, tr.name


def test_bb_matches_reference_on_cooked_file_with_offset_start(envivio, tmp_path):
    # A cooked file whose first time is not 0 exercises the start/wrap quirks end to end.
    rng = np.random.default_rng(3)
    t = 0.7 + np.cumsum(rng.uniform(0.3, 1.2, 300))
    bw = rng.uniform(0.2, 5.0, 300)
    p = tmp_path / "offset_trace"
    p.write_text("".join(f"{float(a)!r} {float(b)!r}\n" for a, b in zip(t, bw)))
    tr = load_trace(p)
    times, bws = cooked_arrays(tr)
    assert times == [float(x) for x in t] and bws == [float(x) for x in bw]
    video_size = {q: [int(x) for x in envivio.video.sizes_bytes[:, q]] for q in range(6)}
    ref_rewards, _ = run_bb([times], [bws], video_size)
    s = simulate(envivio, tr, create("bba", mode="pensieve"), mode="pensieve")
    assert abs(qoe(s.record(), "lin", drop_first=True) - reported_qoe(ref_rewards[0])) < 1e-6


def test_repeated_cooked_times_match_the_reference(envivio, tmp_path):
    # Zero-length intervals (a time repeated on two lines) carry nothing; Pensieve steps
    # over them, and so must we, number for number.
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(0.3, 1.2, 200))
    t[50] = t[49]
    t[120] = t[119]
    t = np.concatenate(([0.0], t))
    bw = rng.uniform(0.2, 5.0, t.size)
    p = tmp_path / "repeats"
    p.write_text("".join(f"{float(a)!r} {float(b)!r}\n" for a, b in zip(t, bw)))
    tr = load_trace(p)
    assert tr.n_entries == t.size - 1 - 2
    times, bws = cooked_arrays(tr)
    video_size = {q: [int(x) for x in envivio.video.sizes_bytes[:, q]] for q in range(6)}
    ref_rewards, _ = run_bb([times], [bws], video_size)
    s = simulate(envivio, tr, create("bba", mode="pensieve"), mode="pensieve")
    assert abs(qoe(s.record(), "lin", drop_first=True) - reported_qoe(ref_rewards[0])) < 1e-6
