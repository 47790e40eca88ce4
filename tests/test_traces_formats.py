"""Trace formats: every real trace loads, detection by content, Mahimahi and CSV
semantics on hand-made files, and round-trips of capacity over time within 0.1 %.

References are independent of our readers: the raw JSON/lines of the files themselves,
hand-computed cases, and mm-link's documented semantics (mm-link(1), link_queue.cc).
"""

import json
import math

import numpy as np
import pytest

from tests.conftest import shared_path
from traces import detect_format, load_trace, save_trace
from traces.capacity import capacity_error, cumulative_bits
from traces.formats import (
    FORMATS,
    PACKET_BYTES,
    conversion_losses,
    convert,
    cooked_arrays,
    format_for_path,
    read_csv,
    read_mahimahi,
    write_csv,
    write_mahimahi,
    write_sabre,
)
from traces.generators import step_trace
from traces.model import Trace, TraceError

PACKET_BITS = PACKET_BYTES * 8
FOLDERS = {"hsdpa3g": 43, "belgium4g": 20, "fcc_sd": 200, "mahimahi": 3}


def _files(folder):
    d = shared_path("traces", folder)
    return sorted(p for p in d.iterdir() if p.is_file())


# ----------------------------------------------------------------------------- real data
@pytest.mark.parametrize("folder", ["hsdpa3g", "belgium4g", "fcc_sd"])
def test_every_sabre_trace_loads_and_matches_its_raw_json(folder):
    files = _files(folder)
    assert len(files) == FOLDERS[folder]
    for f in files:
        tr = load_trace(f)
        raw = json.loads(f.read_text())
        assert tr.provenance.format == "sabre" and tr.provenance.kind == "file"
        assert tr.n_entries == len(raw)
        dur_s = sum(e["duration_ms"] for e in raw) / 1000
        bits = sum(e["duration_ms"] / 1000 * e["bandwidth_kbps"] * 1000 for e in raw)
        assert tr.duration_s == pytest.approx(dur_s, rel=1e-12)
        assert tr.total_bits == pytest.approx(bits, rel=1e-12)
        assert tr.latencies_s[0] == raw[0]["latency_ms"] / 1000


def test_every_mahimahi_trace_loads_with_mm_link_semantics():
    files = _files("mahimahi")
    assert len(files) == FOLDERS["mahimahi"]
    for f in files:
        stamps = [int(s) for s in f.read_text().split()]
        tr = load_trace(f)
        assert tr.provenance.format == "mahimahi"
        # Period = last timestamp (mm-link adds schedule.back() on wrap-around).
        assert tr.duration_s == pytest.approx(stamps[-1] / 1000, rel=1e-12)
        # Every line is one 1500-byte opportunity within the period.
        assert tr.total_bits == pytest.approx(len(stamps) * PACKET_BITS, rel=1e-12)
        # After each whole millisecond p (0 < p < T) the cumulative capacity equals the
        # opportunities stamped 1..p (those stamped 0 belong to the end of the period).
        arr = np.array(stamps)
        probes = np.linspace(1, stamps[-1] - 1, 50).astype(int)
        expected = np.array([np.count_nonzero((arr >= 1) & (arr <= p)) for p in probes]) * PACKET_BITS
        got = cumulative_bits(tr, probes / 1000)
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_detection_is_by_content_not_extension(tmp_path):
    tr = step_trace([(1.0, 2e6, 0.05), (2.0, 1e6, 0.05)])
    for fmt, spec in FORMATS.items():
        p = tmp_path / f"misleading-{fmt}.txt"  # .txt would suggest cooked
        p.write_text(spec.write(tr))
        assert detect_format(p.read_text()) == fmt
        assert load_trace(p).provenance.format == fmt


def test_output_format_from_extension():
    assert format_for_path("a.json") == "sabre"
    assert format_for_path("a.down") == "mahimahi"
    assert format_for_path("a.csv") == "csv"
    assert format_for_path("a.log") == "cooked"
    with pytest.raises(TraceError, match="--to"):
        format_for_path("a.bin")


# ----------------------------------------------------------------------------- mahimahi
def test_mahimahi_hand_case_with_zero_stamps_and_repeats():
    # Stamps: 0 x2, 1 x1, 3 x3, 4 x1; period 4 ms. Millisecond [p-1, p) gets stamp p;
    # stamp 0 == stamp 4 (next pass), so ms [3, 4) gets 1 + 2 = 3 packets.
    tr = read_mahimahi("0\n0\n1\n3\n3\n3\n4\n", "hand.down")
    assert tr.duration_s == pytest.approx(0.004)
    assert list(tr.durations_s * 1000) == pytest.approx([1, 1, 2])
    assert list(tr.rates_bps) == [12e6, 0.0, 36e6]  # 1, 0, 3 packets per ms
    assert tr.total_bits == pytest.approx(7 * PACKET_BITS)
    # Written back: the same schedule, the 0-stamped packets at the period end.
    assert write_mahimahi(tr) == "1\n3\n3\n3\n4\n4\n4\n"


