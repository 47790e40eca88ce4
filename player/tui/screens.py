"""The TUI's screens: the live session, the start form, the error screen, and the
screen shown while an HTTP session connects."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from abr.registry import available, parse_spec
from player.config import MODES
from player.tui.pacer import LivePacer, Pacer
from player.tui.session_pane import SessionPane
from player.tui.source import DEMO_TRACE, SessionSource, bundled_traces, write_events

if TYPE_CHECKING:  # pragma: no cover
    from player.tui.app import AbrlabTui, TuiOptions


def abr_names() -> list[str]:
    return list(available())


class SessionScreen(Screen):
    """One session, or two side by side in lockstep (compare mode)."""

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause"),
        Binding("plus,equals_sign", "faster", "Faster"),
        Binding("minus", "slower", "Slower"),
        Binding("full_stop", "step", "Step 1s", show=False),
        Binding("a", "next_abr(0)", "Switch ABR"),
        Binding("b", "next_abr(1)", "Switch ABR 2", show=False),
        Binding("d", "drop", "Drop BW"),
        Binding("e", "save_events", "Save events"),
        Binding("p", "screenshot", "Screenshot"),
        Binding("n", "new_session", "New"),
        Binding("q", "app.quit", "Quit"),
    ]

    DEFAULT_CSS = """
    SessionScreen #panes { height: 1fr; }
    SessionScreen #status { height: 1; background: $panel; }
    SessionScreen.compare SessionPane { border-right: vkey $surface-lighten-2; }
    """

    def __init__(self, sources: Sequence[SessionSource], pacer: Pacer | LivePacer, *, out_dir: Path, drop: tuple[float, float] = (0.25, 20.0), refresh_hz: float = 10.0) -> None:
        super().__init__(classes="compare" if len(sources) > 1 else None)
        self.sources = list(sources)
        self.pacer = pacer
        self.out_dir = out_dir
        self.drop_factor, self.drop_s = drop
        self.refresh_hz = refresh_hz
        compact = len(self.sources) > 1
        self.panes = [SessionPane(s, compact=compact, id=f"pane{i}") for i, s in enumerate(self.sources)]
        self.status_bar = Static(id="status")
        self.frames = 0
        self._reported: set[int] = set()  # sources whose failure has been shown

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            yield from self.panes
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        self._update_status()
        # What the manifest parser tolerated (an HTTP source's real manifest) goes to the
        # event log once, as `abrlab play` prints it: a quirk of the origin, not an error.
        for s, p in zip(self.sources, self.panes):
            warnings = getattr(s, "warnings", None)
            for w in (warnings() if callable(warnings) else [])[:20]:
                p.note(f"warning: {w}")
        self.set_interval(1.0 / self.refresh_hz, self.frame)

    async def on_unmount(self) -> None:
        # An HTTP session stops streaming with its screen (quit, or a new session).
        for s in self.sources:
            await s.aclose()

    # ------------------------------------------------------------------ the frame
    def frame(self) -> None:
        """Advance every source to the pacer's time (the same for all: lockstep) and
        redraw what changed."""
        t = self.pacer.now_s()
        try:
            for s in self.sources:
                s.advance_to(t)
        except Exception as e:  # a bug in an algorithm must not leave a traceback on screen
            self.app.show_error(f"session error: {type(e).__name__}: {e}")  # type: ignore[attr-defined]
            return
        if all(s.done for s in self.sources) and self.pacer.limit_s is None:
            self.pacer.limit_s = max(s.end_s() or 0.0 for s in self.sources)
        for p in self.panes:
            p.update()
        self.frames += 1
        self._update_status()
        self._report_problems()

    def _report_problems(self) -> None:
        """A session that could not start shows the error screen; one that failed on the
        way keeps its screen (charts, events to save) and says why."""
        for i, (s, p) in enumerate(zip(self.sources, self.panes)):
            msg = s.problem()
            if msg is None or i in self._reported:
                continue
            self._reported.add(i)
            if not s.started:
                self.app.show_error(msg)  # type: ignore[attr-defined]
                return
            p.note(msg)
            self.notify(msg, severity="error", timeout=10)

    def _update_status(self) -> None:
        p = self.pacer
        t = Text()
        if p.live:
            # Over HTTP the session streams on while the display is frozen.
            t.append(" ❚❚ display frozen " if p.paused else " ▶ live ", style="bold reverse yellow" if p.paused else "bold reverse green")
            t.append(f"  http, speed {p.speed:g}x (the stub's)  t={p.now_s():.1f}s", style="bold")
        else:
            t.append(" ❚❚ paused " if p.paused else " ▶ playing ", style="bold reverse yellow" if p.paused else "bold reverse green")
            t.append(f"  speed {p.speed:g}x  session t={p.now_s():.1f}s", style="bold")
        if any(s.drop_unavailable() for s in self.sources):
            t.append("  drop key: off", style="grey62")
        else:
            t.append(f"  drop key: {self.drop_factor:.0%} for {self.drop_s:g}s", style="grey62")
        self.status_bar.update(t, layout=False)  # one line of fixed height: no layout pass

    # ------------------------------------------------------------------ actions
    def action_toggle_pause(self) -> None:
        # One frame at the instant of the pause, so what stays on screen is that instant
        # (over HTTP the session runs on; the frozen display is the only record of it).
        self.pacer.toggle()
        self.frame()

    def _fixed_pace(self) -> bool:
        if self.pacer.adjustable:
            return False
        self.notify(self.pacer.fixed_reason, severity="warning")
        return True

    def action_faster(self) -> None:
        if self._fixed_pace():
            return
        self.pacer.faster()
        self._update_status()

    def action_slower(self) -> None:
        if self._fixed_pace():
            return
        self.pacer.slower()
        self._update_status()

    def action_step(self) -> None:
        if self._fixed_pace():
            return
        self.pacer.skip(1.0)
        self.frame()

    def switch_abr(self, index: int, spec: str) -> None:
        if index >= len(self.sources):
            return
        src = self.sources[index]
        src.set_abr(spec)  # the core logs an abr_changed event; the pane shows it next frame
        self.notify(f"{'left' if index == 0 and len(self.sources) > 1 else 'ABR'}: now {spec}", timeout=2)

    def action_next_abr(self, index: int) -> None:
        if index >= len(self.sources):
            return
        names = abr_names()
        current = parse_spec(self.sources[index].abr_spec).name
        nxt = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        self.switch_abr(index, nxt)

    def action_drop(self) -> None:
        for s in self.sources:
            why = s.drop_unavailable()
            if why is not None:
                self.notify(why, severity="warning")
                return
        for s, p in zip(self.sources, self.panes):
            try:
                s.inject_drop(self.drop_factor, self.drop_s)
            except (ValueError, RuntimeError) as e:  # e.g. a trace too large to re-register
                self.notify(str(e), severity="error")
                return
            p.note(f"bandwidth x{self.drop_factor:g} for {self.drop_s:g}s")
        self.frame()

    def _cannot_write(self, e: Exception) -> None:
        """An unwritable output directory is the user's to fix, not a crash."""
        from player.tui.http_source import one_line

        msg = f"cannot save to {self.out_dir}: {one_line(e)}"
        self.panes[0].note(msg)
        self.notify(msg, severity="error", timeout=8)

    def action_save_events(self) -> list[Path]:
        paths = []
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            for s, p in zip(self.sources, self.panes):
                path = self.out_dir / f"abrlab-{s.session.session_id}.events.jsonl"
                n = write_events(s.session, path)
                p.note(f"saved {n} events to {path}")
                paths.append(path)
        except (OSError, ValueError) as e:  # ValueError: player.output_file.OutputError
            self._cannot_write(e)
            return paths
        self.notify(f"saved events: {', '.join(str(x) for x in paths)}", timeout=4)
        return paths

    def action_screenshot(self) -> Path | None:
        from player.tui.shots import save_png

        stem = f"abrlab-{self.sources[0].session.session_id}-t{self.pacer.now_s():.0f}"
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            svg = Path(self.app.save_screenshot(filename=f"{stem}.svg", path=str(self.out_dir)))
        except OSError as e:
            self._cannot_write(e)
            return None
        png = save_png(svg)
        msg = f"screenshot: {svg}" + (f" and {png}" if png else " (PNG: pip install 'abrlab[png]')")
        self.panes[0].note(msg)
        self.notify(msg, timeout=4)
        return svg

    def action_new_session(self) -> None:
        self.app.action_new_session()  # type: ignore[attr-defined]


