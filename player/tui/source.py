"""Where a live session comes from: what the TUI reads and steers.

A source owns one session and the driver feeding it. The TUI calls ``advance_to(t)``
with the pacer's session time each frame, then reads ``take_events()`` (the typed
events new since the last call), ``status()`` (playback at that instant, as the session
core projects it) and ``estimate_bps()``; it steers with ``set_abr`` and
``inject_drop`` (unless ``drop_unavailable()`` says why not). :class:`SimSource` runs
the simulated driver in steps; :class:`player.tui.http_source.HttpSource` has the same
face with the HTTP driver and its scaled clock behind it (and, being on a network, may
fail: ``problem()``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from abr.registry import create
from player.config import mode_config
from player.defaults import default_content, default_traces
from player.link import DropLink, make_link
from player.presentation import Title, load_title
from player.session import Session, Status
from player.sim import Stepper
from qoe.events import Event
from traces.formats import iter_trace_files, load_trace
from traces.model import Provenance, Trace, TraceError

DEMO_TRACE = "generated:demo"


class SessionSource(Protocol):
    kind: str
    label: str
    abr_spec: str
    session: Session

    @property
    def done(self) -> bool: ...

    @property
    def started(self) -> bool: ...

    def problem(self) -> str | None:
        """Why the session failed (one line), or None."""

    def drop_unavailable(self) -> str | None:
        """Why the bandwidth-drop key cannot act on this session (one line), or None."""

    async def aclose(self) -> None:
        """Stop and release what the session holds (the screen is going away)."""

    def advance_to(self, t_s: float) -> None: ...

    def status(self) -> Status: ...

    def take_events(self) -> list[Event]: ...

    def estimate_bps(self) -> float | None: ...

    def set_abr(self, spec: str) -> None: ...

    def inject_drop(self, factor: float, duration_s: float) -> None: ...

    def drops(self) -> list[tuple[float, float, float]]: ...

    def end_s(self) -> float | None: ...


@dataclass(frozen=True)
class SimSpec:
    """What to simulate. ``trace``/``title`` None mean the bundled defaults;
    ``trace`` may be :data:`DEMO_TRACE` for the generated demo trace."""

    trace: str | None = None
    title: str | None = None
    abr: str = "bba"
    mode: str = "default"
    settings: dict[str, Any] = field(default_factory=dict)


def bundled_traces() -> list[Path]:
    """The bundled trace files (empty until the bundled set is installed)."""
    d = default_traces()
    if not d.is_dir():
        return []
    try:
        return iter_trace_files(d)
    except TraceError:
        return []


def demo_trace(seed: int = 7, duration_s: float = 600.0) -> Trace:
    """A generated stand-in when no bundled trace is installed: a 1 s-step random walk
    in log-capacity around 2.5 Mbps with occasional deep fades (so the demo shows
    switches and a stall or two), 40 ms latency. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    n = int(duration_s)
    x = np.empty(n)
    x[0] = 0.0
    for i in range(1, n):
        x[i] = 0.9 * x[i - 1] + 0.25 * rng.standard_normal()
    rates = 2.5e6 * np.exp(x)
    fades = rng.random(n) < 0.02
    for i in np.flatnonzero(fades):
        rates[i : i + 6] *= 0.15
    rates = np.clip(rates, 0.1e6, 12e6)
    return Trace(
        durations_s=np.ones(n),
        rates_bps=np.round(rates),
        latencies_s=np.full(n, 0.04),
        name="demo",
        provenance=Provenance("generator", "player.tui.source.demo_trace", params={"seed": seed, "duration_s": duration_s}),
    )


def resolve_trace(trace: str | None) -> Trace:
    if trace is None:
        files = bundled_traces()
        return load_trace(files[0]) if files else demo_trace()
    if trace == DEMO_TRACE:
        return demo_trace()
    p = Path(trace)
    if p.is_dir():
        return load_trace(iter_trace_files(p)[0])
    return load_trace(p)


MANIFEST_SUFFIXES = (".mpd", ".m3u8", ".m3u")


def resolve_title(title: str | None) -> Title:
    """The bundled demo title, a title JSON, or a DASH/HLS manifest (by its suffix)."""
    if title is None:
        return load_title(default_content())
    if Path(title).suffix.lower() in MANIFEST_SUFFIXES:
        return _manifest_title(title)
    return load_title(title)


