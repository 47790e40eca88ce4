"""The sans-I/O session core: one state machine that owns playback.

The core never reads a clock, sleeps or opens a socket. A driver (the simulator in
``player.sim``, the HTTP client in ``player.http``) feeds it time and transfer results
and asks it what to do next, h11-style::

    session.start(now)
    while True:
        action = session.next_action(now)
        if isinstance(action, Done): break
        if isinstance(action, Wait): ...idle until action.until_s...
        if isinstance(action, FetchSegment): ...download, then
            session.segment_loaded(now, action, size_bytes, ttfb_s, transfer_s)

It owns, per media pipeline (video, optionally audio): the buffer level, the next
segment, the ABR and its context, the rung history; and for the session: the playhead,
startup and stall state, waits for a full buffer, end of stream and the event log.
Buffer levels are tracked incrementally (``level = max(level - elapsed, 0) + segment``)
because that is exactly the arithmetic of the reference simulators we reproduce.
"""

from __future__ import annotations

import math
import uuid
from bisect import bisect_right
from typing import Any, NamedTuple, Sequence

from abr.base import AbrContext, Decision, Progress, TransferSample
from abr.estimators import DualEwmaEstimator
from player.config import MODES, SessionConfig
from player.presentation import Title, Track
from qoe.events import (
    AbrChanged,
    BufferLevel,
    Error,
    EventLog,
    PlaybackStart,
    QualitySwitch,
    SegmentAbandoned,
    SegmentLoaded,
    SegmentRequested,
    SessionEnd,
    SessionStart,
    StallEnd,
    StallStart,
)
from qoe.metrics import PlaybackRecord

# States of the session (strings, so logs and the TUI can show them as they are).
IDLE = "idle"
STARTUP = "startup"
PLAYING = "playing"
STALLED = "stalled"
ENDED = "ended"

# Float slack when comparing times that were summed in different orders.
_EPS = 1e-9


class SessionError(RuntimeError):
    """The driver called the core out of order (a bug in the driver, not the network)."""


class Action:
    __slots__ = ()


class FetchSegment(Action):
    """Download segment ``index`` of ``media`` at ``rung``.

    ``size_bytes`` is exact when the title knows its sizes, else an estimate; ``attempt``
    counts re-requests of the same segment after an abandonment or error.
    """

    __slots__ = ("media", "index", "rung", "bitrate_bps", "size_bytes", "duration_s", "attempt")

    def __init__(self, media: str, index: int, rung: int, bitrate_bps: int, size_bytes: int, duration_s: float, attempt: int = 0):
        self.media = media
        self.index = index
        self.rung = rung
        self.bitrate_bps = bitrate_bps
        self.size_bytes = size_bytes
        self.duration_s = duration_s
        self.attempt = attempt

    def __repr__(self) -> str:
        return f"FetchSegment({self.media} #{self.index} rung {self.rung}, {self.size_bytes} B)"


class Wait(Action):
    """Idle until ``until_s`` (buffer full, or the ABR asked for a delay)."""

    __slots__ = ("until_s", "reason")

    def __init__(self, until_s: float, reason: str):
        self.until_s = until_s
        self.reason = reason

    def __repr__(self) -> str:
        return f"Wait(until {self.until_s:.3f} s: {self.reason})"


class Done(Action):
    __slots__ = ()

    def __repr__(self) -> str:
        return "Done()"


DONE = Done()


class Status(NamedTuple):
    """Playback at one instant, as :meth:`Session.status_at` projects it."""

    t_s: float
    state: str
    buffer_s: float
    playhead_s: float
    stall_count: int
    rebuffer_s: float  # finished stalls plus the one in progress
    playing_rung: int | None