class ErrorScreen(Screen):
    """A bad trace, title, manifest or ABR spec: the one-line message, no traceback."""

    BINDINGS = [
        Binding("n", "app.new_session", "Choose another session"),
        Binding("q,escape", "app.quit", "Quit"),
    ]

    DEFAULT_CSS = """
    ErrorScreen { align: center middle; }
    ErrorScreen #box {
        width: 90%;
        max-width: 100;
        height: auto;
        border: heavy $error;
        padding: 1 2;
    }
    ErrorScreen #message { color: $text; text-style: bold; }
    """

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Label("abrlab could not start this session", classes="title")
            yield Static(Text(self.message), id="message")
            yield Label("n: choose another session   q: quit")
        yield Footer()


class ConnectingScreen(Screen):
    """An HTTP session loading its manifest (retries on a bad URL take a few seconds)."""

    BINDINGS = [Binding("q,escape", "app.quit", "Quit")]

    DEFAULT_CSS = """
    ConnectingScreen { align: center middle; }
    ConnectingScreen #box { width: 90%; max-width: 100; height: auto; border: round $accent; padding: 1 2; }
    """

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Label(Text("Connecting", style="bold"))
            yield Static(Text(self.where), id="where")
            yield Label("loading the manifest and the init segments...   q: quit")
        yield Footer()


