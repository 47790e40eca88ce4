"""First algorithms, estimators and the registry against hand-computed values."""

import math
import sys
import textwrap

import pytest

from abr import AbrError, TransferSample, create, parse_spec, split_specs
from abr.base import AbrContext
from abr.estimators import DualEwmaEstimator, SlidingMeanEstimator, SlidingPercentileEstimator
from abr.registry import _entry_point_targets, available
from player.presentation import Rung

LADDER = (300_000, 750_000, 1_200_000, 1_850_000, 2_850_000, 4_300_000)


def ctx(buffer_s=0.0, last=None, seg_dur=4.0, sizes=None):
    rows = [sizes or [int(b * seg_dur / 8) for b in LADDER]] * 3
    c = AbrContext(
        rungs=tuple(Rung(b) for b in LADDER),
        bitrates_bps=LADDER,
        size_rows=rows,
        durations=[seg_dur] * 3,
        max_buffer_s=60.0,
    )
    c.buffer_s = buffer_s
    c.last_rung = last
    c.segment_duration_s = seg_dur
    return c


@pytest.mark.parametrize(
    "buf,rung",
    # Pensieve BB: int(5 * (B - 5) / 10) between 5 s and 15 s.
    [(0.0, 0), (4.99, 0), (5.0, 0), (6.99, 0), (7.0, 1), (9.0, 2), (11.5, 3), (13.0, 4), (14.99, 4), (15.0, 5), (60, 5)],
)
def test_bba_pensieve_index_map(buf, rung):
    assert create("bba", mode="pensieve").decide(ctx(buf)) == rung


def test_bba_paper_rate_map_with_hysteresis():
    # f(B) = 300 + 4000 (B - 5) / 10 kbps between the reservoir (5 s) and 15 s.
    a = create("bba")
    assert a.decide(ctx(5.0, last=3)) == 0  # at the reservoir: R_min
    assert a.decide(ctx(15.0, last=0)) == 5  # at reservoir + cushion: R_max
    # B = 7 s: f = 1100 kbps. From rung 0 (R+ = 750 <= f): highest rung below f = 750.
    assert a.decide(ctx(7.0, last=0)) == 1
    # From rung 2 (1200): R- = 750 < f < R+ = 1850 -> stay.
    assert a.decide(ctx(7.0, last=2)) == 2
    # From rung 4 (2850): f = 1100 <= R- = 1850 -> lowest rung above f = 1200.
    assert a.decide(ctx(7.0, last=4)) == 2


def test_bola_scores_hand_computed():
    # Sabre defaults: gamma_p = 5, buffer 25 s, 4 s segments. v_m = ln(S_m / S_1);
    # V = (25 - 4) / (ln(4300/300) + 5).
    a = create("bola")
    v = (25 - 4) / (math.log(4300 / 300) + 5)
    for buf in (0.0, 5.0, 10.0, 18.0, 30.0):
        scores = a.scores(ctx(buf))
        want = [(v * (math.log(b / 300_000) + 5) - buf) / b for b in LADDER]
        assert scores == pytest.approx(want)
        assert a.decide(ctx(buf)) == max(range(6), key=lambda i: want[i])
    # Buffer 0 -> lowest rung; buffer just below V (v_M + gamma_p) = 21 s -> top rung.
    assert a.decide(ctx(0.0)) == 0
    assert a.decide(ctx(20.9)) == 5


def test_throughput_rule_harmonic_mean():
    a = create("throughput")  # harmonic mean of 5, safety 0.9
    c = ctx(10.0)
    assert a.decide(c) == 0  # no samples yet
    for rate in (1e6, 2e6, 4e6, 4e6, 4e6):
        a.estimator.add(TransferSample(0.0, int(rate / 8), 0.0, 1.0))
    hm = 5 / (1 / 1e6 + 1 / 2e6 + 3 / 4e6)
    assert a.estimator.estimate_bps() == pytest.approx(hm)
    # 0.9 x 2.222 Mbps = 2.0 Mbps -> 1850 kbps rung
    assert a.decide(c) == 3


