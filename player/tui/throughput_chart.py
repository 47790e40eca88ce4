"""Throughput samples (one per transfer) and the session's estimate over time."""

from __future__ import annotations

from typing import Any, Sequence

from rich.style import Style
from rich.text import Text

from player.tui.chart import TimeChart, area_cells, fmt_rate, nice_ceiling, row_of, with_flags
from player.tui.series import TimeSeries

SAMPLES = Style(color="grey62")
ESTIMATE = Style(color="magenta", bold=True)
ON_BAR = Style(color="magenta", bgcolor="grey62", bold=True)


class ThroughputChart(TimeChart):
    """Bars: measured transfer rates (the highest in each column); line: the throughput
    estimate; grey background: an injected bandwidth drop."""

    def __init__(self, top_rung_bps: float, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.samples = TimeSeries()
        self.estimate = TimeSeries()
        self.top_rung_bps = top_rung_bps
        self.last_sample_bps: float | None = None
        self.estimate_bps: float | None = None

    def series(self) -> Sequence[TimeSeries]:
        return (self.samples, self.estimate, self.stalls, self.drops)

    def add_sample(self, t_s: float, rate_bps: float) -> None:
        self.samples.add(t_s, rate_bps)
        self.last_sample_bps = rate_bps

    def add_estimate(self, t_s: float, rate_bps: float | None) -> None:
        self.estimate_bps = rate_bps
        if rate_bps is not None:
            self.estimate.add(t_s, rate_bps)

    def _column(self, b0: int, b1: int, prev: Any) -> Any:
        s, e = self.samples, self.estimate
        hi = None
        est = None
        est_t = -1.0
        for b in range(b0, b1):
            if s.count[b] and (hi is None or s.hi[b] > hi):
                hi = s.hi[b]
            if e.count[b] and e.last_t[b] >= est_t:
                est, est_t = e.last[b], e.last_t[b]
        if est is None and prev is not None:
            est = prev[0][1]
        return (hi, est)

    def scale_max(self, cols: list[Any]) -> float:
        top = self.top_rung_bps
        for c in cols:
            if c is not None:
                hi, est = c[0]
                if hi is not None and hi > top:
                    top = hi
                if est is not None and est > top:
                    top = est
        return nice_ceiling(top)

    def _label(self, row: int, rows: int, vmax: float) -> str:
        if row == 0:
            return fmt_rate(vmax)
        if row == rows - 1:
            return "0"
        return ""

    def _row_cells(self, row: int, rows: int, cols: list[Any], vmax: float) -> list[tuple[str, Style | None]]:
        values = [None if c is None else c[0][0] for c in cols]
        cells = area_cells(values, row, rows, vmax, SAMPLES)
        for i, c in enumerate(cols):
            if c is None:
                continue
            ch, st = cells[i]
            est = c[0][1]
            if est is not None and row_of(est, rows, vmax) == row:
                # The estimate is a line across the bars: on a bar, keep the bar's colour
                # as the background so both stay readable.
                ch, st = ("━", ESTIMATE) if ch == " " else ("━", ON_BAR)
            cells[i] = with_flags((ch, st), c)
        return cells

    def headline(self) -> Text:
        t = Text("Throughput ", style="bold")
        last = "-" if self.last_sample_bps is None else fmt_rate(self.last_sample_bps) + "bps"
        est = "-" if self.estimate_bps is None else fmt_rate(self.estimate_bps) + "bps"
        t.append(f"last {last}", style="grey62")
        t.append(f"  estimate {est}", style="bold magenta")
        return t
