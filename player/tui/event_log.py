"""The scrolling log of the session's typed events (qoe.events), one line each."""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.widgets import RichLog

from qoe.events import (
    AbrChanged,
    BufferLevel,
    Error,
    Event,
    ManifestLoaded,
    PlaybackStart,
    QualitySwitch,
    SegmentAbandoned,
    SegmentLoaded,
    SegmentRequested,
    SessionEnd,
    SessionStart,
    StallEnd,
    StallStart,
)


def describe(ev: Event) -> tuple[str, str]:
    """(text, style) of one event line, without the time."""
    k = type(ev)
    if k is SegmentRequested:
        return f"request #{ev.index} r{ev.rung} {ev.bitrate_bps / 1e3:g}k buf {ev.buffer_s:.1f}s", "grey62"
    if k is SegmentLoaded:
        rate = ev.size_bytes * 8 / ev.transfer_s / 1e6 if ev.transfer_s > 0 else float("inf")
        return f"loaded  #{ev.index} r{ev.rung} {ev.size_bytes / 1e6:.2f}MB {rate:.2f}Mbps buf {ev.buffer_s:.1f}s", ""
    if k is QualitySwitch:
        arrow = "↑" if ev.to_rung > ev.from_rung else "↓"
        return f"switch {arrow} r{ev.from_rung}→r{ev.to_rung} at #{ev.index}", "cyan"
    if k is StallStart:
        return f"STALL at {ev.position_s:.1f}s", "bold red"
    if k is StallEnd:
        return f"resume after {ev.duration_s:.2f}s", "red"
    if k is PlaybackStart:
        return f"playing (startup {ev.startup_s:.2f}s)", "bold green"
    if k is SegmentAbandoned:
        return f"abandon #{ev.index} r{ev.rung}→r{ev.to_rung} at {ev.bytes_loaded}/{ev.size_bytes}B", "yellow"
    if k is BufferLevel:
        return f"buffer full {ev.buffer_s:.1f}s", "grey42"
    if k is SessionStart:
        return f"start {ev.title} abr={ev.abr} mode={ev.mode}", "bold"
    if k is SessionEnd:
        return f"end ({ev.reason}), played {ev.played_s:.1f}s", "bold"
    if k is Error:
        return f"error {ev.kind}: {ev.message}", "bold red"
    if k is AbrChanged:
        return f"ABR {ev.media}: {ev.previous} → {ev.abr}", "bold magenta"
    if k is ManifestLoaded:
        return f"manifest {ev.format} {len(ev.bitrates_bps)} rungs", ""
    return ev.type, ""


class EventLogView(RichLog):
    """Newest at the bottom; keeps the last ``max_lines`` lines."""

    DEFAULT_CSS = """
    EventLogView {
        height: 1fr;
        min-height: 3;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, max_lines: int = 500, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(max_lines=max_lines, wrap=False, markup=False, highlight=False, auto_scroll=True, id=id, classes=classes)

    def add_events(self, events: Iterable[Event]) -> None:
        for ev in events:
            text, style = describe(ev)
            line = Text(f"{ev.t:7.2f} ", style="grey50")
            line.append(text, style=style)
            self.write(line)

    def note(self, t_s: float, message: str) -> None:
        """A line from the UI itself (a switch of algorithm, a drop, a saved file)."""
        line = Text(f"{t_s:7.2f} ", style="grey50")
        line.append(f"» {message}", style="bold yellow")
        self.write(line)
