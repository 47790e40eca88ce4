"""Running KPIs and QoE so far."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from player.session import Status
from player.tui.scores import MODELS, RunningScore


class KpiPanel(Static):
    """Startup, stalls, average bitrate, switches and QoE (lin/log/hd) so far. Redrawn
    only when a value it shows changes."""

    DEFAULT_CSS = """
    KpiPanel {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, score: RunningScore, *, compact: bool = False, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.score = score
        self.compact = compact
        self.values: dict[str, str] = {}
        self._shown: tuple | None = None

    def show(self, status: Status) -> None:
        s = self.score
        v = {
            "startup": f"{s.startup_s:.2f} s" if s.started else "-",
            "stalls": f"{status.stall_count}",
            "rebuffer": f"{status.rebuffer_s:.1f} s",
            "avg rate": f"{s.avg_bitrate_kbps:.0f} kbps",
            "switches": f"{s.switches}",
            "played": f"{status.playhead_s:.1f} s",
            "segments": f"{s.segments}",
        }
        for m in MODELS:
            v[f"QoE {m}"] = f"{s.qoe(m):.2f}"
        key = tuple(v.values())
        if key == self._shown:
            return
        # The table's rows never wrap, so its height is the first one's; the short form
        # (compare mode) may wrap differently as values grow.
        layout = self.compact or self._shown is None
        self._shown = key
        self.values = v
        self.update(self._short(v) if self.compact else self._table(v), layout=layout)

    @staticmethod
    def _short(v: dict[str, str]) -> Text:
        t = Text()
        t.append("stalls ", style="grey62")
        t.append(v["stalls"], style="bold red" if v["stalls"] != "0" else "bold")
        t.append(f" ({v['rebuffer']})  ", style="grey62")
        t.append("avg ", style="grey62")
        t.append(v["avg rate"], style="bold")
        t.append("\nswitches ", style="grey62")
        t.append(v["switches"], style="bold")
        t.append("  startup ", style="grey62")
        t.append(v["startup"], style="bold")
        t.append("\nQoE lin ", style="grey62")
        t.append(v["QoE lin"], style="bold")
        t.append("  hd ", style="grey62")
        t.append(v["QoE hd"], style="bold")
        return t

    @staticmethod
    def _table(v: dict[str, str]) -> Table:
        t = Table.grid(padding=(0, 1))
        t.add_column(style="grey62", no_wrap=True)
        t.add_column(justify="right", no_wrap=True)
        t.add_row(Text("KPIs", style="bold"), "")
        for k, val in v.items():
            t.add_row(k, Text(val, style="bold red" if k == "stalls" and val != "0" else "bold"))
        return t
