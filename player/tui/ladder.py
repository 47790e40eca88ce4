"""The ladder, top rung first, with the chosen and the playing rung highlighted."""

from __future__ import annotations

from typing import Sequence

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from player.presentation import Rung


class LadderView(Static):
    """One row per rung: markers (▶ chosen, ● playing), bitrate, resolution, and the
    share of media time fetched at that rung so far."""

    DEFAULT_CSS = """
    LadderView {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, rungs: Sequence[Rung], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rungs = tuple(rungs)
        self.chosen: int | None = None
        self.playing: int | None = None
        self._shown: tuple | None = None

    def show(self, chosen: int | None, playing: int | None, time_per_rung_s: Sequence[float]) -> None:
        total = sum(time_per_rung_s)
        shares = tuple(round(100 * x / total) if total else 0 for x in time_per_rung_s)
        key = (chosen, playing, shares)
        if key == self._shown:
            return
        # A row per rung, never wrapped: the height is set by the first table.
        layout = self._shown is None
        self._shown = key
        self.chosen, self.playing = chosen, playing
        t = Table.grid(padding=(0, 1))
        t.add_column(no_wrap=True)
        t.add_column(justify="right", no_wrap=True)
        t.add_column(no_wrap=True)
        t.add_column(justify="right", no_wrap=True)
        t.add_row(Text("Ladder", style="bold"), "", "", "")
        for i in range(len(self.rungs) - 1, -1, -1):
            r = self.rungs[i]
            mark = ("▶" if i == chosen else " ") + ("●" if i == playing else " ")
            style = "reverse bold cyan" if i == chosen else ("bold green" if i == playing else "")
            res = f"{r.height}p" if r.height else ""
            share = f"{shares[i]}%" if i < len(shares) else ""
            t.add_row(Text(mark, style="bold"), Text(f"{r.bitrate_bps / 1e3:g}k", style=style), res, share)
        self.update(t, layout=layout)
