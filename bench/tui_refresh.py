"""Cost of one refresh of every live TUI widget with an hour of session history.

    .venv/bin/python bench/tui_refresh.py [--width 200 --height 60 --repeat 30]

Setup: a real simulated session (a 3600-segment title of 1 s segments over an hour of
the generated demo trace) played through a real SessionPane, one frame per session
second, so each chart holds an hour of 1 s samples plus every event. Then, per widget,
"one refresh" is what a frame does to it: take one more second of data and redraw all
of its lines through Textual's own render path (``Widget.render_lines``).

Reference, run in the same process on the same data: a naive full redraw, i.e. what a
straightforward implementation does each frame: resample the whole raw history to the
screen's columns and render the result with rich (charts); score the whole record with
``qoe.metrics.kpis``/``qoe`` and render a rich table (KPIs, ladder); format every event
and render the tail (log). The ratio is ours / reference: below 1 is faster.
Budget: 20 ms per widget (10 refreshes a second leave the core most of the CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from bisect import bisect_left
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from rich.text import Text  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.geometry import Region  # noqa: E402

from player.session import Status  # noqa: E402
from player.titlegen import generate_title  # noqa: E402
from player.tui.chart import BLOCKS, LABEL_W  # noqa: E402
from player.tui.event_log import describe  # noqa: E402
from player.tui.session_pane import SessionPane  # noqa: E402
from player.tui.source import SimSource, demo_trace  # noqa: E402
from qoe.events import SegmentLoaded, SegmentRequested  # noqa: E402
from qoe.metrics import kpis, qoe  # noqa: E402

BUDGET_MS = 20.0
HOUR_S = 3600


class Host(App):
    def __init__(self, source: SimSource) -> None:
        super().__init__()
        self.pane = SessionPane(source)

    def compose(self) -> ComposeResult:
        yield self.pane


def _time(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` in ms."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(out)


def _render(widget) -> None:
    widget.refresh()
    w, h = widget.size
    widget.render_lines(Region(0, 0, w, h))


# ----------------------------------------------------------------------------- reference
class Naive:
    """The same data kept raw, redrawn from scratch each frame with rich."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.buffer: list[tuple[float, float]] = []
        self.playing: list[tuple[float, float]] = []
        self.chosen: list[tuple[float, float]] = []
        self.samples: list[tuple[float, float]] = []
        self.estimate: list[tuple[float, float]] = []

    def chart(self, series: list[tuple[float, float]], width: int, height: int, span_s: float) -> None:
        plot_w = width - LABEL_W
        rows = height - 2
        ts = [t for t, _ in series]
        cols: list[float | None] = []
        for c in range(plot_w):
            a, b = c * span_s / plot_w, (c + 1) * span_s / plot_w
            vals = [v for t, v in series if a <= t < b]  # scans the whole history
            cols.append(sum(vals) / len(vals) if vals else (cols[-1] if cols else None))
        del ts
        vmax = max((v for v in cols if v is not None), default=1.0) or 1.0
        text = Text()
        text.append("headline\n")
        for r in range(rows):
            base = (rows - 1 - r) * 8
            line = []
            for v in cols:
                level = 0 if v is None else v / vmax * rows * 8 - base
                line.append(BLOCKS[max(0, min(8, int(level)))] if level > 0 else " ")
            text.append(" " * LABEL_W + "".join(line) + "\n", style="blue")
        text.append("axis")
        self.console.render_lines(text, self.console.options.update(width=width, height=height))

    def kpis(self, session, width: int, height: int) -> None:
        rec = session.record()
        k = kpis(rec, session.title.video.n_rungs)
        t = Table.grid()
        for name, v in k.to_dict().items():
            t.add_row(name, str(v)[:12])
        for m in ("lin", "log", "hd"):
            t.add_row(f"QoE {m}", f"{qoe(rec, m):.2f}")
        self.console.render_lines(t, self.console.options.update(width=width, height=height))

    def ladder(self, session, width: int, height: int) -> None:
        rec = session.record()
        per = kpis(rec, session.title.video.n_rungs).time_per_rung_s
        t = Table.grid()
        for i, r in enumerate(session.title.video.rungs):
            t.add_row(f"{r.bitrate_bps / 1e3:g}k", f"{per[i]:.0f}")
        self.console.render_lines(t, self.console.options.update(width=width, height=height))

    def log(self, session, width: int, height: int) -> None:
        lines = [f"{ev.t:7.2f} {describe(ev)[0]}" for ev in session.log]  # every event
        text = Text("\n".join(lines[-height:]))
        self.console.render_lines(text, self.console.options.update(width=width, height=height))