def test_estimators_hand_computed():
    e = DualEwmaEstimator(fast_half_life_s=3, slow_half_life_s=9)
    e.add(TransferSample(1.0, 1_000_000, 0.0, 1.0))  # 8 Mbps for 1 s
    assert e.estimate_bps() == pytest.approx(8e6)  # zero-factor correction: exact
    e.add(TransferSample(2.0, 250_000, 0.0, 1.0))  # 2 Mbps for 1 s
    a3, a9 = 0.5 ** (1 / 3), 0.5 ** (1 / 9)
    fast = (2e6 * (1 - a3) + a3 * 8e6 * (1 - a3)) / (1 - 0.5 ** (2 / 3))
    slow = (2e6 * (1 - a9) + a9 * 8e6 * (1 - a9)) / (1 - 0.5 ** (2 / 9))
    assert e.estimate_bps() == pytest.approx(min(fast, slow))
    m = SlidingMeanEstimator(3, "arithmetic")
    for r in (1e6, 2e6, 3e6, 10e6):
        m.add(TransferSample(0, int(r / 8), 0, 1.0))
    assert m.estimate_bps() == pytest.approx(5e6)
    p = SlidingPercentileEstimator(0.5)
    for size, r in ((10_000, 1e6), (40_000, 5e6), (90_000, 2e6)):
        p.add(TransferSample(0, size, 0.0, size * 8 / r))
    # weights sqrt(bytes) = 100, 200, 300; sorted by rate: 1 (100), 2 (300), 5 (200);
    # half the total weight (300) is reached at the 2 Mbps sample.
    assert p.estimate_bps() == pytest.approx(2e6)


def test_spec_parsing():
    assert parse_spec("bola:gamma_p=5,buffer_s=25").params == {"gamma_p": "5", "buffer_s": "25"}
    sp = parse_spec("mypkg.mod:MyAbr:alpha=0.3")
    assert sp.name == "mypkg.mod:MyAbr" and sp.params == {"alpha": "0.3"}
    assert split_specs("bba,bola:gamma_p=5,buffer_s=25,throughput") == [
        "bba", "bola:gamma_p=5,buffer_s=25", "throughput"]
    a = create("bola:gamma_p=7,buffer_s=30")
    assert (a.gamma_p, a.buffer_s) == (7.0, 30.0)
    assert create("bba", mode="pensieve").map == "index"
    assert create("bba:preset=paper", mode="pensieve").map == "rate"


@pytest.mark.parametrize(
    "spec,msg",
    [("nope", "unknown ABR algorithm"), ("bola:gamma=5", "unknown parameter"), ("bola:gamma_p=x", "expected float"),
     ("bba:map=log", "choose one of"), ("bba:preset=zz", "unknown preset"), ("bola:gamma_p", "key=value"),
     ("no.such.module:Cls", "cannot import")],
)
def test_bad_specs_are_clear_errors(spec, msg):
    with pytest.raises(AbrError, match=msg):
        create(spec)


def test_module_class_and_entry_point(tmp_path, monkeypatch):
    pkg = tmp_path / "myabr_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        class Top:
            name = "top"
            def __init__(self, rung="-1"):
                self.rung = int(rung)
            def decide(self, ctx):
                return len(ctx.bitrates_bps) + self.rung
    """))
    dist = tmp_path / "myabr_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myabr-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[abrlab.abr]\ntoptop = myabr_pkg:Top\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _entry_point_targets.cache_clear()
    try:
        assert create("myabr_pkg:Top").decide(ctx()) == 5
        assert create("myabr_pkg:Top:rung=-2").decide(ctx()) == 4
        assert "toptop" in available()
        assert create("toptop").decide(ctx()) == 5
    finally:
        _entry_point_targets.cache_clear()
        sys.modules.pop("myabr_pkg", None)
