"""The TUI driven by Textual's Pilot: widgets against what the session core reports,
ABR switch, pause/resume, speed, compare mode, resizing, error screen, saving.

Time is a hand-moved clock and frames are run on demand, so every assertion is about a
known session time."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from player.session import STALLED
from player.tui.app import AbrlabTui, TuiOptions
from player.tui.screens import ErrorScreen, SessionScreen, StartScreen
from qoe.events import AbrChanged, SegmentRequested, event_from_dict
from qoe.metrics import kpis, qoe
from tests.conftest import shared_path
from tests.tui_support import FakeClock, advance, screen_text, write_step_trace

pytestmark = pytest.mark.asyncio


def _app(tmp_path: Path, **kw) -> tuple[AbrlabTui, FakeClock]:
    clock = FakeClock()
    opts = TuiOptions(trace=str(write_step_trace(tmp_path)), out_dir=str(tmp_path / "out"), **kw)
    return AbrlabTui(opts, clock=clock, refresh_hz=2.0), clock


def _requested(session) -> list[SegmentRequested]:
    return session.log.of_type(SegmentRequested)


async def test_widgets_show_what_the_session_core_reports(tmp_path):
    app, clock = _app(tmp_path, abr="bba")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        assert isinstance(screen, SessionScreen)
        pane = screen.panes[0]
        session = screen.sources[0].session
        seen_stall = False
        for _ in range(12):  # 12 x 8 s: through the 0.25 Mbps stretch and out again
            advance(app, clock, 8.0)
            await pilot.pause()
            t = screen.pacer.now_s()
            core = session.status_at(t)  # the core's own view at the frame's time
            assert pane.status == core
            # Buffer: the headline shows the core's level (to the 0.1 s shown).
            assert f"Buffer {core.buffer_s:5.1f} s" in screen_text(app)
            # Rung: the chosen rung is the core's last decision, the playing one its
            # rung at the playhead; the ladder marks the same two.
            last_req = _requested(session)[-1].rung
            assert pane.rungs.chosen_rung == last_req == session.video.last_rung
            assert pane.rungs.playing_rung == core.playing_rung
            assert (pane.ladder.chosen, pane.ladder.playing) == (last_req, core.playing_rung)
            # Stalls: the KPI panel counts what the core counts (including a stall
            # in progress that the core projects but has not yet been told about).
            assert pane.kpis.values["stalls"] == str(core.stall_count)
            seen_stall |= core.state == STALLED or core.stall_count > 0
        assert seen_stall, "the step trace must make BBA stall"
        assert session.stall_count >= 1


async def test_running_kpis_match_qoe_metrics_on_the_finished_session(tmp_path):
    app, clock = _app(tmp_path, abr="throughput", speed=64.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        advance(app, clock, 20.0, step=0.5)  # 1280 s of session time: the title ends
        await pilot.pause()
        src = screen.sources[0]
        assert src.done
        pane = screen.panes[0]
        rec = src.session.record()
        k = kpis(rec, src.session.title.video.n_rungs)
        assert pane.score.segments == k.segments == src.session.title.video.n_segments
        assert pane.score.switches == k.switches
        assert pane.score.avg_bitrate_kbps == pytest.approx(k.avg_bitrate_kbps, rel=1e-12)
        assert pane.score.time_per_rung_s == pytest.approx(k.time_per_rung_s)
        assert pane.score.rebuffer_s == pytest.approx(k.rebuffer_s)
        assert pane.score.stall_count == k.stalls
        for m in ("lin", "log", "hd"):
            assert pane.score.qoe(m) == pytest.approx(qoe(rec, m), rel=1e-9, abs=1e-9)
            assert pane.kpis.values[f"QoE {m}"] == f"{qoe(rec, m):.2f}"
        # The clock stops at the end of the session; the view shows the ended state.
        assert screen.pacer.now_s() == pytest.approx(src.end_s())
        assert pane.status.state == "ended"


async def test_switch_abr_mid_session(tmp_path):
    app, clock = _app(tmp_path, abr="fixed:rung=0")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        session = screen.sources[0].session
        advance(app, clock, 10.0)
        n_before = len(_requested(session))
        assert n_before >= 2 and {e.rung for e in _requested(session)} == {0}
        screen.switch_abr(0, "fixed:rung=-1")  # as the command palette does
        advance(app, clock, 10.0)
        await pilot.pause()
        after = _requested(session)[n_before:]
        assert after and {e.rung for e in after} == {5}
        assert screen.panes[0].ladder.chosen == 5
        # The key cycles to the next registered algorithm.
        await pilot.press("a")
        await pilot.pause()
        assert screen.sources[0].abr_spec == "throughput"
        assert session.video.abr.name == "throughput"
        # Both switches are in the session's own log (what "save events" writes), at
        # the session time they happened, and shown in the event log.
        changes = session.log.of_type(AbrChanged)
        assert [(c.t, c.media, c.previous, c.abr.split(":")[0]) for c in changes] == [
            (10.0, "video", "fixed:rung=0", "fixed"), (20.0, "video", "fixed:rung=-1", "throughput")]
        assert changes[0].abr == "fixed:rung=-1"
        screen.frame()
        await pilot.pause()
        assert "fixed:rung=-1 → throughput" in "\n".join(str(l.text) for l in screen.panes[0].log_view.lines)


async def test_pause_resume_and_speed(tmp_path):
    app, clock = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        advance(app, clock, 5.0)
        assert screen.pacer.now_s() == pytest.approx(5.0)
        await pilot.press("space")
        assert screen.pacer.paused
        n_events = len(screen.sources[0].session.log)
        advance(app, clock, 30.0)
        await pilot.pause()
        assert screen.panes[0].status.t_s == pytest.approx(5.0)
        assert len(screen.sources[0].session.log) == n_events
        assert "paused" in screen_text(app)
        await pilot.press("space")
        assert not screen.pacer.paused
        await pilot.press("plus")
        assert screen.pacer.speed == 2.0
        advance(app, clock, 5.0)
        assert screen.panes[0].status.t_s == pytest.approx(15.0)
        await pilot.press("minus", "minus")
        assert screen.pacer.speed == 0.5


async def test_compare_mode_runs_two_algorithms_in_lockstep(tmp_path):
    app, clock = _app(tmp_path, abr="fixed:rung=0", compare="fixed:rung=-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        assert len(screen.panes) == 2 and all(p.compact for p in screen.panes)
        advance(app, clock, 30.0, step=2.0)
        await pilot.pause()
        left, right = screen.sources
        assert left.session.trace_name == right.session.trace_name
        assert screen.panes[0].status.t_s == screen.panes[1].status.t_s == pytest.approx(30.0)
        assert {e.rung for e in _requested(left.session)} == {0}
        assert {e.rung for e in _requested(right.session)} == {5}
        assert screen.panes[1].rungs.chosen_rung == 5 and screen.panes[0].rungs.chosen_rung == 0
        for pane, src in zip(screen.panes, screen.sources):
            assert pane.kpis.values["stalls"] == str(src.session.status_at(30.0).stall_count)
        text = screen_text(app)
        assert "fixed:rung=0" in text and "fixed:rung=-1" in text
        # b switches the right-hand algorithm only.
        await pilot.press("b")
        assert left.abr_spec == "fixed:rung=0" and right.abr_spec == "throughput"
        # A drop applies to both (same trace, same clock).
        await pilot.press("d")
        assert left.drops() == right.drops() == [(30.0, 50.0, 0.25)]


async def test_resize_from_80x24_to_large_and_tiny(tmp_path):
    app, clock = _app(tmp_path, compare="bola")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        for w, h in ((80, 24), (200, 60), (120, 40), (30, 10), (12, 5), (80, 24)):
            await pilot.resize_terminal(w, h)
            advance(app, clock, 3.0)
            await pilot.pause()
            text = screen_text(app)
            assert len(text.splitlines()) == h
            if w >= 80:
                assert "Buffer" in text and "Throughput" in text
        big = screen.panes[0].buffer
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert big.size.width > 80 and big.size.height > 5


async def test_single_session_scales_to_a_large_terminal(tmp_path):
    app, clock = _app(tmp_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        advance(app, clock, 30.0)
        await pilot.pause()
        pane = app.session_screen.panes[0]
        assert pane.buffer.size.width >= 100
        assert pane.rungs.size.height >= 10  # room for one band per rung
        text = screen_text(app)
        for rung in ("4300k", "2850k", "1850k", "1200k", "750k", "300k"):
            assert rung in text


@pytest.mark.parametrize(
    "make,needle",
    [
        (lambda d: ("trace", _bad_trace(d)), "bandwidth_kbps"),
        (lambda d: ("trace", str(d / "missing.json")), "no such file"),
        (lambda d: ("title", _bad_title(d)), "not valid JSON"),
        (lambda d: ("abr", "nonesuch"), "unknown ABR algorithm"),
    ],
)
async def test_bad_input_shows_the_error_screen(tmp_path, make, needle):
    key, value = make(tmp_path)
    opts = {"trace": str(write_step_trace(tmp_path)), key: value}
    app = AbrlabTui(TuiOptions(**opts), clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ErrorScreen)
        # The message wraps in its box: compare without the box and the whitespace.
        flat = "".join(screen_text(app).replace("┃", "").split())
        assert "".join(needle.split()) in flat and "Traceback" not in flat
        if key != "abr":
            assert Path(value).name in flat  # the message names the file
            assert value in app.screen.message
        # n opens the start form from the error screen.
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)


def _bad_trace(d: Path) -> str:
    p = d / "bad.json"
    p.write_text('[\n  {"duration_ms": 1000, "bandwidth_kbps": 100},\n  {"duration_ms": 1000}\n]\n')
    return str(p)


def _bad_title(d: Path) -> str:
    p = d / "title.json"
    p.write_text("{ not json")
    return str(p)


async def test_start_form_starts_a_compare_session(tmp_path):
    app, clock = _app(tmp_path, pick=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        app.screen.query_one("#compare").value = "bola"
        app.screen.query_one("#speed").value = "4"
        await pilot.click("#start")
        await pilot.pause()
        screen = app.session_screen
        assert screen is not None and app.screen is screen
        assert [s.abr_spec for s in screen.sources] == ["bba", "bola"]
        assert screen.pacer.speed == 4.0


async def test_save_events_and_screenshot(tmp_path):
    app, clock = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        advance(app, clock, 20.0)
        paths = screen.action_save_events()
        session = screen.sources[0].session
        lines = paths[0].read_text().splitlines()
        assert len(lines) == len(session.log) > 5
        events = [event_from_dict(json.loads(x)) for x in lines]
        assert [e.to_dict() for e in events] == session.log.to_dicts()
        svg = screen.action_screenshot()
        assert svg.suffix == ".svg" and svg.read_text().lstrip().startswith("<svg")
        png = svg.with_suffix(".png")
        try:
            import cairosvg  # noqa: F401
        except (ImportError, OSError):
            assert not png.exists()
        else:
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_saving_where_nothing_can_be_written_is_a_notification_not_a_crash(tmp_path):
    # out_dir under a regular file: neither the directory nor a file in it can exist.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    app, clock = _app(tmp_path)
    app.options = replace(app.options, out_dir=str(blocker / "out"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        advance(app, clock, 5.0)
        await pilot.press("e")
        await pilot.press("p")
        await pilot.pause()
        assert app.is_running and app.screen is screen  # still playing, no error screen
        notes = [str(x.text) for x in screen.panes[0].log_view.lines]
        assert sum(f"cannot save to {blocker / 'out'}" in n for n in notes) == 2
        assert blocker.read_text() == "x"


async def test_existing_events_file_survives_a_failed_save(tmp_path, monkeypatch):
    app, clock = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        advance(app, clock, 5.0)
        [path] = screen.action_save_events()
        before = path.read_text()
        advance(app, clock, 5.0)

        def broken(self):  # an event that cannot be serialised mid-write
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(SegmentRequested, "to_dict", broken)
        assert screen.action_save_events() == []
        assert path.read_text() == before and not list(path.parent.glob(".*.partial"))


async def test_bandwidth_drop_key_slows_the_transfer_in_flight(tmp_path):
    app, clock = _app(tmp_path, abr="fixed:rung=-1", drop_factor=0.0, drop_s=5.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        src = screen.sources[0]
        advance(app, clock, 2.0)
        due = src.stepper.next_event_s
        await pilot.press("d")  # an outage of 5 s from t=2
        assert src.drops() == [(2.0, 7.0, 0.0)]
        assert src.stepper.next_event_s == pytest.approx(due + 5.0)


async def test_command_palette_offers_every_algorithm(tmp_path):
    app, clock = _app(tmp_path, abr="bba")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        cmds = {c.title: c for c in app.get_system_commands(screen)}
        assert "ABR: switch to bola" in cmds and "ABR: switch to throughput" in cmds
        cmds["ABR: switch to bola"].callback()
        assert screen.sources[0].abr_spec == "bola" and screen.sources[0].session.video.abr.name == "bola"


async def test_pensieve_mode_runs_and_refuses_a_drop_politely(tmp_path):
    app, clock = _app(tmp_path, mode="pensieve")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        advance(app, clock, 10.0)
        await pilot.press("d")
        await pilot.pause()
        assert screen.sources[0].drops() == []
        assert isinstance(app.screen, SessionScreen)
        assert screen.panes[0].status.t_s == pytest.approx(10.0)


async def test_a_real_manifest_plays_and_a_malformed_one_shows_the_error_screen(tmp_path):
    mpd = shared_path("manifests", "vjsmpd__maat_vtt_segmentTemplate.mpd")
    app, clock = _app(tmp_path, title=str(mpd))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.session_screen
        assert screen is not None, getattr(app.screen, "message", "")
        session = screen.sources[0].session
        assert [r.bitrate_bps for r in session.title.video.rungs] == [449000, 3971000]
        assert session.title.audio is not None
        advance(app, clock, 10.0)
        await pilot.pause()
        assert screen.panes[0].status.state == "ended"  # a 6 s clip over 5 Mbps
        assert "3971k" in screen_text(app)
    bad = tmp_path / "broken.mpd"
    bad.write_text('<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period>')
    app2 = AbrlabTui(TuiOptions(trace=str(write_step_trace(tmp_path)), title=str(bad)), clock=FakeClock())
    async with app2.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app2.screen, ErrorScreen)
        assert "broken.mpd" in app2.screen.message
