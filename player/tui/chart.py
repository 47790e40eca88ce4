"""A live time chart widget drawn with unicode blocks (Textual's Line API).

Layout, top to bottom: a headline row (the subclass's current values), the plot rows
(left: a value scale), and a time-axis row. The x axis is the whole session so far,
``[0, span_s)`` of the series (see ``player.tui.series``); the current time is where
the data stops.

Each refresh is cheap by construction: per-column values are cached and only the
columns whose buckets changed since the last frame (plus the columns up to "now") are
recomputed, so a frame costs O(width x height) to draw whatever the session's length.
Intervals (stalls, bandwidth drops) are flag series drawn as column backgrounds, so
they line up on every chart of a session.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from player.tui.series import TimeSeries, column_buckets, column_of_bucket

BLOCKS = " ▁▂▃▄▅▆▇█"
LABEL_W = 6

STALL_BG = Style(bgcolor="red3")
DROP_BG = Style(bgcolor="grey23")
AXIS = Style(color="grey50")
HEADLINE = Style(bold=True)


def nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= x (axis maxima that read well)."""
    if x <= 0 or not math.isfinite(x):
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        v = m * 10.0**k
        if v >= x * (1 - 1e-9):
            return v
    return 10.0 ** (k + 1)


def fmt_time(t_s: float) -> str:
    if t_s >= 3600:
        return f"{t_s / 3600:.1f}h"
    if t_s >= 600:
        return f"{t_s / 60:.0f}m"
    return f"{t_s:.0f}s"


def fmt_rate(bps: float) -> str:
    if bps >= 1e6:
        return f"{bps / 1e6:.3g}M"
    return f"{bps / 1e3:.3g}k"


