"""The TUI over HTTP, driven by Textual's Pilot against the real stub (origin, edge,
control plane) started in this process on loopback at --speed 50, so a session of a
minute of content takes about a second. The app's own frame timer is off (frames run
on demand), so each assertion is about one known sample of the session.

What the widgets show is compared with the session core (its status at the sampled
instant, its events, ``qoe.metrics`` on its record); the bandwidth drop is checked at
the edge (the trace it shapes by) and in the transfer rates the player measured."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from textual import events
from textual.widgets import Input, Select, Static

from abr.registry import parse_spec
from player.http.play import request_playback
from player.session import STALLED
from player.tui.app import AbrlabTui, TuiOptions
from player.tui.http_source import HttpSource, HttpSpec, trace_with_drop
from player.tui.screens import ErrorScreen, SessionScreen, StartScreen, abr_names
from player.tui.source import DEMO_TRACE
from qoe.events import AbrChanged, Error, SegmentLoaded, SegmentRequested, event_from_dict
from qoe.metrics import kpis, qoe
from server_stub.edge import ADMIN_KEY_HEADER
from server_stub.stack import Stack, TitleSpec, Topology
from tests.conftest import ROOT
from tests.tui_support import screen_text
from traces.model import Trace, TraceError

SPEED = 50.0
DEADLINE_S = 10.0  # wall seconds any one wait may take before the test fails

# 20 s at 6 Mbps, 20 s at 0.2 Mbps (the top rung, 5 Mbps, stalls there), then 6 Mbps.
STEP_TRACE = [
    {"duration_ms": 20000, "bandwidth_kbps": 6000, "latency_ms": 20},
    {"duration_ms": 20000, "bandwidth_kbps": 200, "latency_ms": 20},
    {"duration_ms": 60000, "bandwidth_kbps": 6000, "latency_ms": 20},
]

def topo(segments: int = 20) -> Topology:
    return Topology(titles=[TitleSpec("t", segments=segments, segment_duration_s=2.0, seed=4)], speed=SPEED,
                    edge_count=1, health_interval_s=0.1)


def write_trace(d: Path, entries: list[dict], name: str = "steps.json") -> Path:
    p = d / name
    p.write_text(json.dumps(entries))
    return p


def via_control(stack: Stack, **kw) -> HttpSpec:
    return HttpSpec(title="t", control=stack.control_url, api_key=stack.api_key, **kw)


async def until(pred, what: str, timeout: float = DEADLINE_S) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def tui(tmp_path: Path, http: HttpSpec, size=(100, 30), **kw):
    """The app on an HTTP session, once it shows the session (or the error) screen."""
    opts = TuiOptions(http=http, out_dir=str(tmp_path / "out"), **kw)
    app = AbrlabTui(opts, refresh_hz=0.01)  # no timer frames: the test runs them
    async with app.run_test(size=size) as pilot:
        await until(lambda: app.session_screen is not None or isinstance(app.screen, ErrorScreen), "a session or error screen")
        await settle(pilot)
        yield app, pilot


async def settle(pilot) -> None:
    """Let the screen process what is pending. (``pilot.pause()`` without a delay waits
    for the CPU to go idle, which a stub shaping at --speed 50 in this process is not.)"""
    await pilot.pause(0.005)


def steady(kbps: float) -> list[dict]:
    return [{"duration_ms": 60000, "bandwidth_kbps": kbps, "latency_ms": 20}]


@asynccontextmanager
async def stub_tui(tmp_path: Path, entries: list[dict] | None, segments: int = 20, **kw):
    """A stub and the app on one session of its title through the control plane, shaped
    by ``entries`` (a Sabre JSON trace; None: unshaped)."""
    trace = str(write_trace(tmp_path, entries)) if entries is not None else None
    async with Stack(topo(segments)) as stack, tui(tmp_path, via_control(stack, trace=trace), **kw) as (app, pilot):
        yield stack, app, pilot


def video(events, kind):
    return [e for e in events if type(e) is kind and e.media == "video"]


async def widgets_follow_the_core(app, pilot, screen) -> tuple[int, bool]:
    """Sample the first session every 80 ms until it ends; at each sample the widgets
    show what the session core reports at the sampled instant (status, rungs, stalls,
    segments). Returns how many samples were checked and whether one was a stall."""
    src, pane = screen.sources[0], screen.panes[0]
    session = src.session
    seen_stall = checks = 0
    deadline = time.monotonic() + DEADLINE_S
    while not src.done:
        assert time.monotonic() < deadline, "the session did not finish"
        await asyncio.sleep(0.08)
        screen.frame()
        # The core's own view at the sampled instant, and its events up to then
        # (nothing runs between the frame and these lines).
        core = session.status_at(src.sampled_s)
        shown = list(session.log)
        await settle(pilot)
        assert pane.status == core
        assert f"Buffer {core.buffer_s:5.1f} s" in screen_text(app)
        requested = video(shown, SegmentRequested)
        if requested:
            assert pane.rungs.chosen_rung == requested[-1].rung
            assert (pane.ladder.chosen, pane.ladder.playing) == (requested[-1].rung, core.playing_rung)
        assert pane.rungs.playing_rung == core.playing_rung
        assert pane.kpis.values["stalls"] == str(core.stall_count)
        assert pane.score.segments == len(video(shown, SegmentLoaded))
        seen_stall |= core.state == STALLED
        checks += 1
    return checks, bool(seen_stall)


@pytest.mark.asyncio
async def test_http_session_widgets_show_what_the_session_core_reports(tmp_path):
    async with stub_tui(tmp_path, STEP_TRACE, abr="fixed:rung=-1") as (stack, app, pilot):
        screen = app.session_screen
        assert isinstance(screen, SessionScreen) and screen.pacer.live
        src = screen.sources[0]
        assert isinstance(src, HttpSource)
        pane = screen.panes[0]
        session = src.session
        checks, seen_stall = await widgets_follow_the_core(app, pilot, screen)
        assert all(e.rung == session.video.track.n_rungs - 1 for e in video(session.log, SegmentRequested))
        assert checks >= 5 and seen_stall, "the 0.2 Mbps stretch must stall the top rung, on screen"
        screen.frame()  # the last events
        await settle(pilot)
        # The running KPIs and QoE are qoe.metrics' on the finished session.
        assert session.end_reason == "completed" and session.stall_count >= 1
        rec = session.record()
        k = kpis(rec, session.title.video.n_rungs)
        assert pane.score.segments == k.segments == 20
        assert pane.score.stall_count == k.stalls and pane.kpis.values["stalls"] == str(k.stalls)
        assert pane.score.rebuffer_s == pytest.approx(k.rebuffer_s)
        for m in ("lin", "log", "hd"):
            assert pane.kpis.values[f"QoE {m}"] == f"{qoe(rec, m):.2f}"
        assert screen.pacer.now_s() == pytest.approx(session.now_s)
        text = screen_text(app)
        assert "http edge1" in text and "live" in text
        # The edge shaped this session by the trace the TUI was given.
        assert stack.edges[0].shaping.get(session.session_id).curve.rate_at(25.0) == 200e3
        # Events and a screenshot are saved as for a simulated session.
        paths = screen.action_save_events()
        rows = [event_from_dict(json.loads(x)) for x in paths[0].read_text().splitlines()]
        assert [e.to_dict() for e in rows] == session.log.to_dicts()
        assert screen.action_screenshot().read_text().lstrip().startswith("<svg")


@pytest.mark.asyncio
async def test_switch_abr_mid_http_session(tmp_path):
    # A 10 s buffer keeps the requests coming every segment's worth of session time.
    # Both switches happen early in the 60 segments, so a busy machine cannot let the
    # session end before a step (the key press is the slow one: do it first).
    async with stub_tui(tmp_path, steady(8000), 60, abr="fixed:rung=0", settings={"max_buffer_s": 10.0}) as (stack, app, pilot):
        screen = app.session_screen
        src = screen.sources[0]
        session = src.session
        await until(lambda: len(video(session.log, SegmentRequested)) >= 3, "three requests")
        # The key cycles to the registered algorithm after the current one.
        names = abr_names()
        expected = names[(names.index(parse_spec("fixed:rung=0").name) + 1) % len(names)]
        n0 = len(video(session.log, SegmentRequested))
        await pilot.press("a")
        assert src.abr_spec == expected and session.video.abr.name == expected
        n_key = len(video(session.log, SegmentRequested))
        assert set(e.rung for e in video(session.log, SegmentRequested)[:n0]) == {0}
        await until(lambda: len(video(session.log, SegmentRequested)) >= n_key + 2, "the new algorithm decided")
        n_before = len(video(session.log, SegmentRequested))
        screen.switch_abr(0, "fixed:rung=-1")  # as the command palette does
        await until(lambda: len(video(session.log, SegmentRequested)) >= n_before + 3, "three more requests")
        rungs = [e.rung for e in video(session.log, SegmentRequested)]
        assert set(rungs[n_before:]) == {session.video.track.n_rungs - 1}
        screen.frame()
        await settle(pilot)
        assert screen.panes[0].ladder.chosen == session.video.track.n_rungs - 1
        await until(lambda: src.done, "the end of the session")
        assert session.end_reason == "completed"
        screen.frame()
        await settle(pilot)
        log_text = "\n".join(str(x.text) for x in screen.panes[0].log_view.lines)
        assert f"fixed:rung=0 → {expected}" in log_text and "→ fixed:rung=-1" in log_text
        changes = session.log.of_type(AbrChanged)
        assert [c.abr.split(":")[0] for c in changes] == [expected, "fixed"] and changes[0].t < changes[1].t


@pytest.mark.asyncio
async def test_pause_freezes_the_display_while_the_session_streams_on(tmp_path):
    async with stub_tui(tmp_path, steady(3000), 60, abr="bba", settings={"max_buffer_s": 10.0}) as (stack, app, pilot):
        screen = app.session_screen
        src, pane = screen.sources[0], screen.panes[0]
        session = src.session
        await until(lambda: len(video(session.log, SegmentLoaded)) >= 2, "two segments")
        await pilot.press("space")
        assert screen.pacer.paused
        frozen, segments, lines, n_log = pane.status, pane.score.segments, len(pane.log_view.lines), len(session.log)
        await asyncio.sleep(0.3)  # 15 s of session time
        for _ in range(3):
            screen.frame()
        await settle(pilot)
        assert pane.status == frozen and pane.score.segments == segments and len(pane.log_view.lines) == lines
        assert len(session.log) > n_log  # the session itself went on
        assert "display frozen" in screen_text(app)
        # Speed and stepping belong to the stub's clock: the keys change nothing.
        await pilot.press("plus", "full_stop")
        assert screen.pacer.speed == SPEED and screen.pacer.paused
        await pilot.press("space")
        assert not screen.pacer.paused
        screen.frame()
        core, shown = session.status_at(src.sampled_s), list(session.log)
        await settle(pilot)
        assert pane.status.t_s > frozen.t_s + 10.0
        assert pane.status == core
        assert pane.score.segments == len(video(shown, SegmentLoaded)) > segments


@pytest.mark.asyncio
async def test_bandwidth_drop_key_reshapes_the_session_at_the_edge(tmp_path):
    rate = 8e6
    async with stub_tui(tmp_path, steady(8000), 40, abr="fixed:rung=-1", drop_factor=0.25, drop_s=20.0) as (stack, app, pilot):
        screen = app.session_screen
        src = screen.sources[0]
        session = src.session
        await until(lambda: len(video(session.log, SegmentLoaded)) >= 3, "three segments")
        await pilot.press("d")
        (t0, t1, factor), = src.drops()
        assert (t1 - t0, factor) == (pytest.approx(20.0), 0.25)
        await until(lambda: session.now_s > t1 + 2.0 or src.done, "the end of the drop")
        # The edge now shapes this session by the dropped trace.
        curve = stack.edges[0].shaping.get(session.session_id).curve
        assert curve.rate_at(t0 + 1.0) == pytest.approx(rate * 0.25, rel=1e-3)
        assert curve.rate_at(t1 + 1.0) == pytest.approx(rate, rel=1e-3)
        # And the player measured it: transfers requested and finished inside the window
        # ran at a quarter of the rate of those before it.
        loaded = video(session.log, SegmentLoaded)
        req_t = {e.index: e.t for e in video(session.log, SegmentRequested)}
        before = [e for e in loaded if e.t < t0]
        during = [e for e in loaded if req_t[e.index] > t0 and e.t < t1]
        assert before and len(during) >= 2
        rate_of = lambda e: e.size_bytes * 8.0 / e.transfer_s  # noqa: E731
        assert np.median([rate_of(e) for e in before]) == pytest.approx(rate, rel=0.15)
        assert np.median([rate_of(e) for e in during]) == pytest.approx(rate * 0.25, rel=0.15)
        screen.frame()
        await settle(pilot)
        assert "bandwidth x0.25 for 20s" in "\n".join(str(x.text) for x in screen.panes[0].log_view.lines)


@pytest.mark.asyncio
async def test_drop_key_on_an_unshaped_session_says_why_and_changes_nothing(tmp_path):
    async with stub_tui(tmp_path, None, 10, abr="bba") as (stack, app, pilot):
        screen = app.session_screen
        src = screen.sources[0]
        await pilot.press("d")
        await settle(pilot)
        assert src.drops() == [] and src.driver.trace is None
        assert src.drop_unavailable() is not None and "--trace" in src.drop_unavailable()
        assert isinstance(app.screen, SessionScreen)
        assert "drop key: off" in screen_text(app)


@pytest.mark.asyncio
async def test_compare_two_algorithms_over_http_each_on_its_own_shaped_link(tmp_path):
    async with stub_tui(tmp_path, steady(4000), 10, abr="fixed:rung=0", compare="fixed:rung=-1", size=(80, 24)) as (stack, app, pilot):
        screen = app.session_screen
        left, right = screen.sources
        assert len(screen.panes) == 2 and left.session.session_id != right.session.session_id
        await until(lambda: left.done and right.done, "both sessions to finish")
        screen.frame()
        await settle(pilot)
        assert {e.rung for e in video(left.session.log, SegmentRequested)} == {0}
        assert {e.rung for e in video(right.session.log, SegmentRequested)} == {right.session.video.track.n_rungs - 1}
        for pane, src in zip(screen.panes, screen.sources):
            assert pane.score.segments == 10 and pane.kpis.values["stalls"] == str(src.session.stall_count)
            assert stack.edges[0].shaping.get(src.session.session_id) is not None
        text = screen_text(app)
        assert "fixed:rung=0" in text and "fixed:rung=-1" in text


@pytest.mark.asyncio
async def test_a_session_that_fails_midway_keeps_its_screen_and_says_why(tmp_path):
    async with stub_tui(tmp_path, steady(3000), 60, abr="bba", settings={"max_buffer_s": 10.0}) as (stack, app, pilot):
        screen = app.session_screen
        src = screen.sources[0]
        await until(lambda: len(video(src.session.log, SegmentLoaded)) >= 3, "three segments")
        # The only edge goes dark (its fault API): every retry fails, the session ends.
        async with aiohttp.ClientSession() as http:
            async with http.put(stack.edge_urls[0] + "/_admin/faults", json={"down": True},
                                headers={ADMIN_KEY_HEADER: stack.topology.admin_key}) as r:
                assert r.status == 200
        await until(lambda: src.problem() is not None, "the session to fail")
        screen.frame()
        await settle(pilot)
        assert src.session.end_reason == "error" and src.done
        assert app.screen is screen  # the charts and the events stay, to look at and save
        notes = "\n".join(str(x.text) for x in screen.panes[0].log_view.lines)
        # Which error comes last (a reset, the breaker open) is up to timing; it is one line.
        fatal = [e for e in src.session.log.of_type(Error) if e.fatal]
        assert fatal and src.problem() in notes and "\n" not in src.problem()
        assert len(video(src.session.log, SegmentLoaded)) >= 3


@pytest.mark.asyncio
async def test_a_speed_the_edge_refuses_shows_the_error_screen(tmp_path):
    trace = write_trace(tmp_path, steady(3000))
    async with Stack(topo(4)) as stack:
        pb = await request_playback(stack.control_url, stack.api_key, "t")
        spec = HttpSpec(url=pb["edges"][0]["manifests"]["dash"], trace=str(trace), speed=10.0)
        async with tui(tmp_path, spec) as (app, pilot):
            screen = app.session_screen
            src = screen.sources[0]
            await until(lambda: src.problem() is not None, "the trace registration to be refused")
            screen.frame()  # the session never started: the error screen, one line
            await settle(pilot)
            assert isinstance(app.screen, ErrorScreen)
            assert "speed 50" in app.screen.message and "--speed" in app.screen.message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def broken_server():
    """A plain aiohttp server on loopback with one malformed MPD."""
    app = web.Application()

    async def broken(request):
        return web.Response(text='<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period>',
                            content_type="application/dash+xml")

    app.router.add_get("/broken.mpd", broken)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
@pytest.mark.parametrize("case", ["unreachable", "404", "malformed", "forged token", "bad api key"])
async def test_http_errors_show_the_error_screen_with_one_line(tmp_path, case):
    async with Stack(topo(4)) as stack, broken_server() as plain:
        pb = await request_playback(stack.control_url, stack.api_key, "t")
        base = pb["edges"][0]["base_url"]
        spec, needle = {
            "unreachable": (HttpSpec(url=f"http://127.0.0.1:{_free_port()}/x.mpd", speed=SPEED), "connect"),
            "404": (HttpSpec(url=f"{base}/titles/t/missing.mpd", speed=SPEED), "HTTP 404"),
            "malformed": (HttpSpec(url=f"{plain}/broken.mpd", speed=SPEED), "broken.mpd"),
            "forged token": (HttpSpec(url=f"{stack.edge_urls[0]}/t/forged.token/titles/t/manifest.mpd", speed=SPEED), "HTTP 403"),
            "bad api key": (HttpSpec(title="t", control=stack.control_url, api_key="wrong"), "HTTP 401"),
        }[case]
        async with tui(tmp_path, spec, size=(80, 24)) as (app, pilot):
            assert isinstance(app.screen, ErrorScreen), case
            message = app.screen.message
            assert "\n" not in message and needle in message and "Traceback" not in screen_text(app)
            await pilot.press("n")  # on to a simulated session of the user's choosing
            await settle(pilot)
            assert type(app.screen).__name__ == "StartScreen"


def test_trace_with_drop_scales_the_window_and_keeps_the_loop_in_phase():
    tr = Trace(durations_s=[10.0, 10.0], rates_bps=[1e6, 3e6], latencies_s=[0.01, 0.02])
    out = trace_with_drop(tr, 15.0, 10.0, 0.5, horizon_s=0.0)
    # Hand-cut: two passes (the window ends at 25 s, one pass is 20 s), cut at 15 and 25.
    assert out.durations_s.tolist() == [10.0, 5.0, 5.0, 5.0, 5.0, 10.0]
    assert out.rates_bps.tolist() == [1e6, 3e6, 1.5e6, 0.5e6, 1e6, 3e6]
    assert out.latencies_s.tolist() == [0.01, 0.02, 0.02, 0.01, 0.01, 0.02]
    # Past the unrolled passes it loops in phase with the original, the drop coming
    # round again only a whole result later (55 s = 15 s + 40 s).
    for t in (40.5, 47.0, 66.0, 75.0):
        assert out.rate_at(t) == tr.rate_at(t)
    assert out.rate_at(55.0) == 1.5e6
    # A drop of the whole horizon: enough passes to cover it; an outage is rate 0.
    far = trace_with_drop(tr, 3.0, 2.0, 0.0, horizon_s=100.0)
    assert far.duration_s == 120.0 and far.rate_at(4.0) == 0.0 and far.rate_at(5.5) == 1e6
    # Too many entries for an edge's registration body: refused with a reason.
    fine = Trace(durations_s=np.full(5000, 0.001), rates_bps=np.full(5000, 1e6), latencies_s=[0.0])
    with pytest.raises(TraceError, match="too fine-grained"):
        trace_with_drop(fine, 100.0, 5.0, 0.5)
    with pytest.raises(ValueError):
        trace_with_drop(tr, 1.0, 1.0, 1.5)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--url", "http://127.0.0.1:1/x.mpd", "--title", "t"], "not both"),
        (["--title", "t"], "--title needs --control"),
        (["--url", "movie.mpd"], "not an http(s) URL"),
        (["--url", "http://127.0.0.1:1/x.mpd", "--content", "x.json"], "--content"),
    ],
)
def test_tui_http_user_errors_are_one_line(args, message):
    p = subprocess.run([sys.executable, "-m", "player", "tui", *args], capture_output=True, text=True, timeout=60, cwd=ROOT,
                       env={"PATH": "/usr/bin:/bin", "TERM": "dumb"})
    assert p.returncode == 2
    assert message in p.stderr and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


# ---------------------------------------------------------------------- the start form over HTTP
@asynccontextmanager
async def form(tmp_path: Path, size=(80, 24), **kw):
    """The app opened on its start form (``--pick``), frames on demand."""
    app = AbrlabTui(TuiOptions(pick=True, out_dir=str(tmp_path / "out"), **kw), refresh_hz=0.01)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        yield app, pilot


async def choose_source(pilot, source: str) -> None:
    pilot.app.screen.query_one("#source", Select).value = source
    await settle(pilot)


def errors_notified(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


@pytest.mark.asyncio
async def test_start_form_plays_a_manifest_url_over_http(tmp_path):
    trace = write_trace(tmp_path, steady(6000))
    async with Stack(topo(40)) as stack:
        pb = await request_playback(stack.control_url, stack.api_key, "t")
        url = pb["edges"][0]["manifests"]["dash"]
        # The trace the app was given is the form's trace: the edge shapes by it.
        async with form(tmp_path, trace=str(trace)) as (app, pilot):
            start_form = app.screen
            assert not start_form.query_one("#url-row").display
            await choose_source(pilot, "url")
            assert start_form.query_one("#url-row").display and not start_form.query_one("#title-row").display
            await pilot.click("#url")
            # Pasted, as a user brings a long signed URL (typing it key by key takes
            # Pilot seconds); the Input takes it as from the terminal.
            await pilot.press("h", "t")
            start_form.query_one("#url", Input).post_message(events.Paste(url[2:]))
            await settle(pilot)
            speed = start_form.query_one("#speed", Input)
            speed.value = ""
            await pilot.click("#speed")
            await pilot.press("5", "0")
            assert start_form.query_one("#url", Input).value == url
            await pilot.click("#start")
            await until(lambda: app.session_screen is not None or isinstance(app.screen, ErrorScreen), "the session screen")
            await settle(pilot)
            screen = app.session_screen
            assert app.screen is screen and screen.pacer.live
            src = screen.sources[0]
            assert isinstance(src, HttpSource) and src.result.source.url == url and src.speed == SPEED
            assert src.abr_spec == "bba" and len(screen.sources) == 1
            checks, _ = await widgets_follow_the_core(app, pilot, screen)
            assert checks >= 3 and src.session.end_reason == "completed"
            # The edge shaped the playback (the signed URL's session) by the form's trace.
            assert stack.edges[0].shaping.get(pb["session_id"]).curve.rate_at(5.0) == 6e6
            screen.frame()
            await settle(pilot)
            assert screen.panes[0].score.segments == len(video(src.session.log, SegmentLoaded)) == 40
            # n: the form opens on this session's source, URL, trace and speed.
            await pilot.press("n")
            await settle(pilot)
            again = app.screen
            assert isinstance(again, StartScreen)
            assert again.query_one("#source", Select).value == "url" and again.query_one("#url", Input).value == url
            assert again.query_one("#trace", Select).value == str(trace) and again.query_one("#speed", Input).value == "50"
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen


@pytest.mark.asyncio
@pytest.mark.parametrize("url, needle", [("ftp://x", "not an http(s) URL"), ("", "enter the manifest URL")])
async def test_start_form_keeps_a_bad_url_with_an_error(tmp_path, url, needle):
    async with form(tmp_path) as (app, pilot):
        await choose_source(pilot, "url")
        await pilot.click("#url")
        await pilot.press(*url)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StartScreen) and app.session_screen is None
        assert any(needle in m for m in errors_notified(app)), errors_notified(app)


@pytest.mark.asyncio
async def test_start_form_plays_a_title_through_the_control_plane(tmp_path):
    async with Stack(topo(8)) as stack:
        async with form(tmp_path) as (app, pilot):
            # Without a control plane the form offers no titles through one.
            options = [v for _, v in app.screen.query_one("#source", Select)._options]
            assert "control" not in options and "url" in options
        async with form(tmp_path, control=stack.control_url, api_key=stack.api_key, abr=None) as (app, pilot):
            start_form = app.screen
            await choose_source(pilot, "control")
            assert start_form.query_one("#title-row").display and not start_form.query_one("#url-row").display
            assert stack.control_url in str(start_form.query_one("#hint", Static).render())
            start_form.query_one("#speed", Input).value = ""  # blank: the stub's
            start_form.query_one("#trace", Select).value = DEMO_TRACE  # not a file: unshaped
            await pilot.click("#title")
            await pilot.press("t")
            await pilot.click("#start")
            await until(lambda: app.session_screen is not None or isinstance(app.screen, ErrorScreen), "the session screen")
            await settle(pilot)
            screen = app.session_screen
            src = screen.sources[0]
            assert isinstance(src, HttpSource) and src.result.playback is not None and src.speed == SPEED
            # ABR left at "recommended": the control plane's.
            assert src.abr_spec == src.result.playback["abr"]["spec"]
            assert src.driver.trace is None and any("not shaped" in n.message for n in app._notifications)
            await until(lambda: src.done, "the end of the session")
            assert src.session.end_reason == "completed"


@pytest.mark.asyncio
@pytest.mark.parametrize("source", ["sim", "url", "control"])
async def test_start_form_fits_80x24(tmp_path, source):
    async with form(tmp_path, control="http://127.0.0.1:1", api_key="k") as (app, pilot):
        await choose_source(pilot, source)
        box = app.screen.query_one("#form")
        assert box.max_scroll_y == 0  # nothing to scroll to: every row is on screen
        start = app.screen.query_one("#start").region
        assert start.bottom <= 24 and start.right <= 80 and box.region.bottom <= 24


@pytest.mark.asyncio
async def test_what_the_manifest_parser_tolerated_is_in_the_event_log(tmp_path, aiohttp_server):
    """A real origin's quirk (here: an ad break whose remote Period answers 404, and a
    lower-case duration) is shown once in the event log; the session plays on."""
    from aiohttp import web

    mpd = b"""<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink" type="static" mediaPresentationDuration="PT20s">
  <Period id="main" start="PT0S" duration="PT10S"><AdaptationSet mimeType="video/mp4">
    <SegmentTemplate media="a/$Number$.m4s" duration="2" startNumber="1"/>
    <Representation id="v" bandwidth="500000" width="640" height="360"/></AdaptationSet></Period>
  <Period xlink:href="ad.xml"/>
</MPD>"""

    async def handle(request):
        if request.path == "/m.mpd":
            return web.Response(body=mpd, content_type="application/dash+xml")
        if request.path.endswith(".m4s"):
            return web.Response(body=b"\0" * 5000)
        return web.Response(status=404)

    app_ = web.Application()
    app_.router.add_get("/{tail:.*}", handle)
    server = await aiohttp_server(app_)
    async with tui(tmp_path, HttpSpec(url=str(server.make_url("/m.mpd")), speed=50.0)) as (app, pilot):
        screen = app.session_screen
        assert screen is not None
        lines = "\n".join(str(x.text) for x in screen.panes[0].log_view.lines)
        assert "warning:" in lines and "'PT20s' has lower-case designators" in lines
        assert "remote Period 'ad.xml' could not be fetched" in lines
        await until(lambda: screen.sources[0].done, "the end of the session")
        assert screen.sources[0].session.end_reason == "completed"
