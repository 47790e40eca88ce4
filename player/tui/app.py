"""``abrlab tui``: a live player session you watch and steer (Textual).

The app only routes: it builds sources from :class:`TuiOptions` (or the start form),
shows them on a :class:`SessionScreen`, and shows an :class:`ErrorScreen` with the
one-line message when a trace, title, manifest or ABR spec is bad. An HTTP session
(``options.http``) is opened by a worker in the app's own event loop, behind a
:class:`ConnectingScreen`, and then plays there as a task (``player.tui.http_source``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen

from player.tui.http_source import DEFAULT_ABR, HttpSpec, http_errors, one_line, open_http_sources
from player.tui.pacer import LivePacer, Pacer
from player.tui.screens import ConnectingScreen, ErrorScreen, SessionScreen, StartScreen, abr_names
from player.tui.source import SessionSource, SimSource, load_errors, resolve_title, resolve_trace


@dataclass(frozen=True)
class TuiOptions:
    """What to play. ``http`` set means an HTTP session (then ``trace``, ``title`` and
    ``speed`` are unused: the trace, source and speed are in ``http``); ``abr`` None is
    the default (BBA, or the control plane's recommendation through ``--title``).
    ``control``/``api_key``: a control plane the start form may play titles through
    (``--control``/``--api-key``), whether or not this session uses it."""

    trace: str | None = None
    title: str | None = None
    abr: str | None = DEFAULT_ABR
    compare: str | None = None
    mode: str = "default"
    settings: dict[str, Any] = field(default_factory=dict)
    speed: float = 1.0
    paused: bool = False
    pick: bool = False
    out_dir: str = "."
    drop_factor: float = 0.25
    drop_s: float = 20.0
    http: HttpSpec | None = None
    control: str | None = None
    api_key: str | None = None


def build_sources(o: TuiOptions) -> list[SessionSource]:
    """The simulated sources ``o`` describes (raises the loaders' own errors on bad input)."""
    title = resolve_title(o.title)
    trace = resolve_trace(o.trace)
    out: list[SessionSource] = [SimSource(title, trace, o.abr or DEFAULT_ABR, o.mode, o.settings)]
    if o.compare:
        out.append(SimSource(title, trace, o.compare, o.mode, o.settings))
    return out


class AbrlabTui(App):
    TITLE = "abrlab"

    def __init__(self, options: TuiOptions | None = None, *, clock: Callable[[], float] = time.monotonic, refresh_hz: float = 10.0) -> None:
        super().__init__()
        self.options = options or TuiOptions()
        self.clock = clock
        self.refresh_hz = refresh_hz

    def on_mount(self) -> None:
        if self.options.pick:
            self.action_new_session()
        else:
            self.start(self.options)

    # ------------------------------------------------------------------ routing
    def _show(self, screen: Screen) -> None:
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def start(self, options: TuiOptions) -> None:
        self.options = options
        if options.http is not None:
            self._show(ConnectingScreen(options.http.describe()))
            self.run_worker(self._start_http(options), group="start", exclusive=True, exit_on_error=False)
            return
        try:
            sources = build_sources(options)
        except load_errors() as e:  # type: ignore[misc]
            self.show_error(str(e))
            return
        except Exception as e:  # a bug, not bad input: still no traceback on screen
            self.show_error(f"cannot start the session: {type(e).__name__}: {e}")
            return
        pacer = Pacer(self.clock, speed=options.speed, paused=options.paused)
        self._show(SessionScreen(sources, pacer, out_dir=Path(options.out_dir), drop=(options.drop_factor, options.drop_s), refresh_hz=self.refresh_hz))

    async def _start_http(self, options: TuiOptions) -> None:
        assert options.http is not None
        abrs = [options.abr] + ([options.compare] if options.compare else [])
        try:
            sources = await open_http_sources(options.http, abrs, options.mode, options.settings)
        except load_errors() + http_errors() as e:  # type: ignore[misc]
            self.show_error(one_line(e))
            return
        except Exception as e:  # a bug, not bad input: still no traceback on screen
            self.show_error(f"cannot start the session: {type(e).__name__}: {one_line(e)}")
            return
        # Every session runs on its own clock; the display follows the first one's.
        pacer = LivePacer(sources[0].live_now, sources[0].speed, paused=options.paused)
        self._show(SessionScreen(sources, pacer, out_dir=Path(options.out_dir), drop=(options.drop_factor, options.drop_s), refresh_hz=self.refresh_hz))
        for s in sources:
            s.start()

    def show_error(self, message: str) -> None:
        self._show(ErrorScreen(message))

    @property
    def session_screen(self) -> SessionScreen | None:
        for s in reversed(self.screen_stack):
            if isinstance(s, SessionScreen):
                return s
        return None

    def action_new_session(self) -> None:
        def chosen(options: TuiOptions | None) -> None:
            if options is not None:
                self.start(options)
            elif len(self.screen_stack) <= 1:
                self.exit()

        self.push_screen(StartScreen(self.options), chosen)

    # ------------------------------------------------------------------ command palette
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, SessionScreen):
            for i, _ in enumerate(screen.sources):
                side = "" if len(screen.sources) == 1 else (" (left)" if i == 0 else " (right)")
                for name in abr_names():
                    yield SystemCommand(
                        f"ABR{side}: switch to {name}",
                        f"Hand the next decisions to {name}",
                        lambda i=i, name=name: screen.switch_abr(i, name),
                    )
        yield SystemCommand("New session", "Choose the source (simulated or HTTP), trace, title, ABR, mode and speed", self.action_new_session)


def run(options: TuiOptions) -> None:
    AbrlabTui(options).run()