def test_mahimahi_constant_links_are_one_stamp_per_packet():
    # Pensieve's 12mbps example trace is one line per millisecond: 1500 B/ms = 12 Mbit/s.
    twelve = write_mahimahi(step_trace([(0.010, 12e6)]))
    assert twelve == "".join(f"{k}\n" for k in range(1, 11))
    twenty_four = write_mahimahi(step_trace([(0.003, 24e6)]))
    assert twenty_four == "1\n1\n2\n2\n3\n3\n"


def test_mahimahi_trailing_outage_keeps_the_period():
    # 2 ms at 12 Mbit/s then 3 ms of nothing: the period (5 ms) must end on a stamp, so the
    # last packet moves to 5; the cumulative error is exactly one packet.
    tr = step_trace([(0.002, 12e6), (0.003, 0.0)])
    text = write_mahimahi(tr)
    assert text == "1\n5\n"
    back = read_mahimahi(text)
    assert back.duration_s == pytest.approx(0.005)
    assert capacity_error(tr, back).max_abs_bits == pytest.approx(PACKET_BITS)


def test_mahimahi_refuses_less_than_one_packet():
    with pytest.raises(TraceError, match="less than one 1500-byte packet"):
        write_mahimahi(step_trace([(0.001, 1e6)]))


def test_mahimahi_quantisation_error_is_bounded_by_one_packet():
    rng = np.random.default_rng(7)
    d = rng.integers(1, 3000, 200) / 1000  # whole ms
    r = rng.uniform(0, 20e6, 200)
    tr = Trace(d, r, np.zeros(200))
    back = read_mahimahi(write_mahimahi(tr))
    err = capacity_error(tr, back)
    # rounding to whole packets (<= half a packet) + moving the last packet (<= one)
    assert err.max_abs_bits <= 1.5 * PACKET_BITS + 1e-6
    assert err.relative < 1e-3


# ----------------------------------------------------------------------------- csv
def test_csv_format_as_documented():
    text = "# a comment\nrate_bps,duration_s\n2500000,1.0\n0,0.5\n"
    tr = read_csv(text, "x.csv")
    assert list(tr.durations_s) == [1.0, 0.5]
    assert list(tr.rates_bps) == [2.5e6, 0.0]
    assert list(tr.latencies_s) == [0.0, 0.0]
    assert write_csv(tr).splitlines()[0] == "duration_s,rate_bps,latency_s"
    with pytest.raises(TraceError, match="unknown column 'rate_kbps'"):
        read_csv("duration_s,rate_kbps\n1,2\n", "y.csv")


# ----------------------------------------------------------------------------- round-trips
def _all_shared_traces():
    return [load_trace(f) for folder in FOLDERS for f in _files(folder)]


@pytest.fixture(scope="module")
def shared_traces():
    return _all_shared_traces()


@pytest.mark.parametrize("fmt", ["sabre", "cooked", "csv"])
def test_exact_formats_round_trip_every_real_trace(shared_traces, fmt):
    for tr in shared_traces:
        back = convert(tr, fmt)
        err = capacity_error(tr, back)
        assert err.relative < 1e-9, f"{tr.name} via {fmt}: {err}"
        if fmt != "cooked":  # cooked stores times, so durations go through a float cumsum
            assert back.duration_s == tr.duration_s
        if fmt in ("sabre", "csv") and tr.provenance.format == "sabre":
            assert back.sha256 == tr.sha256, f"{tr.name} via {fmt} is not bit-exact"


def _mahimahi_bound(tr):
    # half a packet of rounding + one moved packet, plus one millisecond at the top rate
    # when the trace's own breakpoints are not on whole milliseconds
    return 1.5 * PACKET_BITS + float(tr.rates_bps.max()) * 1e-3


def _check_mahimahi_round_trip(trs):
    for tr in trs:
        back = convert(tr, "mahimahi")
        err = capacity_error(tr, back)
        assert err.relative <= 1e-3, f"{tr.name}: {err}"
        assert err.max_abs_bits <= _mahimahi_bound(tr), f"{tr.name}: {err}"


