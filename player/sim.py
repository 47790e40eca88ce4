"""The simulated driver: a discrete-event loop over a trace-driven link.

No asyncio, no sockets, no clock: time is whatever the link model says transfers take.
This is what batch replays, benchmarks and notebooks run.
"""

from __future__ import annotations

import copy
from typing import Any

from player.config import SessionConfig, mode_config
from player.link import Link, make_link
from player.presentation import Title
from player.session import FetchSegment, Session, Status, Wait
from traces.model import Trace

# Sabre's NetworkModel checks abandonment every 50 ms of progress (min_progress_time).
PROGRESS_STEP_S = 0.05


def drive(session: Session, link: Link, start_s: float = 0.0, progress_step_s: float = PROGRESS_STEP_S) -> float:
    """Run ``session`` to the end over ``link``; returns the session clock at the end."""
    now = start_s
    session.start(now)
    next_action = session.next_action
    loaded = session.segment_loaded
    download = link.download
    idle = link.idle
    abandonable = session.config.abandonment and any(
        getattr(p.abr, "should_abandon", None) is not None for p in session.pipelines
    )
    while True:
        a = next_action(now)
        kind = type(a)
        if kind is FetchSegment:
            if abandonable and hasattr(link, "transfer"):
                now = _download_with_abandonment(session, link, a, now, progress_step_s)  # type: ignore[arg-type]
                continue
            ttfb, transfer = download(a.size_bytes)  # type: ignore[attr-defined]
            now = now + ttfb + transfer
            loaded(now, a, a.size_bytes, ttfb, transfer)  # type: ignore[arg-type]
        elif kind is Wait:
            dt = a.until_s - now  # type: ignore[attr-defined]
            if dt > 0:
                idle(dt)
                now = a.until_s  # type: ignore[attr-defined]
        else:
            return max(now, session.now_s)


def _download_with_abandonment(session: Session, link: Any, req: FetchSegment, now: float, step: float) -> float:
    ttfb = link.latency() if hasattr(link, "latency") else 0.0
    now += ttfb
    remaining = float(req.size_bytes)
    got = 0.0
    spent = 0.0
    while True:
        sent, dt = link.transfer(remaining, step)
        got += sent
        remaining -= sent
        spent += dt
        now += dt
        if remaining <= 1e-6:
            session.segment_loaded(now, req, req.size_bytes, ttfb, spent)
            return now
        to = session.check_abandon(now, req, int(got), ttfb)
        if to is not None:
            session.segment_abandoned(now, req, int(got), to)
            return now


