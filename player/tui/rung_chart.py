"""The chosen (requested) and the playing rung over time, one band per rung."""

from __future__ import annotations

from typing import Any, Sequence

from rich.style import Style
from rich.text import Text

from player.tui.chart import DROP_BG, STALL_BG, TimeChart
from player.tui.series import TimeSeries

CHOSEN = "cyan"
PLAYING = "green"


class RungChart(TimeChart):
    """Top half-block (cyan): the rung the ABR chose for the segment being fetched;
    bottom half-block (green): the rung at the playhead; red columns: stalls."""

    def __init__(self, bitrates_bps: Sequence[int], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bitrates_bps = tuple(bitrates_bps)
        self.chosen = TimeSeries()
        self.playing = TimeSeries()
        self.chosen_rung: int | None = None
        self.playing_rung: int | None = None

    def series(self) -> Sequence[TimeSeries]:
        return (self.chosen, self.playing, self.stalls, self.drops)

    def add_chosen(self, t_s: float, rung: int) -> None:
        self.chosen_rung = rung
        self.chosen.add(t_s, rung)

    def add_playing(self, t_s: float, rung: int | None) -> None:
        self.playing_rung = rung
        if rung is not None:
            self.playing.add(t_s, rung)

    @staticmethod
    def _last(s: TimeSeries, b0: int, b1: int) -> float | None:
        v = None
        t = -1.0
        for b in range(b0, b1):
            if s.count[b] and s.last_t[b] >= t:
                v, t = s.last[b], s.last_t[b]
        return v

    def _column(self, b0: int, b1: int, prev: Any) -> Any:
        c = self._last(self.chosen, b0, b1)
        p = self._last(self.playing, b0, b1)
        if prev is not None:
            if c is None:
                c = prev[0][0]
            if p is None:
                p = prev[0][1]
        return (c, p)

    def _rung_row(self, rung: float, rows: int) -> int:
        n = len(self.bitrates_bps)
        return rows - 1 - int(int(rung) * rows / n) if n else rows - 1

    def _label(self, row: int, rows: int, vmax: float) -> str:
        n = len(self.bitrates_bps)
        for r in range(n - 1, -1, -1):
            if self._rung_row(r, rows) == row:
                return f"{self.bitrates_bps[r] / 1e6:.2g}M" if self.bitrates_bps[r] >= 1e6 else f"{self.bitrates_bps[r] / 1e3:.0f}k"
        return ""

    def _row_cells(self, row: int, rows: int, cols: list[Any], vmax: float) -> list[tuple[str, Style | None]]:
        cells: list[tuple[str, Style | None]] = []
        styles = _STYLES
        for c in cols:
            if c is None:
                cells.append((" ", None))
                continue
            chosen, playing = c[0]
            top = chosen is not None and self._rung_row(chosen, rows) == row
            bottom = playing is not None and self._rung_row(playing, rows) == row
            bg = 1 if c[1] else (2 if c[2] else 0)
            if top and bottom:
                cells.append(("▀", styles[("both", bg)]))
            elif top:
                cells.append(("▀", styles[("top", bg)]))
            elif bottom:
                cells.append(("▄", styles[("bottom", bg)]))
            else:
                cells.append((" ", styles[("none", bg)]))
        return cells

    def headline(self) -> Text:
        def kbps(r: int | None) -> str:
            return "-" if r is None else f"{self.bitrates_bps[r] / 1e3:g}k (#{r})"

        t = Text("Rung ", style="bold")
        t.append(f"chosen {kbps(self.chosen_rung)}", style=f"bold {CHOSEN}")
        t.append(f"  playing {kbps(self.playing_rung)}", style=f"bold {PLAYING}")
        return t


def _styles() -> dict[tuple[str, int], Style | None]:
    out: dict[tuple[str, int], Style | None] = {}
    for bg, extra in ((0, None), (1, STALL_BG), (2, DROP_BG)):
        for kind, st in (
            ("both", Style(color=CHOSEN, bgcolor=PLAYING)),
            ("top", Style(color=CHOSEN)),
            ("bottom", Style(color=PLAYING)),
            ("none", None),
        ):
            if extra is None:
                out[(kind, bg)] = st
            elif st is None:
                out[(kind, bg)] = extra
            elif kind == "both":
                out[(kind, bg)] = st
            else:
                out[(kind, bg)] = st + extra
    return out


_STYLES = _styles()
