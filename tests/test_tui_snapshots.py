"""Snapshots of key screens as text grids (tests/snapshots/tui/*.txt).

Deterministic screens only: a hand-written trace, the bundled demo title, a hand-moved
clock, paused at a fixed session time, no toasts. The comparison is on the rendered
character grid, so colours, generated CSS class names and SVG markup do not matter.
After an intended change of the layout, regenerate with ABRLAB_UPDATE_SNAPSHOTS=1 and
review the diff."""

from __future__ import annotations

import pytest

from player.tui.app import AbrlabTui, TuiOptions
from tests.tui_support import FakeClock, advance, check_snapshot, screen_text, write_step_trace

pytestmark = pytest.mark.asyncio


async def _session_at(tmp_path, size, t_s, **kw):
    clock = FakeClock()
    app = AbrlabTui(TuiOptions(trace=str(write_step_trace(tmp_path)), out_dir=str(tmp_path), **kw), clock=clock, refresh_hz=1.0)
    return app, clock


async def test_snapshot_session_80x24(tmp_path):
    app, clock = await _session_at(tmp_path, (80, 24), 60.0, abr="bba")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        advance(app, clock, 60.0, step=2.0)
        await pilot.press("space")
        await pilot.pause()
        check_snapshot("session_80x24", screen_text(app))


async def test_snapshot_session_after_a_stall_120x36(tmp_path):
    # By 96 s BBA has stalled once in the trace's 0.25 Mbps stretch and recovered.
    app, clock = await _session_at(tmp_path, (120, 36), 96.0, abr="bba")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        advance(app, clock, 96.0, step=4.0)
        await pilot.press("space")
        await pilot.pause()
        check_snapshot("session_120x36", screen_text(app))


async def test_snapshot_compare_100x30(tmp_path):
    app, clock = await _session_at(tmp_path, (100, 30), 80.0, abr="throughput", compare="bola")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        advance(app, clock, 80.0, step=2.0)
        await pilot.press("space")
        await pilot.pause()
        check_snapshot("compare_100x30", screen_text(app))


async def test_snapshot_error_screen(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"duration_ms": -5, "bandwidth_kbps": 100}]')
    app = AbrlabTui(TuiOptions(trace="bad.json"), clock=FakeClock())
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)  # a relative path keeps the message the same on every machine
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            check_snapshot("error_80x24", screen_text(app))
    finally:
        os.chdir(cwd)


async def test_snapshot_start_form(tmp_path):
    app = AbrlabTui(TuiOptions(trace="my-trace.json", pick=True), clock=FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        check_snapshot("start_80x24", screen_text(app))
