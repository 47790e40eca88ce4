"""Helpers for the TUI tests: a hand-moved clock, deterministic inputs, frames on demand,
and the screen as a plain text grid (for snapshot comparisons that ignore colours,
generated CSS class names and SVG details)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from rich.console import Console

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "tui"

# A hand-written trace (Sabre JSON): 40 s at 5 Mbps, 30 s at 0.25 Mbps (a stall for
# any ABR that was filling up at 5 Mbps), 30 s at 3 Mbps; 50 ms latency. It loops.
STEP_TRACE = [
    {"duration_ms": 40000, "bandwidth_kbps": 5000, "latency_ms": 50},
    {"duration_ms": 30000, "bandwidth_kbps": 250, "latency_ms": 50},
    {"duration_ms": 30000, "bandwidth_kbps": 3000, "latency_ms": 50},
]


class FakeClock:
    """The pacer's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def write_step_trace(dir_: Path) -> Path:
    p = dir_ / "steps.json"
    p.write_text(json.dumps(STEP_TRACE))
    return p


def advance(app, clock: FakeClock, seconds: float, step: float = 1.0) -> None:
    """Move wall time by ``seconds`` in ``step`` increments, one frame after each."""
    screen = app.session_screen
    n = int(round(seconds / step))
    for _ in range(n):
        clock.t += step
        screen.frame()


def screen_text(app) -> str:
    """The current screen as text, the way ``App.export_screenshot`` renders it."""
    w, h = app.size
    console = Console(width=w, height=h, file=io.StringIO(), force_terminal=True, color_system="truecolor",
                      record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    text = console.export_text(styles=False)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def check_snapshot(name: str, text: str) -> None:
    """Compare with tests/snapshots/tui/NAME.txt; ABRLAB_UPDATE_SNAPSHOTS=1 rewrites it."""
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("ABRLAB_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("ABRLAB_UPDATE_SNAPSHOTS") != "1":
            raise AssertionError(f"no snapshot {path}; run with ABRLAB_UPDATE_SNAPSHOTS=1 and review it")
        path.write_text(text)
        return
    expected = path.read_text()
    if text != expected:
        import difflib

        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "expected", "got"))
        raise AssertionError(f"screen differs from {path}:\n{diff}")
