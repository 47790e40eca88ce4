"""Trace statistics, windows and rate filters on hand-made traces (numbers worked out by
hand in the comments) and on real FCC traces against a computation from the raw JSON."""

import json

import numpy as np
import pytest

from tests.conftest import shared_path
from traces import load_trace
from traces.capacity import binned_rates, capacity_error, cumulative_bits
from traces.filters import PENSIEVE_BOUNDS, RateBounds, filter_traces
from traces.generators import step_trace
from traces.model import TraceError
from traces.stats import summarize_stats, trace_stats, weighted_percentile
from traces.windows import has_capacity, window, window_starts, windows


def test_stats_hand_case_whole_bins():
    # 2 s at 1 Mbps, 1 s at 3 Mbps, 1 s at 0: bins (Mbps) = 1, 1, 3, 0.
    tr = step_trace([(2.0, 1e6), (1.0, 3e6), (1.0, 0.0)])
    s = trace_stats(tr)
    assert s.duration_s == 4.0
    assert s.mean_bps == pytest.approx(1.25e6)  # 5 Mbit / 4 s
    # sorted bins 0, 1, 1, 3 (one second each): p10 -> 0, median -> 1 (reaches 2/4), p90 -> 3
    assert (s.p10_bps, s.median_bps, s.p90_bps) == (0.0, 1e6, 3e6)
    assert (s.min_bps, s.max_bps) == (0.0, 3e6)
    # deviations from 1.25: -.25, -.25, 1.75, -1.25 -> variance 4.75 / 4
    assert s.std_bps == pytest.approx((4.75 / 4) ** 0.5 * 1e6)
    # outage: bins below 1 % of 1.25 Mbps: the silent second -> 1/4 of the time
    assert s.outage_threshold_bps == pytest.approx(12_500)
    assert s.outage_share == pytest.approx(0.25)
    # an absolute threshold of 1.5 Mbps: bins 1, 1, 0 -> 3/4
    assert trace_stats(tr, outage_below_bps=1.5e6).outage_share == pytest.approx(0.75)


def test_stats_hand_case_partial_bins():
    # 0.5 s at 4 Mbps then 2 s at 1 Mbps: bins [0,1) = 2.5 Mbps, [1,2) = 1, [2,2.5) = 1 (half weight)
    tr = step_trace([(0.5, 4e6), (2.0, 1e6)])
    rates, widths = binned_rates(tr, 1.0)
    assert list(rates) == pytest.approx([2.5e6, 1e6, 1e6])
    assert list(widths) == pytest.approx([1.0, 1.0, 0.5])
    s = trace_stats(tr)
    assert s.mean_bps == pytest.approx(4e6 / 2.5)  # (2 + 2) Mbit over 2.5 s
    # weights sorted: 1 Mbps x 1.5 s, 2.5 Mbps x 1 s; median = 1 (1.5 >= 1.25), p90 = 2.5
    assert s.median_bps == 1e6 and s.p90_bps == 2.5e6
    # 2-second bins: [0,2) = (2 + 1.5) / 2 = 1.75 Mbps, [2,2.5) = 1 Mbps
    assert list(binned_rates(tr, 2.0)[0]) == pytest.approx([1.75e6, 1e6])


def test_weighted_percentile_matches_numpy_inverted_cdf_on_equal_weights():
    rng = np.random.default_rng(3)
    x = rng.normal(size=101)
    for q in (0.1, 0.5, 0.9):
        assert weighted_percentile(x, np.ones_like(x), q) == np.percentile(x, q * 100, method="inverted_cdf")


def test_stats_summary():
    a = step_trace([(10.0, 1e6)])
    b = step_trace([(30.0, 3e6)])
    summ = summarize_stats([trace_stats(a), trace_stats(b)])
    assert summ["traces"] == 2
    assert summ["total_duration_s"] == 40.0
    assert summ["mean_bps"] == pytest.approx((10 * 1e6 + 30 * 3e6) / 40)


def test_stats_are_format_independent_for_mahimahi():
    f = sorted(shared_path("traces", "hsdpa3g").iterdir())[0]
    from traces.formats import convert

    tr = load_trace(f)
    a, b = trace_stats(tr), trace_stats(convert(tr, "mahimahi"))
    assert b.mean_bps == pytest.approx(a.mean_bps, rel=1e-3)
    assert b.median_bps == pytest.approx(a.median_bps, rel=0.02)