def test_mahimahi_round_trip_sample_of_real_traces(shared_traces):
    # every Mahimahi file and every 10th of the others; the slow test below does all
    _check_mahimahi_round_trip(shared_traces[::10] + [t for t in shared_traces if t.provenance.format == "mahimahi"])


@pytest.mark.slow
def test_mahimahi_round_trip_every_real_trace(shared_traces):
    _check_mahimahi_round_trip(shared_traces)


def test_chained_conversions_through_files(tmp_path):
    tr = load_trace(_files("hsdpa3g")[0])
    path = tmp_path / "t.json"
    save_trace(tr, path)
    for ext in (".down", ".csv", ".log", ".json"):
        nxt = tmp_path / f"t{ext}"
        save_trace(load_trace(path), nxt)
        path = nxt
    err = capacity_error(tr, load_trace(path))
    assert err.relative <= 1e-3
    assert err.max_abs_bits <= _mahimahi_bound(tr)


def test_cooked_exactness_is_kept(tmp_path):
    text = "0.5\t9.9\n1.25\t2.0\n2.0\t0.3\n"
    p = tmp_path / "c.log"
    p.write_text(text)
    tr = load_trace(p)
    assert cooked_arrays(tr) == ([0.5, 1.25, 2.0], [9.9, 2.0, 0.3])
    save_trace(tr, tmp_path / "c2.log")
    assert cooked_arrays(load_trace(tmp_path / "c2.log")) == cooked_arrays(tr)


def test_conversion_losses_are_named():
    tr = step_trace([(1.0, 2e6, 0.1)])
    assert conversion_losses(tr, "sabre") == []
    assert conversion_losses(tr, "csv") == []
    assert any("latency (100 ms)" in s for s in conversion_losses(tr, "cooked"))
    lost = conversion_losses(tr, "mahimahi")
    assert any("latency" in s for s in lost) and any("1500-byte packets" in s for s in lost)


def test_sabre_writer_keeps_whole_units_readable():
    text = write_sabre(step_trace([(1.013, 1285e3, 0.1)]))
    assert json.loads(text) == [{"duration_ms": 1013, "bandwidth_kbps": 1285, "latency_ms": 100}]
    assert math.isclose(json.loads(write_sabre(step_trace([(0.0005, 1.5)])))[0]["bandwidth_kbps"], 0.0015)


# ----------------------------------------------------------------------------- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_entries = st.lists(
    st.tuples(
        st.floats(1e-3, 1e3, allow_nan=False, allow_infinity=False),
        # 0 (an outage) or a rate of at least 1 bit/s: subnormal rates such as 5e-324
        # bps underflow when written in kbit/s and are not network capacities.
        st.one_of(st.just(0.0), st.floats(1.0, 1e9, allow_nan=False, allow_infinity=False)),
        st.floats(0, 2.0, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=30,
).filter(lambda es: sum(d * r for d, r, _ in es) > 0)


@settings(max_examples=60, deadline=None)
@given(_entries)
def test_any_trace_round_trips_exactly_through_csv_and_closely_through_sabre(entries):
    tr = Trace(*map(np.array, zip(*entries)))
    assert convert(tr, "csv").sha256 == tr.sha256
    back = convert(tr, "sabre")
    assert capacity_error(tr, back).relative < 1e-12
    np.testing.assert_allclose(back.latencies_s, tr.latencies_s, rtol=1e-15, atol=0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 400), st.floats(0, 50e6, allow_nan=False)), min_size=1, max_size=20
    ).filter(lambda es: sum(ms * r for ms, r in es) / 1000 >= 2 * PACKET_BITS)
)
def test_any_whole_ms_trace_round_trips_through_mahimahi_within_a_packet_and_a_half(entries):
    tr = Trace(np.array([ms / 1000 for ms, _ in entries]), np.array([r for _, r in entries]), np.zeros(len(entries)))
    back = read_mahimahi(write_mahimahi(tr))
    assert back.duration_s == pytest.approx(tr.duration_s, abs=1e-12)
    assert capacity_error(tr, back).max_abs_bits <= 1.5 * PACKET_BITS + 1e-6


def test_byte_order_mark_and_crlf_are_tolerated(tmp_path):
    p = tmp_path / "bom.json"
    p.write_bytes(b'\xef\xbb\xbf[{"duration_ms": 1000, "bandwidth_kbps": 500}]\r\n')
    assert load_trace(p).mean_rate_bps == 500e3
    m = tmp_path / "crlf.down"
    m.write_bytes(b"1\r\n2\r\n2\r\n")
    assert load_trace(m).total_bits == 3 * PACKET_BITS
