"""Buffer level over time, with the buffer target and stalls marked."""

from __future__ import annotations

from typing import Any, Sequence

from rich.style import Style
from rich.text import Text

from player.tui.chart import TimeChart, area_cells, row_of, with_flags
from player.tui.series import TimeSeries

AREA = Style(color="dodger_blue2")
TARGET = Style(color="yellow")


class BufferChart(TimeChart):
    """Area: the buffer level (mean per column); dashed line: the target the player
    fills to (``max_buffer_s``); red columns: stalls."""

    def __init__(self, target_s: float, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.level = TimeSeries()
        self.target_s = target_s
        self.buffer_s = 0.0
        self.state = "idle"

    def series(self) -> Sequence[TimeSeries]:
        return (self.level, self.stalls, self.drops)

    def add_level(self, t_s: float, buffer_s: float) -> None:
        self.level.add(t_s, buffer_s)

    def show(self, buffer_s: float, state: str) -> None:
        self.buffer_s = buffer_s
        self.state = state

    def _column(self, b0: int, b1: int, prev: Any) -> Any:
        s = self.level
        n = 0
        tot = 0.0
        for b in range(b0, b1):
            n += s.count[b]
            tot += s.total[b]
        if n:
            return tot / n
        return prev[0] if prev is not None else None

    def scale_max(self, cols: list[Any]) -> float:
        top = self.target_s
        for c in cols:
            if c is not None and c[0] is not None and c[0] > top:
                top = c[0]
        return top * 1.1

    def _label(self, row: int, rows: int, vmax: float) -> str:
        if row == row_of(self.target_s, rows, vmax):
            return f"{self.target_s:.0f}s"
        if row == rows - 1:
            return "0"
        return ""

    def _row_cells(self, row: int, rows: int, cols: list[Any], vmax: float) -> list[tuple[str, Style | None]]:
        values = [None if c is None else c[0] for c in cols]
        cells = area_cells(values, row, rows, vmax, AREA)
        target_row = row == row_of(self.target_s, rows, vmax)
        for i, c in enumerate(cols):
            if c is None:
                continue
            ch, st = cells[i]
            if target_row and ch == " ":
                ch, st = "╌", TARGET
            cells[i] = with_flags((ch, st), c)
        return cells

    def headline(self) -> Text:
        t = Text("Buffer ", style="bold")
        t.append(f"{self.buffer_s:5.1f} s", style="bold dodger_blue2")
        t.append(f"  target {self.target_s:g} s", style="yellow")
        t.append(f"  {self.state}", style="bold red" if self.state == "stalled" else "")
        return t
