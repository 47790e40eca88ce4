"""One live session on screen: the charts, the ladder, the KPIs and the event log,
fed from a source once per frame.

Data flows one way: ``update()`` takes the events new since the last frame and the
status at the frame's time from the source, and hands each widget only what is new.
Compare mode puts two panes side by side (``compact``: no ladder or log, KPIs in a
short form).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from player.session import STALLED, Status
from player.tui.buffer_chart import BufferChart
from player.tui.event_log import EventLogView
from player.tui.kpis import KpiPanel
from player.tui.ladder import LadderView
from player.tui.rung_chart import RungChart
from player.tui.scores import RunningScore
from player.tui.source import SessionSource
from player.tui.throughput_chart import ThroughputChart
from qoe.events import SegmentLoaded, SegmentRequested, StallEnd, StallStart


class SessionPane(Vertical):
    DEFAULT_CSS = """
    SessionPane {
        width: 1fr;
        height: 1fr;
    }
    SessionPane .pane-title {
        height: 1;
        background: $boost;
        text-style: bold;
    }
    SessionPane .charts {
        width: 2fr;
    }
    SessionPane .side {
        width: 1fr;
        min-width: 24;
        max-width: 44;
        border-left: vkey $surface-lighten-2;
    }
    SessionPane BufferChart { height: 2fr; }
    SessionPane RungChart { height: 2fr; }
    SessionPane ThroughputChart { height: 2fr; }
    SessionPane.compact .charts { width: 1fr; }
    """

    def __init__(self, source: SessionSource, *, compact: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="compact" if compact else None)
        self.source = source
        self.compact = compact
        s = source.session
        track = s.title.video
        self.buffer = BufferChart(s.config.max_buffer_s)
        self.rungs = RungChart(track.bitrates_bps)
        self.throughput = ThroughputChart(track.bitrates_bps[-1])
        self.score = RunningScore(track.n_rungs)
        self.kpis = KpiPanel(self.score, compact=compact)
        self.ladder = LadderView(track.rungs)
        self.log_view = EventLogView()
        self.title_bar = Static(classes="pane-title")
        self._stall_from: float | None = None
        self._prev_t = 0.0
        self._first = True
        self.status: Status | None = None

    def compose(self) -> ComposeResult:
        yield self.title_bar
        if self.compact:
            with Vertical(classes="charts"):
                yield self.buffer
                yield self.rungs
                yield self.throughput
                yield self.kpis
        else:
            with Horizontal():
                with Vertical(classes="charts"):
                    yield self.buffer
                    yield self.rungs
                    yield self.throughput
                with Vertical(classes="side"):
                    yield self.ladder
                    yield self.kpis
                    yield self.log_view

    def on_mount(self) -> None:
        self.update()

    @property
    def charts(self) -> tuple[BufferChart, RungChart, ThroughputChart]:
        return (self.buffer, self.rungs, self.throughput)

    def note(self, message: str) -> None:
        t = self.status.t_s if self.status is not None else 0.0
        if not self.compact:
            self.log_view.note(t, message)

    def update(self) -> None:
        """Pull what is new from the source and hand it to the widgets."""
        src = self.source
        events = src.take_events()
        buffer, rungs, tp = self.buffer, self.rungs, self.throughput
        for ev in events:
            k = type(ev)
            if k is SegmentRequested:
                if ev.media == "video":
                    rungs.add_chosen(ev.t, ev.rung)
            elif k is SegmentLoaded:
                if ev.media == "video":
                    buffer.add_level(ev.t, max(ev.buffer_s - ev.duration_s, 0.0))
                    buffer.add_level(ev.t, ev.buffer_s)
                    if ev.transfer_s > 0:
                        tp.add_sample(ev.t, ev.size_bytes * 8.0 / ev.transfer_s)
            elif k is StallStart:
                self._stall_from = ev.t
                buffer.add_level(ev.t, 0.0)
            elif k is StallEnd:
                start = self._stall_from if self._stall_from is not None else ev.t - ev.duration_s
                for c in self.charts:
                    c.mark_stall(start, ev.t)
                self._stall_from = None
            self.score.ingest(ev)
        status = src.status()
        t = status.t_s
        for c in self.charts:
            c.set_now(t)
        # A frame at a time already sampled (paused, or a timer tick between two moves of
        # a test's clock) adds no sample: a repeated point would reweigh its bucket's mean,
        # so what the charts show would depend on how often the screen refreshed.
        estimate = src.estimate_bps()
        if events or t != self._prev_t or self._first:
            self._first = False
            buffer.add_level(t, status.buffer_s)
            rungs.add_playing(t, status.playing_rung)
            tp.add_estimate(t, estimate)
        else:
            rungs.playing_rung, tp.estimate_bps = status.playing_rung, estimate
        buffer.show(status.buffer_s, status.state)
        if status.state == STALLED:
            start = self._stall_from if self._stall_from is not None else self._prev_t
            for c in self.charts:
                c.mark_stall(start, t)
        for a, b, _ in src.drops():
            lo, hi = max(a, self._prev_t), min(b, t)
            if hi >= lo and hi > a:
                for c in self.charts:
                    c.mark_drop(lo, hi)
        self._prev_t = t
        self.status = status
        for c in self.charts:
            c.refresh_chart()
        self.kpis.show(status)
        if not self.compact:
            self.ladder.show(rungs.chosen_rung, status.playing_rung, self.score.time_per_rung_s)
            self.log_view.add_events(events)
        # One line of fixed height: no layout pass (a whole screen's worth) each frame.
        self.title_bar.update(self._title(status), layout=False)

    def _title(self, status: Status) -> Text:
        src = self.source
        s = src.session
        t = Text(f" {src.label} ", style="bold reverse")
        t.append(f" {s.title.name} · {s.trace_name or 'unshaped'} · {s.config.mode} · {src.kind}  ", style="")
        t.append(f"t={status.t_s:7.1f}s ", style="bold")
        style = {"stalled": "bold red", "playing": "bold green", "ended": "bold"}.get(status.state, "yellow")
        t.append(status.state, style=style)
        return t