class TimeChart(Widget):
    """Base class: series bookkeeping, column cache, layout. Subclasses say what a column
    holds (``_column``) and how a plot row looks (``_row_cells``)."""

    DEFAULT_CSS = """
    TimeChart {
        height: 1fr;
        min-height: 4;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.stalls = TimeSeries()
        self.drops = TimeSeries()
        self.now_s = 0.0
        self._cols: list[Any] = []
        self._key: tuple[int, int] | None = None
        self._now_col = -1
        self._dirty = 0

    # ----------------------------------------------------------------- data in
    def series(self) -> Sequence[TimeSeries]:
        """Every series whose buckets feed the columns (flags included)."""
        return (self.stalls, self.drops)

    def set_now(self, t_s: float) -> None:
        """Move the chart's clock; every series grows to the same span."""
        self.now_s = t_s
        for s in self.series():
            if t_s >= s.span_s:
                s._grow(t_s)

    def mark_stall(self, t0: float, t1: float) -> None:
        self.stalls.mark(t0, t1)

    def mark_drop(self, t0: float, t1: float) -> None:
        self.drops.mark(t0, t1)

    # ----------------------------------------------------------------- columns
    def _column(self, b0: int, b1: int, prev: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _flag(s: TimeSeries, b0: int, b1: int) -> bool:
        c = s.count
        for b in range(b0, b1):
            if c[b]:
                return True
        return False

    def update_columns(self, width: int) -> list[Any]:
        """Bring the per-column cache up to date for ``width`` plot columns."""
        series = self.series()
        cap = series[0].capacity
        gen = series[0].generation
        span = series[0].span_s
        key = (width, gen)
        dirty_bucket = min(s.clean() for s in series)
        if key != self._key or len(self._cols) != width:
            self._cols = [None] * width
            self._key = key
            start = 0
        else:
            start = min(column_of_bucket(cap, width, min(dirty_bucket, cap - 1)), max(self._now_col, 0))
        now_b = min(int(self.now_s / (span / cap)), cap - 1)
        now_col = column_of_bucket(cap, width, now_b)
        while now_col + 1 < width and column_buckets(cap, width, now_col + 1)[0] <= now_b:
            now_col += 1
        cols = self._cols
        prev = cols[start - 1] if start > 0 else None
        stalls, drops = self.stalls, self.drops
        for c in range(start, width):
            if c > now_col:
                cols[c] = None
                continue
            b0, b1 = column_buckets(cap, width, c)
            v = self._column(b0, b1, prev)
            cols[c] = (v, self._flag(stalls, b0, b1), self._flag(drops, b0, b1))
            prev = cols[c]
        self._now_col = now_col
        return cols

    # ----------------------------------------------------------------- drawing
    def headline(self) -> Text:  # pragma: no cover - abstract
        raise NotImplementedError

    def scale_max(self, cols: list[Any]) -> float:
        return 1.0

    def _row_cells(self, row: int, rows: int, cols: list[Any], vmax: float) -> list[tuple[str, Style | None]]:  # pragma: no cover
        raise NotImplementedError

    def _label(self, row: int, rows: int, vmax: float) -> str:
        return ""

    def render_line(self, y: int) -> Strip:
        lines = self._line_cache()
        return lines[y] if 0 <= y < len(lines) else Strip.blank(self.size.width)

    def _line_cache(self) -> list[Strip]:
        # One pass draws every line; render_line serves them from here until the next
        # refresh (Textual asks line by line).
        size = (self.size.width, self.size.height)
        cached = getattr(self, "_lines", None)
        if cached is not None and self._lines_key == (size, self._frame):
            return cached
        self._lines = self.render_all(*size)
        self._lines_key = (size, self._frame)
        return self._lines

    _frame = 0
    _lines_key: Any = None

    def refresh_chart(self) -> None:
        """New data is in: redraw on the next paint."""
        self._frame += 1
        self.refresh()

    def render_all(self, width: int, height: int) -> list[Strip]:
        """Every line of the chart at ``width`` x ``height`` (the cost of one refresh)."""
        lines: list[Strip] = []
        if width <= 0 or height <= 0:
            return lines
        head = self.headline()
        head.truncate(width, overflow="ellipsis")
        lines.append(_text_strip(head, width))
        rows = max(height - 2, 0)
        plot_w = max(width - LABEL_W, 1)
        cols = self.update_columns(plot_w)
        vmax = self.scale_max(cols)
        for r in range(rows):
            label = self._label(r, rows, vmax).rjust(LABEL_W - 1)[: LABEL_W - 1] + " "
            cells = self._row_cells(r, rows, cols, vmax)
            lines.append(_cells_strip(label, cells, width))
        if height >= 2:
            lines.append(self._axis(width, plot_w))
        return lines[:height]

    def _axis(self, width: int, plot_w: int) -> Strip:
        span = self.series()[0].span_s
        left = "0"
        mid = fmt_time(span / 2)
        right = fmt_time(span)
        buf = [" "] * plot_w
        for i, ch in enumerate(left):
            if i < plot_w:
                buf[i] = ch
        m0 = plot_w // 2 - len(mid) // 2
        if plot_w >= 20:
            for i, ch in enumerate(mid):
                buf[m0 + i] = ch
        r0 = plot_w - len(right)
        if r0 > len(left):
            for i, ch in enumerate(right):
                buf[r0 + i] = ch
        if 0 <= self._now_col < plot_w and buf[self._now_col] == " ":
            buf[self._now_col] = "▲"
        text = " " * LABEL_W + "".join(buf)
        return Strip([Segment(text[:width].ljust(width), AXIS)], width)


def _text_strip(text: Text, width: int) -> Strip:
    segs = list(text.render(_CONSOLE))
    return Strip(segs).adjust_cell_length(width)


def _cells_strip(label: str, cells: list[tuple[str, Style | None]], width: int) -> Strip:
    segs = [Segment(label, AXIS)]
    run: list[str] = []
    style: Style | None = None
    for ch, st in cells:
        if st is not style and run:
            segs.append(Segment("".join(run), style))
            run = []
        style = st
        run.append(ch)
    if run:
        segs.append(Segment("".join(run), style))
    return Strip(segs).adjust_cell_length(width)


# Renders headline Text into segments (no output: only measuring and styling).
_CONSOLE = Console(width=400, color_system=None, legacy_windows=False)


def area_cells(values: Sequence[float | None], row: int, rows: int, vmax: float, style: Style) -> list[tuple[str, Style | None]]:
    """Cells of plot row ``row`` (0 = top) of an area chart of ``values``, in eighths."""
    out: list[tuple[str, Style | None]] = []
    base = (rows - 1 - row) * 8
    scale = rows * 8 / vmax if vmax > 0 else 0.0
    for v in values:
        if v is None:
            out.append((" ", None))
            continue
        level = v * scale - base
        if level <= 0:
            out.append((" ", None))
        elif level >= 8:
            out.append(("█", style))
        else:
            out.append((BLOCKS[max(1, int(level + 0.5)) if level >= 0.5 else 1], style))
    return out


def with_flags(cell: tuple[str, Style | None], col: Any) -> tuple[str, Style | None]:
    """``cell`` on the column's background: red while stalled, grey during a drop."""
    ch, st = cell
    if col[1]:
        return ch, STALL_BG if st is None else st + STALL_BG
    if col[2]:
        return ch, DROP_BG if st is None else st + DROP_BG
    return cell


def row_of(value: float, rows: int, vmax: float) -> int:
    """The plot row (0 = top) that ``value`` falls in."""
    if vmax <= 0:
        return rows - 1
    r = rows - 1 - int(value / vmax * rows)
    return min(max(r, 0), rows - 1)
