"""The simulated driver: a discrete-event loop over a trace-driven link.

No asyncio, no sockets, no clock: time is whatever the link model says transfers take.
This is what batch replays, benchmarks and notebooks run.
"""

from __future__ import annotations

from typing import Any

from player.config import SessionConfig, mode_config
from player.link import Link, make_link
from player.presentation import Title
from player.session import FetchSegment, Session, Wait
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
