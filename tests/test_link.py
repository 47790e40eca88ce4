"""Link models against hand-computed transfer times."""

import pytest

from player.link import SabreLink, TraceLink
from traces.model import Provenance, Trace


def _trace(entries, name="t"):
    d, r, lat = zip(*entries)
    return Trace(d, r, lat, name=name, provenance=Provenance("memory", name))


def test_tracelink_within_and_across_entries():
    # 1 s at 8 Mbps (1 MB/s), 1 s outage, 2 s at 4 Mbps (0.5 MB/s); no latency.
    link = TraceLink(_trace([(1.0, 8e6, 0.0), (1.0, 0.0, 0.0), (2.0, 4e6, 0.0)]))
    assert link.transfer_time(500_000) == pytest.approx(0.5)
    # 1.5 MB: 1 MB in the first second, nothing in the outage, 0.5 MB takes 1 s more.
    assert link.transfer_time(1_500_000) == pytest.approx(3.0)
    # 3 MB: one pass carries 2 MB in 4 s; the next 1 MB takes 1 s of the second pass.
    assert link.transfer_time(3_000_000) == pytest.approx(5.0)
    # 4 MB = exactly two passes' capacity: done when the second pass ends, t = 8 s.
    assert link.transfer_time(4_000_000) == pytest.approx(8.0)


def test_tracelink_cursor_moves_and_loops():
    link = TraceLink(_trace([(1.0, 8e6, 0.0), (1.0, 0.0, 0.0), (2.0, 4e6, 0.0)]))
    link.idle(3.5)  # 0.5 s left of the 4 Mbps entry
    # 0.25 MB in 0.5 s, then the loop starts at 8 Mbps: 0.25 MB more in 0.25 s.
    ttfb, dt = link.download(500_000)
    assert (ttfb, dt) == (0.0, pytest.approx(0.75))
    assert link.position_s == pytest.approx(4.25)
    assert link.loops == 1 and link.offset_s == pytest.approx(0.25)


def test_tracelink_latency_runs_the_clock():
    # 100 ms latency from the entry the request starts in; the trace runs meanwhile.
    link = TraceLink(_trace([(0.05, 80e6, 0.1), (10.0, 8e6, 0.02)]))
    ttfb, dt = link.download(1_000_000)
    assert ttfb == pytest.approx(0.1)
    # after the latency the cursor is at 0.1 s, inside the 8 Mbps entry: 1 s.
    assert dt == pytest.approx(1.0)


def test_tracelink_partial_transfer():
    link = TraceLink(_trace([(2.0, 8e6, 0.0)]))
    sent, spent = link.transfer(3_000_000, 0.5)
    assert sent == pytest.approx(500_000) and spent == 0.5
    sent, spent = link.transfer(100_000, 1.0)
    assert sent == 100_000 and spent == pytest.approx(0.1)


def test_sabre_link_prorates_latency_across_entries():
    # Sabre's latency unit: 200 ms latency in an entry with 50 ms left -> 50 ms there
    # (0.25 of a unit), the remaining 0.75 unit at the next entry's 40 ms = 30 ms.
    link = SabreLink(_trace([(0.05, 1e6, 0.2), (5.0, 1e6, 0.04)]))
    ttfb, dt = link.download(1000)
    assert ttfb == pytest.approx(0.05 + 0.75 * 0.04)
    assert dt == pytest.approx(8000 / 1e6)


def test_links_agree_without_latency():
    tr = _trace([(1.0, 3e6, 0.0), (2.0, 1e6, 0.0), (0.5, 6e6, 0.0)])
    a, b = TraceLink(tr), SabreLink(tr)
    for size in (10_000, 400_000, 1_234_567, 3_000_000):
        assert a.download(size)[1] == pytest.approx(b.download(size)[1], rel=1e-9)