# The start form's sources: what plays, and how.
SIMULATED, URL, CONTROL = "sim", "url", "control"
NOT_SHAPED = "the generated demo trace is not a file: over HTTP the session is not shaped"


def control_plane(o: "TuiOptions") -> tuple[str, str] | None:
    """The control plane (URL, API key) the start form can play titles through: the
    current session's, or the one the app was given (``--control``/``--api-key``)."""
    if o.http is not None and o.http.control and o.http.api_key:
        return o.http.control, o.http.api_key
    if o.control and o.api_key:
        return o.control, o.api_key
    return None


class StartScreen(ModalScreen):
    """Pick the source, trace, title, ABR (and a second one to compare), mode and speed.

    The source is a simulated session (the trace is its link), a manifest URL played
    over HTTP, or, when the app knows a control plane (``--control``/``--api-key`` or
    ABRLAB_CONTROL/ABRLAB_API_KEY), a title through it. Over HTTP the trace is what the
    edge shapes the session by (the generated demo trace is not a file: not shaped) and
    the speed must be the stub's (blank: the stub's through the control plane, 1 for a
    URL). The form opens on the current session's choices; a choice that cannot start
    (a bad speed, a URL that is not http(s)...) is a notification, and the form stays."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    StartScreen { align: center middle; }
    StartScreen #form {
        width: 76;
        height: auto;
        max-height: 100%;
        border: round $accent;
        padding: 0 1;
    }
    StartScreen .row { height: 1; margin-bottom: 1; }
    StartScreen .row Label { width: 10; }
    StartScreen .row Select, StartScreen .row Input { width: 1fr; }
    StartScreen #hint { color: $text-muted; margin-bottom: 1; }
    StartScreen #buttons { height: 1; align-horizontal: right; }
    StartScreen Button { min-width: 10; margin-left: 2; }
    """

    def __init__(self, options: "TuiOptions") -> None:
        super().__init__()
        self.options = options
        self.control = control_plane(options)

    def compose(self) -> ComposeResult:
        o, http = self.options, self.options.http
        traces = [(p.name, str(p)) for p in bundled_traces()] + [("generated demo trace", DEMO_TRACE)]
        # Over HTTP no trace file means not shaped: the demo entry stands for that.
        first_trace = (http.trace or DEMO_TRACE) if http is not None else (o.trace or traces[0][1])
        if first_trace not in [v for _, v in traces]:
            traces.insert(0, (Path(first_trace).name, first_trace))
        sources = [("simulated", SIMULATED), ("manifest URL (HTTP)", URL)]
        if self.control is not None:
            sources.append(("title via the control plane (HTTP)", CONTROL))
        source = SIMULATED if http is None else (URL if http.url is not None else CONTROL)
        names = [(n, n) for n in abr_names()]
        abr0 = parse_spec(o.abr).name if o.abr else "bba"
        if o.abr and (o.abr, o.abr) not in names:
            names.insert(0, (o.abr, o.abr))
        abrs = names
        if self.control is not None:  # None: the control plane's recommendation (else bba)
            abrs = names + [("recommended (control plane)", "")]
            if o.abr is None:
                abr0 = ""
        if http is not None:
            speed = f"{http.speed:g}" if http.speed is not None else ""
        else:
            speed = f"{o.speed:g}"
        title = http.title if http is not None and http.title is not None else (o.title or "")
        with VerticalScroll(id="form"):
            yield Label(Text("New session", style="bold"))
            with Horizontal(classes="row"):
                yield Label("source")
                yield Select(sources, value=source, allow_blank=False, compact=True, id="source")
            with Horizontal(classes="row", id="url-row"):
                yield Label("URL")
                yield Input(value=(http.url or "") if http is not None else "", placeholder="http(s)://.../manifest.mpd or .m3u8",
                            compact=True, id="url")
            with Horizontal(classes="row", id="title-row"):
                yield Label("title")
                yield Input(value=title, placeholder="bundled demo title (or a path)", compact=True, id="title")
            with Horizontal(classes="row"):
                yield Label("trace")
                yield Select(traces, value=first_trace, allow_blank=False, compact=True, id="trace")
            with Horizontal(classes="row"):
                yield Label("ABR")
                yield Select(abrs, value=o.abr if o.abr in dict(names) else abr0, allow_blank=False, compact=True, id="abr")
            with Horizontal(classes="row"):
                yield Label("compare")
                yield Select([("(none)", "")] + names, value=o.compare or "", allow_blank=False, compact=True, id="compare")
            with Horizontal(classes="row"):
                yield Label("mode")
                yield Select([(m, m) for m in MODES], value=o.mode, allow_blank=False, compact=True, id="mode")
            with Horizontal(classes="row"):
                yield Label("speed")
                yield Input(value=speed, compact=True, id="speed")
            yield Static(id="hint")
            with Horizontal(id="buttons"):
                yield Button("Start", variant="primary", compact=True, id="start")
                yield Button("Cancel", compact=True, id="cancel")

    def on_mount(self) -> None:
        self._sync()

    @property
    def source(self) -> str:
        return str(self.query_one("#source", Select).value)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id in ("source", "trace"):
            self._sync()

    def _sync(self) -> None:
        """Show the rows the source uses, and say what the trace and speed mean for it."""
        source = self.source
        self.query_one("#url-row").display = source == URL
        self.query_one("#title-row").display = source != URL
        self.query_one("#title", Input).placeholder = (
            "the title's name at the control plane" if source == CONTROL else "bundled demo title (or a path)")
        demo = self.query_one("#trace", Select).value == DEMO_TRACE
        if source == SIMULATED:
            hint = "Simulated: the trace is the link; speed: session seconds per second."
        else:  # at most two lines, so the form fits 80x24
            shaped = "unshaped (demo trace: not a file)" if demo else "shaped at the edge by the trace"
            speed = "speed blank: the stub's" if source == CONTROL else "speed: the stub's (blank: 1)"
            hint = f"HTTP, {shaped}; {speed}"
            if source == CONTROL and self.control is not None:
                hint += f"\nthrough the control plane at {self.control[0]}"
        self.query_one("#hint", Static).update(Text(hint))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
            return
        self.submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submit()

    def _speed(self, required: bool) -> float | None:
        """The speed field: a positive number (blank is None when not ``required``)."""
        text = self.query_one("#speed", Input).value.strip()
        if not text and not required:
            return None
        try:
            speed = float(text)
        except ValueError:
            raise ValueError("speed must be a positive number") from None
        if not speed > 0:
            raise ValueError("speed must be a positive number")
        return speed

    def submit(self) -> None:
        from dataclasses import replace

        from player.tui.http_source import HttpSpec

        source = self.source
        try:
            speed = self._speed(required=source == SIMULATED)
        except ValueError as e:
            self.notify(str(e), severity="error")
            return
        text = self.query_one("#title", Input).value.strip() or None
        trace = str(self.query_one("#trace", Select).value)
        compare = self.query_one("#compare", Select).value or None
        common = dict(abr=str(self.query_one("#abr", Select).value) or None, compare=compare,
                      mode=str(self.query_one("#mode", Select).value), pick=False)
        if source == SIMULATED:
            self.dismiss(replace(self.options, trace=trace, title=text, speed=speed, http=None, **common))
            return
        url = self.query_one("#url", Input).value.strip()
        if source == URL and not url:
            self.notify("enter the manifest URL (http:// or https://)", severity="error")
            return
        if source == CONTROL and text is None:
            self.notify("enter the title's name at the control plane", severity="error")
            return
        o = self.options
        control, api_key = self.control if source == CONTROL and self.control is not None else (None, None)
        http = HttpSpec(url=url if source == URL else None, title=text if source == CONTROL else None,
                        control=control, api_key=api_key, trace=None if trace == DEMO_TRACE else trace,
                        manifest=o.http.manifest if o.http is not None else "dash", speed=speed)
        problem = http.problem(compare=compare is not None)
        if problem is not None:
            self.notify(problem, severity="error", timeout=8)
            return
        if http.trace is None:
            self.notify(f"{NOT_SHAPED} (choose a trace file to shape it)", timeout=4)
        # The simulated choices stay as they were, for the next time the form opens.
        self.dismiss(replace(o, speed=speed or o.speed, http=http, **common))

    def action_cancel(self) -> None:
        self.dismiss(None)