class _Pipeline:
    """One media type's buffer, ABR and download position."""

    __slots__ = (
        "media", "track", "abr", "ctx", "decide", "on_download", "should_abandon", "on_wait",
        "estimator", "own_estimator", "next_index", "end_index", "level_s", "rungs", "ends",
        "media_end_s", "last_rung", "pending_rung", "inflight", "attempt", "size_rows",
        "durations", "bitrates", "stalls", "request_t",
    )

    def __init__(self, media: str, track: Track, abr: Any, max_buffer_s: float, end_index: int):
        self.media = media
        self.track = track
        self.size_rows = track.size_rows
        self.durations = track.durations
        self.bitrates = track.bitrates_bps
        self.bind(abr)
        self.next_index = 0
        self.end_index = end_index
        self.level_s = 0.0
        self.rungs: list[int] = []  # rung of each loaded segment, in order
        self.stalls: list[float] = []  # stall time charged to each loaded segment
        self.request_t = 0.0
        self.ends: list[float] = []  # media end time of each loaded segment
        self.media_end_s = 0.0
        self.last_rung: int | None = None
        self.pending_rung: int | None = None  # decided, waiting for an ABR delay to pass
        self.inflight: FetchSegment | None = None
        self.attempt = 0
        self.ctx = AbrContext(
            rungs=track.rungs,
            bitrates_bps=track.bitrates_bps,
            size_rows=track.size_rows,
            durations=track.durations,
            max_buffer_s=max_buffer_s,
            media=media,
            sizes_known=track.sizes_known,
            estimate=self.estimate,
        )
        # Where this session stops (may be before the title's end): horizon-based ABRs
        # (MPC) must not plan past it.
        self.ctx.segment_count = end_index

    def bind(self, abr: Any) -> None:
        """Make ``abr`` this pipeline's algorithm; its hooks are looked up once here so
        the per-segment path calls them without attribute lookups."""
        self.abr = abr
        self.decide = abr.decide
        self.on_download = getattr(abr, "on_download", None)
        self.should_abandon = getattr(abr, "should_abandon", None)
        self.on_wait = getattr(abr, "on_wait", None)
        own = getattr(abr, "estimator", None)
        self.own_estimator = own is not None
        self.estimator = own

    def estimate(self) -> float | None:
        est = self.estimator
        if est is None:
            # Made on first use and caught up on past samples, so algorithms that never
            # ask for an estimate never pay for one.
            est = self.estimator = DualEwmaEstimator()
            for s in self.ctx.samples:
                est.add(s)
        return est.estimate_bps()


class _LowestRung:
    """Text tracks have no ABR: always the first (lowest) rung."""

    name = "text"

    def decide(self, ctx: AbrContext) -> int:
        return 0


