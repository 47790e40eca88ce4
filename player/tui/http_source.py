"""An HTTP session as a TUI source: the HTTP driver (``player.http``) running as a task
in Textual's own event loop, over the same session core, with the same events, as a
simulated session.

What differs from :class:`~player.tui.source.SimSource` is who owns time. A simulated
session is stepped to the pacer's time; an HTTP session runs on its driver's clock
(``ScaledClock``: the wall clock times the stub's ``--speed``), because the network does
not wait: the edge shapes by the trace on the wall clock too. So a frame *samples* the
session (its events so far and its status at that instant), and:

- pause freezes the display, not the session: frames stop sampling, the session keeps
  streaming, and resuming catches up with all that happened meanwhile. (A player's own
  pause would need the edge's trace to stop with it, which a network cannot do.)
- speed is the stub's and fixed; there is no stepping (:class:`~player.tui.pacer.LivePacer`).
- the bandwidth-drop key changes the trace the edge shapes this session by: a copy with
  the capacity scaled by the drop factor over the drop's window of session time, the
  window of the simulator's ``DropLink`` (``player.link``). The driver registers it with
  each edge before its next request there (:meth:`HttpDriver.reshape`); a transfer
  already under way finishes at the rate it had. The edge's fault API has no rate
  limit (only an added first-byte delay for every session on the edge, behind the admin
  key), so it is not what a bandwidth drop asks for. Without ``--trace`` the session is
  not shaped and the key says so.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from abr.registry import create
from player.config import mode_config
from player.http.driver import PlayError
from player.http.edges import stub_base
from player.http.play import MANIFEST_KINDS, PlayResult, prepare_title, prepare_url
from player.session import IDLE, Session, Status
from qoe.events import Error, Event
from traces.formats import load_trace
from traces.model import Provenance, Trace, TraceError

DEFAULT_ABR = "bba"  # as the simulated TUI session; --title defaults to the control plane's
# A drop is registered as a whole trace (Sabre JSON, ~70 bytes an entry); edges take
# bodies up to 1 MiB by default (server_stub.edge.EdgeConfig.max_body_bytes).
MAX_DROP_ENTRIES = 10_000
DROP_HORIZON_S = 3600.0  # session seconds after a drop before it could come round again


@dataclass(frozen=True)
class HttpSpec:
    """Where an HTTP session comes from: a manifest URL (``url``), or a title through the
    control plane (``title`` with ``control`` and ``api_key``). ``trace`` is a trace
    file the edge shapes the session by; ``speed`` None means the stub's (through the
    control plane) or 1."""

    url: str | None = None
    title: str | None = None
    control: str | None = None
    api_key: str | None = None
    trace: str | None = None
    manifest: str = "dash"
    speed: float | None = None

    def problem(self, compare: bool = False) -> str | None:
        """What is wrong with this spec (one line), or None."""
        if (self.url is None) == (self.title is None):
            return "give a manifest URL (--url) or a title through the control plane (--title), not both"
        if self.title is not None and (not self.control or not self.api_key):
            return "--title needs --control URL and --api-key KEY (or ABRLAB_CONTROL / ABRLAB_API_KEY)"
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            return f"{self.url}: not an http(s) URL (a local manifest plays in simulation: --content FILE)"
        if self.manifest not in MANIFEST_KINDS:
            return f"--manifest must be one of {', '.join(MANIFEST_KINDS)}"
        if self.speed is not None and not self.speed > 0:
            return "--speed must be positive"
        if compare and self.url is not None and self.trace is not None and stub_base(self.url) is not None:
            # One signed URL is one session id to the edge: both sessions would drain
            # one shaped link. Through the control plane each gets its own playback.
            return "compare with --url and --trace would shape both sessions on one link (one token): use --title"
        return None

    def describe(self) -> str:
        where = self.url if self.url is not None else f"{self.title} via {self.control}"
        return where + (f", shaped by {self.trace}" if self.trace else "")


def one_line(e: BaseException | str) -> str:
    """A message for the error screen or a notification: one line, never empty."""
    text = " ".join(str(e).split())
    return text or (type(e).__name__ if isinstance(e, BaseException) else "error")


def http_errors() -> tuple[type[BaseException], ...]:
    """What opening an HTTP session raises for a bad URL, server, manifest or trace."""
    return (PlayError, TraceError)


async def open_http_sources(spec: HttpSpec, abrs: list[str | None], mode: str = "default", settings: dict[str, Any] | None = None) -> list["HttpSource"]:
    """One HTTP session per ABR spec (two in compare mode), loaded and ready to start."""
    problem = spec.problem(compare=len(abrs) > 1)
    if problem is not None:
        raise PlayError(problem)
    trace = load_trace(spec.trace) if spec.trace is not None else None
    out: list[HttpSource] = []
    try:
        for abr in abrs:
            out.append(await HttpSource.open(spec, abr, mode, settings or {}, trace))
    except BaseException:
        for s in out:
            await s.aclose()
        raise
    return out


class HttpSource:
    """One HTTP session, sampled by the TUI's frames (see the module doc)."""

    def __init__(self, res: PlayResult, abr_spec: str, mode: str) -> None:
        self.result = res
        self.driver = res.driver
        self.session: Session = res.session
        self.mode = mode
        self.abr_spec = abr_spec
        self.windows: list[tuple[float, float, float]] = []
        self._task: asyncio.Task[Any] | None = None
        self._problem: str | None = None
        self._seen = 0  # events handed out so far
        self._upto = 0  # events up to the last sample
        self._shown_at: float | None = None  # pacer time of the last sample
        self.sampled_s = 0.0  # session time of the last sample
        self._status = self.session.status_at(0.0)
        self._estimate: float | None = None

    @classmethod
    async def open(cls, spec: HttpSpec, abr: str | None, mode: str, settings: dict[str, Any], trace: Trace | None) -> "HttpSource":
        config = mode_config(mode, **settings)
        if spec.title is not None:
            res = await prepare_title(spec.control, spec.api_key, spec.title, abr, manifest=spec.manifest,  # type: ignore[arg-type]
                                      trace=trace, speed=spec.speed, mode=mode, config=config)
            used = abr if abr is not None else (res.playback or {}).get("abr", {}).get("spec", "bola")
        else:
            used = abr or DEFAULT_ABR
            res = await prepare_url(spec.url, used, trace=trace, speed=spec.speed or 1.0, mode=mode, config=config)  # type: ignore[arg-type]
        return cls(res, used, mode)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Play the session as a task of the running loop (Textual's)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.driver.run(self.session))
            self._task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            if self.session.end_reason == "error":
                # Ended by a fatal error the driver reported to the core without raising
                # (every edge's breaker open, say): the core's own error event says it.
                fatal = [e for e in self.session.log.of_type(Error) if e.fatal]
                self._problem = f"session ended: {fatal[-1].kind}: {one_line(fatal[-1].message)}" if fatal else "session ended with an error"
            return
        # PlayError: the driver has already ended the session with an error event. A bug
        # (anything else) still ends the session, and the TUI shows one line.
        self._problem = one_line(exc) if isinstance(exc, PlayError) else f"session error: {type(exc).__name__}: {one_line(exc)}"
        if self.started and not self.session.done:
            self.session.abort(self.live_now(), "error")

    async def aclose(self) -> None:
        """Stop playing (the user left the screen or quit) and release the connections."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except BaseException:  # noqa: BLE001 - cancelled, or failed while stopping
                pass
        if self.started and not self.session.done:
            self.session.abort(self.live_now(), "quit")
        await self.driver.close()

    # ------------------------------------------------------------------ what the TUI reads
    def warnings(self) -> list[str]:
        """What the manifest parser tolerated, and live clock-sync fallbacks."""
        return self.result.warnings()

    @property
    def started(self) -> bool:
        return self.session.state != IDLE

    @property
    def done(self) -> bool:
        return self.session.done

    @property
    def speed(self) -> float:
        return self.driver.clock.speed

    @property
    def label(self) -> str:
        return self.abr_spec

    @property
    def kind(self) -> str:
        """``http`` and the edge serving the session now (it changes on failover)."""
        e = self.driver.edges
        return f"http {e.endpoints[e.current].name}"

    def live_now(self) -> float:
        """The session's time now (0 until its clock starts; its end once it ended)."""
        if self.session.done:
            return self.session.now_s
        return max(0.0, self.driver.clock.now(), self.session.now_s if self.started else 0.0)

    def problem(self) -> str | None:
        return self._problem

    def advance_to(self, t_s: float) -> None:
        """Sample the session now, unless the display time has not moved (paused)."""
        if self._shown_at is not None and t_s <= self._shown_at:
            return
        self._shown_at = t_s
        now = self.sampled_s = self.live_now()
        self._status = self.session.status_at(now)
        self._upto = len(self.session.log.rows)
        self._estimate = self.session.video.ctx.throughput_bps

    def status(self) -> Status:
        return self._status

    def take_events(self) -> list[Event]:
        rows = self.session.log.rows
        new = rows[self._seen : self._upto]
        self._seen = self._upto
        return [r[0](*r[1:]) for r in new]

    def estimate_bps(self) -> float | None:
        return self._estimate

    def end_s(self) -> float | None:
        return self.session.now_s if self.session.done else None

    # ------------------------------------------------------------------ steering
    def set_abr(self, spec: str) -> None:
        self.session.set_abr("video", create(spec, mode=self.mode), now=self.driver.clock.now())
        self.abr_spec = spec

    def drop_unavailable(self) -> str | None:
        if self.driver.trace is None:
            return "this HTTP session is not shaped: start it with --trace FILE to have the edge shape it, and d drops that trace's capacity"
        return None

    def inject_drop(self, factor: float, duration_s: float) -> None:
        """Scale the session's capacity at the edge by ``factor`` from now for
        ``duration_s`` session seconds (from the next request on)."""
        trace = self.driver.trace
        if trace is None:
            raise PlayError(self.drop_unavailable() or "no trace")
        t0 = self.live_now()
        horizon = DROP_HORIZON_S + 2.0 * self.session.title.video.duration_s
        self.driver.reshape(trace_with_drop(trace, t0, duration_s, factor, horizon))
        self.windows.append((t0, t0 + duration_s, factor))
        self.windows.sort()

    def drops(self) -> list[tuple[float, float, float]]:
        return list(self.windows)


def trace_with_drop(trace: Trace, start_s: float, duration_s: float, factor: float, horizon_s: float = DROP_HORIZON_S,
                    max_entries: int = MAX_DROP_ENTRIES) -> Trace:
    """``trace`` with its capacity times ``factor`` over [start_s, start_s + duration_s)
    of its (looping) time; latency unchanged, as ``player.link.DropLink`` does.

    A trace loops, a drop must not: the result is ``trace`` unrolled over whole passes,
    enough to reach ``horizon_s`` past the drop (so when the result loops it is back in
    phase with the original, and the drop comes round again only that much later).
    Raises :class:`TraceError` when that takes more than ``max_entries`` entries (a
    registration body too large for an edge)."""
    if not duration_s > 0 or not 0.0 <= factor < 1.0 or start_s < 0:
        raise ValueError("a drop needs start >= 0, a positive duration and a factor in [0, 1)")
    end_s = start_s + duration_s
    period = trace.duration_s
    passes = max(1, math.ceil((end_s + horizon_s) / period))
    need = passes * trace.n_entries + 2
    if need > max_entries:
        passes = (max_entries - 2) // trace.n_entries
        if passes * period < end_s:
            raise TraceError(
                f"a drop at {start_s:.0f} s needs {need} trace entries to register with the edge (limit {max_entries}): "
                "this trace is too fine-grained for a drop this late", trace.provenance.source)
    durations = np.tile(trace.durations_s, passes)
    rates = np.tile(trace.rates_bps, passes)
    lats = np.tile(trace.latencies_s, passes)
    ends = np.cumsum(durations)
    total = float(ends[-1])
    # Cut the entries at the window's edges, then scale what lies inside it.
    cuts = np.union1d(ends, [c for c in (start_s, end_s) if 0.0 < c < total])
    starts = np.concatenate(([0.0], cuts[:-1]))
    keep = cuts - starts > 1e-9
    cuts, starts = cuts[keep], starts[keep]
    idx = np.minimum(np.searchsorted(ends, starts, side="right"), ends.size - 1)
    new_rates = rates[idx]
    new_rates[(starts >= start_s - 1e-9) & (starts < end_s - 1e-9)] *= factor
    return Trace(
        durations_s=cuts - starts,
        rates_bps=new_rates,
        latencies_s=lats[idx],
        name=trace.name,
        # Built live by a key press, not a derivation traces.from_provenance can redo.
        provenance=Provenance("memory", "tui bandwidth drop", params={"start_s": float(start_s), "duration_s": float(duration_s),
                                                                    "factor": float(factor), "passes": passes}, parent=trace.provenance),
    )
