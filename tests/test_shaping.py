"""Trace shaping: the capacity curve against the trace model's own integral, the token
bucket's rules, and a shaped download on loopback timed against the trace."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server_stub.edge import trace_from_entries
from server_stub.shaping import CapacityCurve, SessionLink, ShapingConfig, ShapingRegistry
from server_stub.stack import Stack, TitleSpec, Topology
from traces.formats import load_trace, write_sabre
from traces.model import Trace, TraceError, constant_trace
from tests.conftest import shared_path

STEPS = Trace([1.0, 0.5, 2.0], [1e6, 0.0, 4e6], [0.05, 0.1, 0.2], name="steps")


@settings(max_examples=200, deadline=None)
@given(t=st.floats(0, 40))
def test_capacity_curve_matches_the_trace_integral(t):
    # traces.model.Trace.bits_until is an independent implementation (numpy, per call).
    c = CapacityCurve(STEPS)
    assert c.bits_at(t) == pytest.approx(STEPS.bits_until(t), rel=1e-12, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(bits=st.floats(1.0, 1e8))
def test_time_at_bits_is_the_earliest_inverse(bits):
    c = CapacityCurve(STEPS)
    t = c.time_at_bits(bits)
    assert c.bits_at(t) == pytest.approx(bits, rel=1e-9)
    # Earliest: never inside the zero-rate entry's interior.
    off = t % STEPS.duration_s
    assert not (1.0 < off < 1.5)


def test_capacity_curve_on_a_real_trace():
    tr = load_trace(shared_path("traces", "hsdpa3g", "report.2010-09-13_1003CEST.json"))
    c = CapacityCurve(tr)
    for t in (0.0, 3.3, 100.0, tr.duration_s, tr.duration_s * 2.5):
        assert c.bits_at(t) == pytest.approx(tr.bits_until(t), rel=1e-9)
    assert c.latency_at(5.0) == pytest.approx(0.1)


class ManualClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_bucket_follows_the_curve_and_banks_nothing_across_idle():
    clock = ManualClock()
    link = SessionLink("s", CapacityCurve(constant_trace(8e6)), 1.0, clock(), clock)  # 1 MB/s
    assert link.take(10**9, 0.5, 0.0) == 500_000
    assert link.take(10**9, 0.5, 0.0) == 0  # nothing more is due yet
    # A request arriving at 2.0 after the link idled since 0.5: capacity of the idle
    # second and a half is gone.
    assert link.take(10**9, 2.25, 2.0) == 250_000
    # Two transfers share it: what one takes the other cannot.
    a = link.take(10**9, 2.5, 2.0)
    b = link.take(10**9, 2.5, 2.0)
    assert a + b == 250_000 and b == 0
    # A transfer not allowed to start yet (latency) gets nothing.
    assert link.take(10**9, 2.6, 3.0) == 0
    assert link.finish_time(1_000_000, 3.0) == pytest.approx(4.0)


def test_speed_scales_trace_time():
    clock = ManualClock()
    link = SessionLink("s", CapacityCurve(STEPS), 10.0, clock(), clock)
    clock.t += 0.1
    assert link.trace_now() == pytest.approx(1.0)
    assert link.wall(2.0) == pytest.approx(100.2)


def test_registry_expires_idle_sessions_and_caps_them():
    clock = ManualClock()
    reg = ShapingRegistry(ShapingConfig(speed=2.0, max_sessions=2, idle_expiry_s=10.0), clock=clock)
    a = reg.register("a", STEPS, elapsed_s=4.0)
    assert a.trace_now() == pytest.approx(4.0)
    reg.register("b", STEPS)
    with pytest.raises(OverflowError):
        reg.register("c", STEPS)
    clock.t += 11.0
    reg.register("c", STEPS)
    assert reg.get("a") is None and reg.get("c") is not None and len(reg) == 1


def test_trace_entries_from_a_request():
    tr = trace_from_entries(json.loads(write_sabre(STEPS)), "x")
    assert tr.sha256 == STEPS.sha256 and tr.name == "x"
    with pytest.raises(TraceError, match="entry 2"):
        trace_from_entries([{"duration_ms": 10, "bandwidth_kbps": 1}, {"duration_ms": 10, "bandwidth_kbps": True}], "x")
    with pytest.raises(TraceError, match="no 'bandwidth_kbps'"):
        trace_from_entries([{"duration_ms": 10}], "x")


@pytest.mark.asyncio
@pytest.mark.parametrize("speed", [20.0])
async def test_a_shaped_download_takes_what_the_trace_says(speed):
    """TTFB = the trace's latency; transfer = size / rate (session seconds)."""
    rate, lat = 2e6, 0.1
    async with Stack(Topology(titles=[TitleSpec("t", segments=3)], speed=speed, edge_count=1)) as s:
        async with aiohttp.ClientSession() as http:
            async with http.post(s.control_url + "/playback", json={"title": "t"}, headers={"X-API-Key": s.api_key}) as r:
                pb = await r.json()
            edge = pb["edges"][0]
            tr = constant_trace(rate, 60.0, lat)
            await http.get(edge["base_url"] + "/titles/t/v5/1.m4s")  # warm the cache
            async with http.post(edge["session_url"], json={"trace": json.loads(write_sabre(tr)), "speed": speed}) as r:
                assert r.status == 200
            t0 = time.monotonic()
            async with http.get(edge["base_url"] + "/titles/t/v5/1.m4s") as r:
                t1 = time.monotonic()
                body = await r.read()
                t2 = time.monotonic()
    ttfb = (t1 - t0) * speed
    transfer = (t2 - t1) * speed
    expect = len(body) * 8 / rate
    assert ttfb == pytest.approx(lat, abs=0.05)
    assert transfer == pytest.approx(expect, rel=0.05)