class Session:
    """One title played with one ABR (per media type) under one configuration.

    Text tracks (``title.text``; ``text_tracks`` picks some by index, ``()`` none) are
    fetched alongside video: a text segment is requested once video has buffered past
    the text downloaded so far. Text never counts toward buffer levels, startup or
    stalls, and its transfers do not feed throughput estimates.
    """

    def __init__(
        self,
        title: Title,
        abr: Any,
        config: SessionConfig | None = None,
        *,
        audio_abr: Any = None,
        text_tracks: Sequence[int] | None = None,
        session_id: str | None = None,
        trace_name: str | None = None,
        keep_events: bool = True,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.title = title
        self.config = cfg = config or MODES["default"]
        self.session_id = session_id or uuid.uuid4().hex[:16]
        self.trace_name = trace_name
        self.meta = meta or {}
        self.log = EventLog(enabled=keep_events)
        self._rows = self.log.rows
        self._keep = keep_events
        n = title.video.n_segments
        end = min(n, cfg.max_segments) if cfg.max_segments else n
        self.video = _Pipeline("video", title.video, abr, cfg.max_buffer_s, end)
        self.pipelines = [self.video]
        if title.audio is not None:
            if audio_abr is None:
                raise SessionError("title has an audio track: pass audio_abr")
            a_end = title.audio.n_segments
            if cfg.max_segments:
                a_end = min(a_end, cfg.max_segments)
            self.pipelines.append(_Pipeline("audio", title.audio, audio_abr, cfg.max_buffer_s, a_end))
        self.text_pipelines: list[_Pipeline] = []
        if title.text:
            texts = title.text if text_tracks is None else tuple(title.text[i] for i in text_tracks)
            self.text_pipelines = [
                _Pipeline("text" if k == 0 else f"text.{k}", tr, _LowestRung(), cfg.max_buffer_s, tr.n_segments)
                for k, tr in enumerate(texts)
            ]
        self._single = len(self.pipelines) == 1 and not self.text_pipelines
        if self.text_pipelines:
            # Only sessions with text pay for the text check (the one-pipeline hot path
            # of batch replays stays as it was).
            self.next_action = self._next_action_with_text  # type: ignore[method-assign]
        self.state = IDLE
        self.t_start = 0.0
        self._t = 0.0
        self.playhead_s = 0.0
        self.startup_s: float | None = None
        self.stall_count = 0
        self.rebuffer_s = 0.0
        self._stall_started: float | None = None
        self._stall_acc = 0.0  # stall time since the last segment load
        self._wait_until: float | None = None
        self._first_ttfb: float | None = None
        self.end_reason: str | None = None
        self._abandon_check = cfg.abandonment
        # A live presentation: its tracks grow (Track.extend, then live_grew) and the
        # session does not end when it has loaded what exists so far; end_live() ends it.
        self.live = False
        self._room_policy = cfg.wait_policy == "room"
        self._pensieve_policy = cfg.wait_policy == "pensieve"
        self._max_buffer_s = cfg.max_buffer_s
        self._first_rung_bps = cfg.first_rung_bps
        self._default_first_rung = cfg.default_first_rung

    # ------------------------------------------------------------------ lifecycle
    def start(self, now: float = 0.0) -> None:
        if self.state != IDLE:
            raise SessionError("session already started")
        self.state = STARTUP
        self.t_start = self._t = now
        v = self.video
        if self._keep:
            self._rows.append(
                (SessionStart, now, self.session_id, self.title.name, _abr_name(v.abr),
                 self.config.mode, self.trace_name, self.config.to_dict())
            )
        for p in self.pipelines:
            p.ctx.now_s = now
            # One algorithm object may serve many sessions in turn; it starts afresh.
            reset = getattr(p.abr, "reset", None)
            if reset is not None:
                reset()
            own = getattr(p.abr, "estimator", None)
            p.own_estimator = own is not None
            p.estimator = own

    @property
    def done(self) -> bool:
        return self.state == ENDED

    # ------------------------------------------------------------------ time
    def _advance(self, now: float) -> None:
        """Play from the last known time to ``now``: drain buffers, detect stalls."""
        dt = now - self._t
        if dt <= 0.0:
            return
        self._t = now
        state = self.state
        if state == PLAYING:
            # A shortfall under _EPS is rounding (the segment arrived as the buffer ran
            # out), not a stall: the reference simulators' float artifacts of 1e-12 s
            # would otherwise count as stalls.
            if self._single:
                p = self.video
                lvl = p.level_s
                if dt < lvl:
                    p.level_s = lvl - dt
                    self.playhead_s += dt
                    return
                p.level_s = 0.0
                if dt - lvl <= _EPS:
                    self.playhead_s += lvl
                    return
            else:
                lvl = min(p.level_s for p in self.pipelines)
                if dt < lvl:
                    for p in self.pipelines:
                        p.level_s -= dt
                    self.playhead_s += dt
                    return
                for p in self.pipelines:
                    p.level_s = p.level_s - lvl if p.level_s > lvl else 0.0
                if dt - lvl <= _EPS:
                    self.playhead_s += lvl
                    return
            self.playhead_s += lvl
            t_empty = now - dt + lvl
            if self._all_loaded():
                self._end(t_empty, "completed")
                return
            self.state = STALLED
            self._stall_started = t_empty
            self.stall_count += 1
            self._stall_acc += dt - lvl
            for p in self.pipelines:
                p.ctx.stalled = True
                p.ctx.stall_count = self.stall_count
            if self._keep:
                self._rows.append((StallStart, t_empty, self.playhead_s))
        elif state == STALLED:
            self._stall_acc += dt

    def tick(self, now: float) -> None:
        """Advance playback to ``now`` without any transfer (status updates, UI)."""
        if self.state in (PLAYING, STALLED):
            self._advance(now)
        elif now > self._t:
            self._t = now

    def _all_loaded(self) -> bool:
        if self.live:
            return False  # a live presentation has more to come
        for p in self.pipelines:
            if p.next_index < p.end_index or p.inflight is not None:
                return False
        return True

    def _end(self, t: float, reason: str) -> None:
        if self.state == STALLED and self._stall_started is not None:
            self._finish_stall(t)
        self.state = ENDED
        self.end_reason = reason
        self._t = max(self._t, t)
        if self._keep:
            self._rows.append((SessionEnd, t, reason, self.playhead_s))

    def _finish_stall(self, now: float) -> None:
        dur = now - self._stall_started  # type: ignore[operator]
        self.rebuffer_s += dur
        self._stall_started = None
        for p in self.pipelines:
            p.ctx.stalled = False
            p.ctx.rebuffer_s = self.rebuffer_s
        if self._keep:
            self._rows.append((StallEnd, now, dur))

    # ------------------------------------------------------------------ decisions
    def next_action(self, now: float, media: str | None = None) -> Action:
        """What the driver should do at ``now``: fetch a segment, wait, or stop."""
        state = self.state
        if state == ENDED:
            return DONE
        if state == IDLE:
            raise SessionError("call start() before next_action()")
        if now != self._t:  # (a call saved on the simulator's hot path)
            self._advance(now)
            if self.state == ENDED:
                return DONE
        if self._single and media is None:
            p = self.video
            if p.inflight is not None or p.next_index >= p.end_index:
                p = None
        else:
            p = self._pick(media)
        if p is None:
            if self._all_loaded():
                return self._play_out()
            if self.live and all(q.inflight is None for q in self.pipelines):
                return Wait(now, "live edge")  # everything available is loaded
            # Another pipeline is downloading (concurrent HTTP driver): nothing to do.
            return Wait(now, "in flight")
        wu = self._wait_until
        if wu is not None:
            if now < wu - _EPS:
                return Wait(wu, "buffer full")
            self._wait_until = None
        idx = p.next_index
        dur = p.durations[idx]
        rung = p.pending_rung
        if rung is None and self._room_policy:
            room = p.level_s + dur - self._max_buffer_s
            if room > _EPS:
                until = now + room
                self._wait_until = until
                if p.on_wait is not None:
                    p.on_wait(room)
                if self._keep:
                    self._rows.append((BufferLevel, now, p.media, p.level_s))
                return Wait(until, "buffer full")
        if rung is not None:
            p.pending_rung = None
        else:
            # Only the fields that change between decisions are set here; the rest
            # (startup, stalled, stall_count, rebuffer_s, last_rung) are kept current
            # where they change.
            ctx = p.ctx
            ctx.now_s = now
            ctx.segment_index = idx
            ctx.segment_duration_s = dur
            ctx.buffer_s = p.level_s
            if p.last_rung is None and idx == 0:
                if self._first_rung_bps is not None:
                    d: Any = p.track.rung_index(self._first_rung_bps)
                elif hasattr(p.abr, "first_rung"):
                    d = p.abr.first_rung(ctx)
                elif self._default_first_rung is not None:
                    d = min(self._default_first_rung, len(p.bitrates) - 1)
                else:
                    d = p.decide(ctx)
            else:
                d = p.decide(ctx)
            if type(d) is int:
                rung = d
                delay = 0.0
            else:
                rung = int(d.rung)
                delay = d.delay_s
            if rung < 0 or rung >= len(p.bitrates):
                raise SessionError(f"{_abr_name(p.abr)} chose rung {rung}; the ladder has {len(p.bitrates)} rungs")
            if delay > 0.0:
                p.pending_rung = rung
                self._wait_until = now + delay
                if p.on_wait is not None:
                    p.on_wait(delay)
                return Wait(now + delay, "abr delay")
        size = p.size_rows[idx][rung]
        br = p.bitrates[rung]
        req = FetchSegment(p.media, idx, rung, br, size, dur, p.attempt)
        p.inflight = req
        p.request_t = now
        if self._keep:
            rows = self._rows
            rows.append((SegmentRequested, now, p.media, idx, rung, br, size, p.level_s))
            last = p.last_rung
            if last is not None and last != rung:
                rows.append((QualitySwitch, now, p.media, idx, last, rung, p.bitrates[last], br))
        p.last_rung = p.ctx.last_rung = rung
        return req

    def _pick(self, media: str | None) -> _Pipeline | None:
        if self._single:
            p = self.video
            if media not in (None, "video") or p.inflight is not None or p.next_index >= p.end_index:
                return None
            return p
        best = None
        for p in self.pipelines:
            if media is not None and p.media != media:
                continue
            if p.inflight is not None or p.next_index >= p.end_index:
                continue
            if best is None or p.level_s < best.level_s:
                best = p
        return best

    def _next_action_with_text(self, now: float, media: str | None = None) -> Action:
        if self.state in (PLAYING, STALLED, STARTUP):
            self._advance(now)
            if self.state != ENDED:
                t = self._due_text(media)
                if t is not None:
                    return self._request_text(now, t)
        return Session.next_action(self, now, media)

    def _due_text(self, media: str | None) -> _Pipeline | None:
        video_end = self.video.media_end_s
        for t in self.text_pipelines:
            if media is not None and media != t.media:
                continue
            if t.inflight is None and t.next_index < t.end_index and t.media_end_s < video_end - _EPS:
                return t
        return None

    def _request_text(self, now: float, t: _Pipeline) -> FetchSegment:
        idx = t.next_index
        req = FetchSegment(t.media, idx, 0, t.bitrates[0], t.size_rows[idx][0], t.durations[idx], t.attempt)
        t.inflight = req
        t.request_t = now
        if self._keep:
            self._rows.append((SegmentRequested, now, t.media, idx, 0, t.bitrates[0], req.size_bytes, 0.0))
        return req

    def _text_loaded(self, now: float, t: _Pipeline, request: FetchSegment, size: int, ttfb_s: float, transfer_s: float | None) -> None:
        self._advance(now)
        t.inflight = None
        t.attempt = 0
        if transfer_s is None:
            transfer_s = max(0.0, now - t.request_t - ttfb_s)
        t.next_index = request.index + 1
        t.rungs.append(request.rung)
        t.media_end_s += request.duration_s
        t.ends.append(t.media_end_s)
        if self._keep:
            self._rows.append(
                (SegmentLoaded, now, t.media, request.index, request.rung, request.bitrate_bps, size, ttfb_s,
                 transfer_s, 0.0, 0.0, request.duration_s)
            )

    def _play_out(self) -> Action:
        """Everything is loaded: play the buffer out and end the session."""
        if self.state == STARTUP:
            self._start_playback(self._t)
        if self.state == STALLED:
            self._finish_stall(self._t)
            self.state = PLAYING
        lvl = min(p.level_s for p in self.pipelines)
        self.playhead_s += lvl
        for p in self.pipelines:
            p.level_s -= lvl
        self._end(self._t + lvl, "completed")
        return DONE

    def _start_playback(self, now: float) -> None:
        self.state = PLAYING
        for p in self.pipelines:
            p.ctx.startup = False
        startup = now - self.t_start
        if not self.config.startup_counts_latency and self._first_ttfb is not None:
            startup -= self._first_ttfb
        self.startup_s = startup
        if self._keep:
            self._rows.append((PlaybackStart, now, startup))

    # ------------------------------------------------------------------ transfer results
    def segment_loaded(
        self,
        now: float,
        request: FetchSegment,
        size_bytes: int | None = None,
        ttfb_s: float = 0.0,
        transfer_s: float | None = None,
    ) -> None:
        """``request`` finished at ``now``: the segment enters the buffer."""
        if self._single:
            p = self.video
        else:
            p = self._pipeline(request.media)
            if p.abr.__class__ is _LowestRung and p.inflight is request:
                self._text_loaded(now, p, request, request.size_bytes if size_bytes is None else size_bytes, ttfb_s, transfer_s)
                return
        if p.inflight is not request:
            raise SessionError(f"segment_loaded for {request!r}, which is not in flight")
        if now != self._t:
            self._advance(now)
        p.inflight = None
        p.attempt = 0
        size = request.size_bytes if size_bytes is None else size_bytes
        if transfer_s is None:
            transfer_s = max(0.0, now - p.request_t - ttfb_s)
        idx = request.index
        dur = request.duration_s
        rung = request.rung
        p.level_s += dur
        p.next_index = idx + 1
        p.rungs.append(rung)
        p.media_end_s += dur
        p.ends.append(p.media_end_s)
        if self._first_ttfb is None:
            self._first_ttfb = ttfb_s
        sample = TransferSample(now, size, ttfb_s, transfer_s)
        ctx = p.ctx
        ctx.samples.append(sample)
        if p.estimator is not None:
            p.estimator.add(sample)
        stall = self._stall_acc
        self._stall_acc = 0.0
        p.stalls.append(stall)
        if self._keep:
            self._rows.append(
                (SegmentLoaded, now, p.media, idx, rung, request.bitrate_bps, size, ttfb_s,
                 transfer_s, p.level_s, stall, dur)
            )
        state = self.state
        cfg = self.config
        if state == STARTUP:
            if self._ready(cfg.startup_buffer_s):
                self._start_playback(now)
        elif state == STALLED:
            if self._ready(cfg.resume_buffer_s):
                self._finish_stall(now)
                self.state = PLAYING
        if p.on_download is not None:
            ctx.now_s = now
            ctx.buffer_s = p.level_s
            p.on_download(sample, ctx)
        if self._pensieve_policy and p.level_s > cfg.max_buffer_s:
            # Pensieve: sleep in DRAIN_BUFFER_SLEEP_TIME steps until at or under the cap.
            q = cfg.wait_quantum_s
            sleep = math.ceil((p.level_s - cfg.max_buffer_s) / q) * q
            self._wait_until = now + sleep
            if p.on_wait is not None:
                p.on_wait(sleep)

    def _ready(self, threshold: float) -> bool:
        """Whether every pipeline holds ``threshold`` seconds, has loaded everything, or
        has no room for its next segment (a threshold above the buffer cap must not
        leave the player waiting forever)."""
        cap = self._max_buffer_s
        if self._single:
            p = self.video
            return (
                p.level_s >= threshold
                or p.next_index >= p.end_index
                or p.level_s + p.durations[p.next_index] > cap
            )
        for p in self.pipelines:
            if p.next_index == 0 and p.end_index > 0:
                return False
            if p.level_s < threshold and p.next_index < p.end_index and p.level_s + p.durations[p.next_index] <= cap:
                return False
        return True

    def _pipeline(self, media: str) -> _Pipeline:
        for p in self.pipelines:
            if p.media == media:
                return p
        for p in self.text_pipelines:
            if p.media == media:
                return p
        raise SessionError(f"no {media} pipeline")

    def live_grew(self) -> None:
        """The tracks of a live presentation have more segments (``Track.extend``)."""
        cap = self.config.max_segments
        for p in self.pipelines + self.text_pipelines:
            end = p.track.n_segments
            p.end_index = min(end, cap) if cap and p in self.pipelines else end
            p.ctx.segment_count = p.end_index

    def end_live(self) -> None:
        """The live presentation has ended: what is loaded plays out, then the session ends."""
        self.live = False

    def track(self, media: str) -> Track:
        """The Track a request's ``media`` refers to (drivers use it for ``segment_ref``)."""
        return self.video.track if media == "video" else self._pipeline(media).track

    def check_abandon(self, now: float, request: FetchSegment, bytes_loaded: int, ttfb_s: float | None) -> int | None:
        """Ask the ABR whether to abandon ``request`` in flight; a lower rung or None."""
        if not self._abandon_check:
            return None
        p = self.video if self._single else self._pipeline(request.media)
        hook = p.should_abandon
        if hook is None or p.inflight is not request:
            return None
        self._advance(now)
        ctx = p.ctx
        ctx.now_s = now
        ctx.buffer_s = p.level_s
        ctx.stalled = self.state == STALLED
        prog = Progress(request.index, request.rung, request.size_bytes, bytes_loaded, now - p.request_t, ttfb_s)
        to = hook(ctx, prog)
        if to is None:
            return None
        to = int(to)
        if to < 0 or to >= request.rung:
            return None
        return to

    def segment_abandoned(self, now: float, request: FetchSegment, bytes_loaded: int, to_rung: int | None) -> None:
        """The driver dropped ``request``; the same segment is fetched next at ``to_rung``
        (or re-decided when None)."""
        p = self.video if self._single else self._pipeline(request.media)
        if p.inflight is not request:
            raise SessionError(f"segment_abandoned for {request!r}, which is not in flight")
        self._advance(now)
        p.inflight = None
        p.attempt += 1
        p.pending_rung = to_rung
        if to_rung is not None:
            p.last_rung = p.ctx.last_rung = to_rung
        if self._keep:
            self._rows.append(
                (SegmentAbandoned, now, p.media, request.index, request.rung, bytes_loaded,
                 request.size_bytes, to_rung)
            )

    def segment_failed(self, now: float, request: FetchSegment, kind: str, message: str, fatal: bool = False, url: str | None = None) -> None:
        """A transfer failed; unless ``fatal`` the segment is requested again next."""
        p = self.video if self._single else self._pipeline(request.media)
        if p.inflight is request:
            p.inflight = None
            p.attempt += 1
        self._advance(now)
        if self._keep:
            self._rows.append((Error, now, kind, message, fatal, url))
        if fatal:
            self._end(now, "error")

    def report_error(self, now: float, kind: str, message: str, fatal: bool = False, url: str | None = None) -> None:
        self._advance(now)
        if self._keep:
            self._rows.append((Error, now, kind, message, fatal, url))
        if fatal and self.state != ENDED:
            self._end(now, "error")

    def set_abr(self, media: str, abr: Any, now: float | None = None) -> None:
        """Hand ``media``'s decisions to ``abr`` from the next request on (a user switching
        algorithm mid-session). The new algorithm starts afresh (``reset()``); if it keeps
        its own estimator, that estimator is caught up on the transfers seen so far so it
        does not start blind. A decision already taken (a segment in flight, a rung held
        for an ABR delay) stands. The pipeline caches the hooks, so the hot path in
        ``next_action`` is unchanged. The switch is logged (``AbrChanged``) at ``now``,
        or at the time of the last call into the core."""
        p = self.video if media == "video" else self._pipeline(media)
        if self._keep and self.state not in (IDLE, ENDED):
            t = self._t if now is None else max(now, self._t)
            self._rows.append((AbrChanged, t, p.media, _abr_name(abr), _abr_name(p.abr)))
        reset = getattr(abr, "reset", None)
        if reset is not None:
            reset()
        p.bind(abr)
        own = p.estimator
        if own is not None:
            for sample in p.ctx.samples:
                own.add(sample)

    def abort(self, now: float, reason: str = "aborted") -> None:
        """Stop the session at ``now`` (user quit, fatal error)."""
        if self.state in (IDLE, ENDED):
            return
        self._advance(now)
        if self.state != ENDED:
            self._end(now, reason)

    # ------------------------------------------------------------------ views
    @property
    def buffer_s(self) -> float:
        return min(p.level_s for p in self.pipelines)

    @property
    def now_s(self) -> float:
        return self._t

    def playing_rung(self, media: str = "video", playhead_s: float | None = None) -> int | None:
        """Rung of the segment at the playhead (None before anything is buffered)."""
        p = self.video if media == "video" else self._pipeline(media)
        if not p.rungs:
            return None
        pos = self.playhead_s if playhead_s is None else playhead_s
        i = bisect_right(p.ends, pos + _EPS)
        return p.rungs[min(i, len(p.rungs) - 1)]

    def status_at(self, now: float) -> Status:
        """Playback at ``now`` (>= the last time the driver fed in), assuming no transfer
        completes before then. Read-only: a UI can show a live clock between driver calls
        without committing the elapsed time, which ``tick`` would do (and splitting one
        drain into two changes the buffer arithmetic in the last bits)."""
        state = self.state
        t = self._t
        if state == ENDED and now < t and self.end_reason == "completed":
            # Everything was loaded, so the core ended the session at once at the end of
            # the play-out; before that instant the buffer is still playing out.
            left = t - now
            return Status(now, PLAYING, left, self.playhead_s - left, self.stall_count,
                          self.rebuffer_s, self.playing_rung("video", self.playhead_s - left))
        dt = now - t if now > t else 0.0
        buffer_s = self.buffer_s
        playhead = self.playhead_s
        stalls = self.stall_count
        rebuffer = self.rebuffer_s
        if state == PLAYING and dt > 0.0:
            if dt < buffer_s:
                buffer_s -= dt
                playhead += dt
            else:
                playhead += buffer_s
                if self._all_loaded():
                    state = ENDED
                else:
                    state = STALLED
                    stalls += 1
                    rebuffer += dt - buffer_s
                buffer_s = 0.0
        elif state == STALLED and self._stall_started is not None:
            rebuffer += max(now, t) - self._stall_started
        return Status(max(now, t), state, buffer_s, playhead, stalls, rebuffer, self.playing_rung("video", playhead))

    def record(self, media: str = "video") -> PlaybackRecord:
        """The per-segment summary QoE is computed from (same as from the events)."""
        p = self.video if media == "video" else self._pipeline(media)
        rec = PlaybackRecord(
            bitrates_bps=[p.bitrates[r] for r in p.rungs],
            rungs=list(p.rungs),
            durations_s=[p.durations[i] for i in range(len(p.rungs))],
            stall_s=list(p.stalls),
            startup_s=self.startup_s or 0.0,
            started=self.startup_s is not None,
            stall_count=self.stall_count,
            rebuffer_s=self.rebuffer_s,
            played_s=self.playhead_s,
        )
        return rec


def _abr_name(abr: Any) -> str:
    describe = getattr(abr, "describe", None)
    if callable(describe):
        return str(describe())
    return str(getattr(abr, "name", type(abr).__name__))