# ----------------------------------------------------------------------------- the run
async def bench(width: int, height: int, repeat: int) -> list[tuple[str, float, float]]:
    title = generate_title(n_segments=HOUR_S + 60, segment_duration_s=1.0, seed=1)
    trace = demo_trace(seed=3, duration_s=2 * HOUR_S)
    src = SimSource(title, trace, "bba")
    app = Host(src)
    naive = Naive(Console(width=width, file=open("/dev/null", "w"), color_system="truecolor", force_terminal=True))
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.pause()
        pane = app.pane
        t0 = time.perf_counter()
        seen = 0
        for s in range(1, HOUR_S + 1):  # one frame per session second
            src.advance_to(float(s))
            pane.update()
            st = pane.status
            naive.buffer.append((st.t_s, st.buffer_s))
            naive.playing.append((st.t_s, float(st.playing_rung or 0)))
            naive.estimate.append((st.t_s, src.estimate_bps() or 0.0))
            rows = src.session.log.rows
            for row in rows[seen:]:
                if row[0] is SegmentLoaded and row[8] > 0:
                    naive.samples.append((row[1], row[6] * 8.0 / row[8]))
                elif row[0] is SegmentRequested:
                    naive.chosen.append((row[1], float(row[4])))
            seen = len(rows)
        fill_s = time.perf_counter() - t0
        await pilot.pause()
        n_loaded = sum(1 for r in src.session.log.rows if r[0] is SegmentLoaded)
        print(f"history: {HOUR_S} frames (1 s each), {len(src.session.log)} events, {n_loaded} segments; "
              f"filled in {fill_s:.1f} s ({fill_s / HOUR_S * 1000:.2f} ms per frame incl. the simulator)")

        clock = [float(HOUR_S)]

        def tick() -> Status:
            clock[0] += 1.0
            src.advance_to(clock[0])
            return src.status()

        span = pane.buffer.level.span_s
        results = []

        def chart_case(name, chart, feed, raw):
            def ours():
                st = tick()
                chart.set_now(st.t_s)
                feed(st)
                chart.refresh_chart()
                _render(chart)

            w, h = chart.size

            def ref():
                raw.append((clock[0], 1.0))
                naive.chart(raw, w, h, span)

            results.append((name, _time(ours, repeat), _time(ref, repeat)))

        chart_case("buffer chart", pane.buffer, lambda st: pane.buffer.add_level(st.t_s, st.buffer_s), naive.buffer)
        chart_case("rung chart", pane.rungs, lambda st: pane.rungs.add_playing(st.t_s, st.playing_rung), naive.playing)
        chart_case("throughput chart", pane.throughput, lambda st: pane.throughput.add_estimate(st.t_s, src.estimate_bps()), naive.estimate)

        def kpi_ours():
            st = tick()
            for ev in src.take_events():
                pane.score.ingest(ev)
            pane.kpis._shown = None  # force a redraw even if nothing shown changed
            pane.kpis.show(st)
            _render(pane.kpis)

        kw, kh = pane.kpis.size
        results.append(("kpi panel", _time(kpi_ours, repeat), _time(lambda: naive.kpis(src.session, kw, kh), repeat)))

        def ladder_ours():
            st = tick()
            pane.ladder._shown = None
            pane.ladder.show(pane.rungs.chosen_rung, st.playing_rung, pane.score.time_per_rung_s)
            _render(pane.ladder)

        lw, lh = pane.ladder.size
        results.append(("ladder", _time(ladder_ours, repeat), _time(lambda: naive.ladder(src.session, lw, lh), repeat)))

        def log_ours():
            tick()
            pane.log_view.add_events(src.take_events()[-3:] or list(src.session.log.of_type(SegmentLoaded))[-1:])
            _render(pane.log_view)

        gw, gh = pane.log_view.size
        results.append(("event log", _time(log_ours, repeat), _time(lambda: naive.log(src.session, gw, gh), repeat)))

        def whole_frame():
            st = tick()
            del st
            pane.update()
            for wdg in (pane.buffer, pane.rungs, pane.throughput, pane.kpis, pane.ladder, pane.log_view):
                _render(wdg)

        results.append(("whole pane (frame)", _time(whole_frame, repeat), float("nan")))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=200)
    ap.add_argument("--height", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=30)
    a = ap.parse_args()
    results = asyncio.run(bench(a.width, a.height, a.repeat))
    print(f"terminal {a.width}x{a.height}, median of {a.repeat} refreshes; budget {BUDGET_MS:g} ms per widget")
    print(f"{'widget':<20} {'ours ms':>9} {'naive ms':>9} {'ratio':>7}  budget")
    worst = 0.0
    for name, ours, ref in results:
        ratio = ours / ref if ref == ref and ref > 0 else float("nan")
        ok = "ok" if ours < BUDGET_MS else "OVER"
        if not name.startswith("whole"):
            worst = max(worst, ours)
        print(f"{name:<20} {ours:9.3f} {ref:9.3f} {ratio:7.3f}  {ok}")
    print(f"slowest widget: {worst:.3f} ms ({'within' if worst < BUDGET_MS else 'OVER'} the {BUDGET_MS:g} ms budget)")


if __name__ == "__main__":
    main()