def _manifest_title(path: str) -> Title:
    from concurrent.futures import ThreadPoolExecutor

    from player.manifest import to_title as manifest_to_title
    from player.manifest.load import load_manifest
    from player.manifest.resolve import resolve_manifest

    m = load_manifest(path)
    # Sub-resources (HLS media playlists, sidx) are fetched with asyncio.run, which
    # cannot nest in the TUI's running loop: resolve on a short-lived thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(resolve_manifest, m).result()
    return manifest_to_title(m)


class SimSource:
    """A simulated session stepped to the pacer's time, on a link that can take drops."""

    kind = "simulated"

    def __init__(self, title: Title, trace: Trace, abr: str, mode: str = "default", settings: dict[str, Any] | None = None) -> None:
        self.title = title
        self.trace = trace
        self.mode = mode
        self.config = mode_config(mode, **(settings or {}))
        self.abr_spec = abr
        algo = create(abr, mode=mode)
        # A manifest with audio plays it on a second pipeline, with the same algorithm.
        audio = create(abr, mode=mode) if title.audio is not None else None
        self.session = Session(
            title, algo, self.config, audio_abr=audio, trace_name=trace.name,
            session_id=f"tui-{trace.sha256[:8]}-{abr.replace(':', '-').replace(',', '-')}",
        )
        link_mode = mode if mode in ("pensieve", "sabre") else "default"
        # The stepper may swap in a re-planned copy of the link (a drop during a
        # transfer), so the link is always reached through it.
        self.stepper = Stepper(self.session, DropLink(make_link(link_mode, trace)))
        self._seen = 0

    @classmethod
    def from_spec(cls, spec: SimSpec, abr: str | None = None) -> "SimSource":
        return cls(resolve_title(spec.title), resolve_trace(spec.trace), abr or spec.abr, spec.mode, spec.settings)

    @property
    def label(self) -> str:
        return self.abr_spec

    @property
    def done(self) -> bool:
        return self.stepper.done

    @property
    def supports_drops(self) -> bool:
        return self.stepper.link.supports_drops  # type: ignore[attr-defined]

    started = True  # a simulated session starts with its stepper

    def problem(self) -> str | None:
        return None  # an algorithm's bug surfaces from advance_to

    def drop_unavailable(self) -> str | None:
        return None if self.supports_drops else "this link model cannot take a bandwidth drop (Pensieve mode)"

    async def aclose(self) -> None:
        pass

    def advance_to(self, t_s: float) -> None:
        self.stepper.advance_to(t_s)

    def status(self) -> Status:
        return self.stepper.status()

    def take_events(self) -> list[Event]:
        rows = self.session.log.rows
        new = rows[self._seen :]
        self._seen = len(rows)
        return [r[0](*r[1:]) for r in new]

    def estimate_bps(self) -> float | None:
        return self.session.video.ctx.throughput_bps

    def set_abr(self, spec: str) -> None:
        self.stepper.set_abr(create(spec, mode=self.mode))
        self.abr_spec = spec

    def inject_drop(self, factor: float, duration_s: float) -> None:
        self.stepper.inject_drop(factor, duration_s)

    def drops(self) -> list[tuple[float, float, float]]:
        return list(self.stepper.link.windows)  # type: ignore[attr-defined]

    def end_s(self) -> float | None:
        return self.stepper.end_s


def write_events(session: Session, path: str | os.PathLike[str]) -> int:
    """The session's events so far as JSON Lines (``Event.to_dict()``); returns the count.
    Written beside ``path`` and renamed into place, so a failed write keeps an earlier
    file (raises :class:`player.output_file.OutputError`)."""
    from player.output_file import atomic_open

    n = 0
    with atomic_open(path, "w") as f:
        for ev in session.log:
            f.write(json.dumps(ev.to_dict(), default=str) + "\n")
            n += 1
    return n


def load_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "bad input" (shown as one line on the error screen)."""
    from abr.base import AbrError
    from player.config import ConfigError
    from player.presentation import ContentError

    errs: list[type[BaseException]] = [TraceError, ContentError, AbrError, ConfigError]
    try:
        from player.manifest.errors import ManifestError  # type: ignore[import-not-found]

        errs.append(ManifestError)
    except ImportError:
        pass
    return tuple(errs)