class Stepper:
    """The simulated driver, steppable: advance a session to a target session time.

    ``drive()`` runs a session to the end in one loop; a live view (the TUI) needs it in
    steps paced by a wall clock. The stepper makes exactly the calls ``drive()`` makes,
    in the same order and with the same arguments (so stepping to the end leaves the
    session as ``simulate()`` does, bit for bit), but holds each one until the target
    time reaches it. The link answers at request time, as in ``drive()``, so the next
    core call is always known: ``next_event_s``. Between calls, :meth:`status` projects
    playback without touching the core.

    When the link is a :class:`player.link.DropLink`, :meth:`inject_drop` starts a
    bandwidth drop at the current time; a transfer already in flight is re-planned from
    a copy of the link taken when it started, so the drop bites at once.
    """

    def __init__(self, session: Session, link: Link, start_s: float = 0.0, progress_step_s: float = PROGRESS_STEP_S) -> None:
        self.session = session
        self.link = link
        self.progress_step_s = progress_step_s
        self.clock_s = start_s  # the target reached so far
        self._now = start_s  # the time of the last call into the core
        self._snap = hasattr(link, "add_drop")
        # The one pending step: (time, kind, request, before-link, extra). ``kind`` is
        # "load" (a whole download), "chunk" (one progress step of a download checked
        # for abandonment) or "wait".
        self._pending: tuple[float, str, Any, Any, Any] | None = None
        self._fetch: list[float] = []  # chunked download: [ttfb, remaining, got, spent]
        self.end_s: float | None = None
        session.start(start_s)
        self._plan()

    @property
    def done(self) -> bool:
        return self._pending is None

    @property
    def next_event_s(self) -> float | None:
        return None if self._pending is None else self._pending[0]

    def status(self) -> Status:
        return self.session.status_at(self.clock_s)

    def advance_to(self, t_s: float) -> None:
        """Make every core call due at or before ``t_s``; the clock is then ``t_s``."""
        while self._pending is not None and self._pending[0] <= t_s:
            self._step()
        if t_s > self.clock_s:
            self.clock_s = t_s

    def run_to_end(self) -> float:
        while self._pending is not None:
            self._step()
        self.clock_s = max(self.clock_s, self.end_s or 0.0)
        return self.end_s  # type: ignore[return-value]

    # ------------------------------------------------------------------ drive(), in steps
    def _abandonable(self) -> bool:
        s = self.session
        return s.config.abandonment and hasattr(self.link, "transfer") and any(
            getattr(p.abr, "should_abandon", None) is not None for p in s.pipelines
        )

    def _plan(self) -> None:
        now = self._now
        a = self.session.next_action(now)
        kind = type(a)
        if kind is FetchSegment:
            link = self.link
            if self._abandonable():
                ttfb = link.latency() if hasattr(link, "latency") else 0.0  # type: ignore[attr-defined]
                self._now = now + ttfb
                self._fetch = [ttfb, float(a.size_bytes), 0.0, 0.0]  # type: ignore[attr-defined]
                self._plan_chunk(a)
                return
            before = copy.copy(link) if self._snap else None
            ttfb, transfer = link.download(a.size_bytes)  # type: ignore[attr-defined]
            self._pending = (now + ttfb + transfer, "load", a, before, (now, ttfb, transfer))
        elif kind is Wait:
            dt = a.until_s - now  # type: ignore[attr-defined]
            if dt > 0:
                self.link.idle(dt)
                self._pending = (a.until_s, "wait", None, None, None)  # type: ignore[attr-defined]
            else:
                self._pending = (now, "wait", None, None, None)
        else:
            self._pending = None
            self.end_s = max(now, self.session.now_s)

    def _plan_chunk(self, req: FetchSegment) -> None:
        before = copy.copy(self.link) if self._snap else None
        sent, dt = self.link.transfer(self._fetch[1], self.progress_step_s)  # type: ignore[attr-defined]
        self._pending = (self._now + dt, "chunk", req, before, (sent, dt, self._now))

    def _step(self) -> None:
        t, kind, req, _, extra = self._pending  # type: ignore[misc]
        s = self.session
        if kind == "load":
            _, ttfb, transfer = extra
            self._now = t
            s.segment_loaded(t, req, req.size_bytes, ttfb, transfer)
        elif kind == "wait":
            self._now = t
        else:  # one progress step of a download, as _download_with_abandonment
            sent, dt, _ = extra
            f = self._fetch
            f[2] += sent
            f[1] -= sent
            f[3] += dt
            self._now = t
            if f[1] <= 1e-6:
                s.segment_loaded(t, req, req.size_bytes, f[0], f[3])
            else:
                to = s.check_abandon(t, req, int(f[2]), f[0])
                if to is None:
                    self._plan_chunk(req)
                    return
                s.segment_abandoned(t, req, int(f[2]), to)
        self._plan()

    # ------------------------------------------------------------------ steering
    def set_abr(self, abr: Any, media: str = "video") -> None:
        """Switch algorithm from the next decision on (see :meth:`Session.set_abr`),
        logged at the stepper's clock."""
        self.session.set_abr(media, abr, now=self.clock_s)

    def inject_drop(self, factor: float, duration_s: float) -> None:
        """Scale the link's capacity by ``factor`` from now for ``duration_s``."""
        if not self._snap:
            raise ValueError("this link cannot model bandwidth drops (wrap it in DropLink)")
        start = self.clock_s
        p = self._pending
        if p is not None and p[1] in ("load", "chunk") and p[0] > start and p[3] is not None:
            # Re-plan the transfer in flight from the link as it was when it started.
            _, kind, req, before, extra = p
            before.add_drop(start, duration_s, factor)
            self.link = before
            if kind == "load":
                t_req = extra[0]
                again = copy.copy(before)
                ttfb, transfer = before.download(req.size_bytes)
                self._pending = (t_req + ttfb + transfer, "load", req, again, (t_req, ttfb, transfer))
            else:
                self._now = extra[2]
                self._plan_chunk(req)
            return
        self.link.add_drop(start, duration_s, factor)  # type: ignore[attr-defined]


def make_session(
    title: Title,
    abr: Any,
    mode: str = "default",
    config: SessionConfig | None = None,
    *,
    trace_name: str | None = None,
    keep_events: bool = True,
    session_id: str | None = None,
    audio_abr: Any = None,
) -> Session:
    cfg = config or mode_config(mode)
    return Session(title, abr, cfg, audio_abr=audio_abr, trace_name=trace_name, keep_events=keep_events, session_id=session_id)


def simulate(
    title: Title,
    trace: Trace,
    abr: Any,
    mode: str = "default",
    config: SessionConfig | None = None,
    *,
    keep_events: bool = True,
    session_id: str | None = None,
    audio_abr: Any = None,
) -> Session:
    """Play ``title`` over ``trace`` with ``abr`` in ``mode`` (``audio_abr`` for the audio
    track of a title that has one); returns the finished session."""
    cfg = config or mode_config(mode)
    session = Session(
        title, abr, cfg, audio_abr=audio_abr, trace_name=trace.name, keep_events=keep_events,
        session_id=session_id or f"sim-{trace.sha256[:8]}",
    )
    link = make_link(cfg.mode if cfg.mode in ("pensieve", "sabre") else "default", trace)
    drive(session, link)
    return session