# ----------------------------------------------------------------------------- windows
def test_window_hand_case():
    tr = step_trace([(1.0, 1e6, 0.01), (2.0, 2e6, 0.02), (3.0, 3e6, 0.03)])
    w = window(tr, 0.5, 2.0)  # [0.5, 2.5): 0.5 s @ 1 Mbps, 1.5 s @ 2 Mbps
    assert list(w.durations_s) == pytest.approx([0.5, 1.5])
    assert list(w.rates_bps) == [1e6, 2e6]
    assert list(w.latencies_s) == [0.01, 0.02]
    assert w.total_bits == pytest.approx(0.5e6 + 3e6)
    assert w.provenance.kind == "derived" and w.provenance.parent == tr.provenance
    w2 = window(tr, 3.0, 3.0)  # exactly the last entry
    assert list(w2.durations_s) == [3.0] and list(w2.rates_bps) == [3e6]
    with pytest.raises(TraceError, match="past the trace's end"):
        window(tr, 5.0, 2.0)


def test_windows_sliding_and_back_to_back():
    tr = step_trace([(1.0, 1e6), (2.0, 2e6), (3.0, 3e6)])  # 6 s
    assert len(windows(tr, 2.0)) == 3
    assert len(windows(tr, 2.0, step_s=1.0)) == 5  # starts 0, 1, 2, 3, 4
    assert len(windows(tr, 4.0)) == 1  # the trailing 2 s are dropped
    assert windows(tr, 7.0) == []
    for k, w in enumerate(windows(tr, 2.0, step_s=1.0)):
        # each window carries exactly the parent's bits over its span
        expect = cumulative_bits(tr, k + 2.0) - cumulative_bits(tr, float(k))
        assert w.total_bits == pytest.approx(expect)


def test_windows_of_real_traces_tile_them():
    for f in sorted(shared_path("traces", "hsdpa3g").iterdir())[:10]:
        tr = load_trace(f)
        n = int(tr.duration_s // 60)
        starts = window_starts(tr, 60.0)
        assert starts == [60.0 * k for k in range(n)]
        ws = windows(tr, 60.0)
        empty = [s for s in starts if not has_capacity(tr, s, 60.0)]
        assert len(ws) + len(empty) == n  # whole-outage minutes are left out, and counted
        assert sum(w.total_bits for w in ws) == pytest.approx(float(cumulative_bits(tr, n * 60.0)), rel=1e-12)
        if not empty:
            # back to back, the windows rebuild the parent's first n minutes exactly
            joined = step_trace([(d, r) for w in ws for d, r in zip(w.durations_s, w.rates_bps)])
            assert capacity_error(window(tr, 0.0, n * 60.0), joined).relative < 1e-12


def test_a_window_in_an_outage_is_left_out():
    tr = step_trace([(2.0, 1e6), (2.0, 0.0), (2.0, 1e6)])
    assert window_starts(tr, 2.0) == [0.0, 2.0, 4.0]
    assert [w.provenance.params["start_s"] for w in windows(tr, 2.0)] == [0.0, 4.0]
    with pytest.raises(TraceError, match="no capacity"):
        window(tr, 2.0, 2.0)


# ----------------------------------------------------------------------------- filters
def test_filter_hand_cases():
    slow = step_trace([(10.0, 0.1e6)])
    fine = step_trace([(10.0, 3e6)])
    fast = step_trace([(10.0, 7e6)])
    dip = step_trace([(9.0, 3e6), (1.0, 0.1e6)])  # mean 2.71 Mbps but one second at 0.1
    kept = list(filter_traces([slow, fine, fast, dip], PENSIEVE_BOUNDS))
    assert kept == [fine]
    assert "minimum" in PENSIEVE_BOUNDS.rejection(dip)
    assert "mean" in PENSIEVE_BOUNDS.rejection(fast)
    # the dip is averaged away in 10 s bins: 2.71 Mbps >= 0.2
    assert RateBounds(max_mean_bps=6e6, min_rate_bps=0.2e6, bin_s=10.0).admits(dip)
    assert RateBounds(min_mean_bps=5e6).rejection(fine).startswith("mean 3.000 Mbps < 5")


def test_pensieve_filter_on_fcc_matches_the_raw_json():
    # FCC entries are 5 s, so 1 s bins split them evenly: the mean is the mean of the
    # entries and the minimum bin is the minimum entry, computed here from the raw JSON.
    files = sorted(shared_path("traces", "fcc_sd").iterdir())
    expected = []
    for f in files:
        kbps = [e["bandwidth_kbps"] for e in json.loads(f.read_text())]
        if sum(kbps) / len(kbps) <= 6000 and min(kbps) >= 200:
            expected.append(f.name)
    got = [f.name for f in files if PENSIEVE_BOUNDS.admits(load_trace(f))]
    assert got == expected
    assert 0 < len(got) < len(files)
