"""The HTTP driver: the sans-I/O session core (``player.session``) over aiohttp.

Same loop as the simulated driver (``player.sim.drive``), with real transfers::

    action = session.next_action(clock.now())
    FetchSegment -> stream it; every ``progress_step_s`` of session time ask
                    session.check_abandon(); on the last byte session.segment_loaded()
    Wait         -> sleep on the clock until action.until_s
    Done         -> stop

Around each transfer: connect and read timeouts (session seconds, so ``--speed`` keeps
them proportionate), failover to the next steered edge on any error or timeout with a
circuit breaker per edge (``player.http.edges``), backoff with full jitter when no edge
is available (``player.http.resilience``). A failed transfer is reported to the core
(``segment_failed``), which logs it and decides the segment again; after
``retry.max_attempts`` failures of one segment the session ends with an error.

Timing follows the simulator's accounting: ``ttfb_s`` is request to response headers
(the edge holds the headers for the trace's per-request latency), ``transfer_s``
headers to last byte. Manifests and init segments are loaded before the session clock
starts (the simulator has neither), so a session replayed both ways sees the same
segment timeline.

How a trace reaches the edge: when the driver is given one, it registers it with each
edge before that edge's first segment request (``POST {base}/session``, see
``server_stub.edge``), with the session's elapsed time so a failover continues the
trace where it was.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import aiohttp

from player.http.clock import Clock, ScaledClock
from player.http.edges import EdgeSet, Endpoint
from player.http.resilience import RetryPolicy
from player.http.source import HttpTitle, load_http_title, range_header
from player.manifest.errors import ManifestError
from player.presentation import ContentError, SegmentRef
from player.session import Done, FetchSegment, Session, Wait
from qoe.events import ManifestLoaded
from traces.formats import write_sabre
from traces.model import Trace

# Sabre checks abandonment every 50 ms of download progress; so does player.sim.
PROGRESS_STEP_S = 0.05
SENT_AT_HEADER = "X-Abrlab-Sent-At"  # read by server_stub.edge (player never imports it)
FIRST_BYTE_HEADER = "X-Abrlab-First-Byte-At"
REGISTRATION_LEAD_S = 0.05  # wall seconds between registering a trace and its time 0


class PlayError(RuntimeError):
    """Playback cannot go on (every edge failed, the server refused the trace, ...)."""


class TransferError(Exception):
    def __init__(self, kind: str, message: str, retryable: bool = True, status: int | None = None):
        self.kind = kind
        self.retryable = retryable
        self.status = status
        super().__init__(message)


def classify(exc: BaseException) -> TransferError:
    """One error vocabulary for the event log: timeout, connect, reset, payload, http-N."""
    if isinstance(exc, TransferError):
        return exc
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return TransferError("timeout", str(exc) or type(exc).__name__)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransferError("connect", str(exc))
    if isinstance(exc, aiohttp.ClientPayloadError):
        return TransferError("payload", str(exc).splitlines()[0][:200])
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ConnectionError)):
        return TransferError("reset", str(exc) or type(exc).__name__)
    return TransferError("client", f"{type(exc).__name__}: {exc}")


def status_error(status: int, url: str) -> TransferError:
    # 5xx, 429 and 408 are worth another try (elsewhere); 403 means the token is bad
    # everywhere; 404/410 might be one edge's problem, so other edges get a chance.
    retryable = status >= 500 or status in (404, 408, 410, 429)
    return TransferError(f"http-{status}", f"HTTP {status} for {url}", retryable, status)


@dataclass
class DriverConfig:
    connect_timeout_s: float = 4.0  # session seconds
    read_timeout_s: float = 20.0  # session seconds without a byte
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    progress_step_s: float = PROGRESS_STEP_S
    status_interval_s: float = 0.25  # wall seconds between status callbacks
    max_connections: int = 6
    # One request at a time, the core choosing the pipeline (as the simulator does), or
    # one request per media type at once sharing the link (as browsers' players do).
    parallel_pipelines: bool = False
    seed: int | None = None


@dataclass
class Status:
    """A snapshot for the live status line (session seconds, bits per second)."""

    t_s: float
    state: str
    buffer_s: float
    playhead_s: float
    rung: int | None
    bitrate_bps: int | None
    loaded: int
    total: int
    stalls: int
    rebuffer_s: float
    last_rate_bps: float | None
    edge: str
    errors: int
    failovers: int


class HttpDriver:
    def __init__(
        self,
        source: HttpTitle | None,
        edges: EdgeSet,
        *,
        clock: Clock | None = None,
        config: DriverConfig | None = None,
        trace: Trace | None = None,
        http: aiohttp.ClientSession | None = None,
        on_status: Callable[[Status], None] | None = None,
    ) -> None:
        self.source = source
        self.edges = edges
        self.clock = clock or ScaledClock(1.0)
        self.config = config or DriverConfig()
        self.trace = trace
        self._trace_json = json.loads(write_sabre(trace)) if trace is not None else None
        self._http = http
        self._own_http = http is None
        self.on_status = on_status
        self._rng = random.Random(self.config.seed)
        self._inits: dict[tuple[str, str | None], bytes] = {}
        self._changed = asyncio.Event()
        self.errors = 0
        self.bytes_loaded = 0
        self.requests = 0
        self._failures: dict[tuple[str, int], int] = {}
        self._origin_unix: float | None = None

    # ------------------------------------------------------------------ plumbing
    def _timeout(self) -> aiohttp.ClientTimeout:
        c = self.clock
        return aiohttp.ClientTimeout(
            total=None,
            sock_connect=c.wall(self.config.connect_timeout_s),
            sock_read=c.wall(self.config.read_timeout_s),
        )

    async def _open(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit_per_host=self.config.max_connections),
                auto_decompress=False,
            )
        return self._http

    async def close(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    async def _register(self, ep: Endpoint, elapsed_s: float | None = None) -> float:
        """Hand the session's trace to ``ep`` (once per edge); returns the edge's trace
        time when it took it (``elapsed_s``, by default the session clock, plus however
        long the request waited at the edge)."""
        if self._trace_json is None or ep.registered:
            return self.clock.now()
        if ep.session_url is None:
            raise PlayError(f"{ep.name} is not an abrlab edge: it cannot shape by a trace (drop --trace)")
        assert self._http is not None and self.trace is not None
        elapsed = max(0.0, self.clock.now() if elapsed_s is None else elapsed_s)
        body = {"trace": self._trace_json, "name": self.trace.name, "elapsed_s": elapsed, "speed": self.clock.speed}
        if self._origin_unix is not None:
            body["origin_unix_s"] = self._origin_unix
        async with self._http.post(ep.session_url, json=body, timeout=self._timeout()) as r:
            if r.status == 409:
                info = await r.json()
                raise PlayError(f"{ep.name} shapes at speed {info.get('speed')}, the player runs at {self.clock.speed:g}: pass the same --speed")
            if r.status != 200:
                raise status_error(r.status, ep.session_url)
            info = await r.json()
        ep.registered = True
        return float(info.get("trace_time_s", elapsed))

    def reshape(self, trace: Trace) -> None:
        """Shape the rest of the session by ``trace`` instead of the one given at start
        (same time origin: trace time stays session time). Every edge gets it before its
        next request to that edge; a transfer already under way finishes as it started.
        The TUI's bandwidth-drop key passes a copy of the trace scaled down for a while."""
        if self._trace_json is None:
            raise PlayError("this session is not shaped by a trace: there is none to change")
        self.trace = trace
        self._trace_json = json.loads(write_sabre(trace))
        for ep in self.edges.endpoints:
            ep.registered = False

    async def fetch(self, url: str, byte_range: tuple[int, int] | None = None) -> bytes:
        return await self.get_bytes(url, SegmentRef(url, byte_range) if byte_range else None)

    async def get_bytes(self, url: str, ref: SegmentRef | None = None) -> bytes:
        """A small object (manifest, init segment) with retries and failover."""
        http = await self._open()
        if not any(self.edges.can_serve(url, ep) for ep in self.edges.endpoints):
            return await self._get_elsewhere(http, url, ref)
        attempt = 0
        last: TransferError | None = None  # said when giving up: a 404 is not a dead host
        while True:
            now = self.clock.now()
            ep = self.edges.pick(url, now)
            if ep is None:
                await self._backoff(attempt)
                attempt += 1
                if attempt >= self.config.retry.max_attempts:
                    raise PlayError(f"no edge could serve {url}" + (f" (last error: {last})" if last is not None else ""))
                continue
            target = self.edges.rebase(url, ep)
            rh = range_header(ref) if ref is not None else None
            ep.breaker.on_attempt()
            ep.requests += 1
            try:
                async with http.get(target, headers={"Range": rh} if rh else None, timeout=self._timeout()) as r:
                    if r.status not in (200, 206):
                        raise status_error(r.status, target)
                    data = await r.read()
                self.edges.succeeded(ep)
                return data
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError, TransferError) as e:
                err = last = classify(e)
                self.errors += 1
                attempt += 1
                if err.status == 403 and attempt < self.config.retry.max_attempts and await self._refresh_tokens():
                    continue  # an expired token, not the edge's fault: signed again, same session
                self.edges.failed(ep, self.clock.now())
                if not err.retryable or attempt >= self.config.retry.max_attempts:
                    raise PlayError(f"cannot load {target}: {err}") from None
                if self.edges.pick(url, self.clock.now()) is ep or len(self.edges.endpoints) == 1:
                    await self._backoff(attempt - 1)

    async def _get_elsewhere(self, http: aiohttp.ClientSession, url: str, ref: SegmentRef | None) -> bytes:
        """A URL on none of the session's edges (a manifest's time source, an absolute
        BaseURL on another host): fetched where it points, with retries but no failover,
        and its failures are not held against any edge's breaker."""
        rh = range_header(ref) if ref is not None else None
        attempt = 0
        while True:
            try:
                async with http.get(url, headers={"Range": rh} if rh else None, timeout=self._timeout()) as r:
                    if r.status not in (200, 206):
                        raise status_error(r.status, url)
                    return await r.read()
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError, TransferError) as e:
                err = classify(e)
                self.errors += 1
                attempt += 1
                if not err.retryable or attempt >= self.config.retry.max_attempts:
                    raise PlayError(f"cannot load {url}: {err}") from None
                await self._backoff(attempt - 1)

    async def _backoff(self, attempt: int) -> None:
        await self.clock.sleep_until(self.clock.now() + self.config.retry.backoff_s(attempt, self._rng))

    async def load(self, url: str) -> HttpTitle:
        """Load the title at ``url`` (manifest or stub description) through the edges."""
        await self._open()
        self.source = await load_http_title(url, self.fetch, self.clock.speed)
        return self.source

    async def _ensure_init(self, ref: SegmentRef | None) -> None:
        if ref is None:
            return
        key = (ref.url, range_header(ref))
        if key not in self._inits:
            self._inits[key] = await self.get_bytes(ref.url, ref)

    async def prefetch_inits(self) -> None:
        assert self.source is not None
        for ref in self.source.init_refs():
            await self._ensure_init(ref)

    # ------------------------------------------------------------------ the loop
    async def run(self, session: Session) -> Session:
        """Play ``session`` to its end; returns it (finished, or ended by an error)."""
        await self._open()
        try:
            await self.prefetch_inits()
            # Trace time 0 is the session start. Edges learn it as a Unix time, so their
            # trace clock and this session clock agree however long a request takes; it
            # is set a little ahead so the first edge has the trace before it starts.
            lead = REGISTRATION_LEAD_S if self._trace_json is not None else 0.0
            self._origin_unix = time.time() + lead
            self.clock.start(-lead * self.clock.speed)
            if self._trace_json is not None:
                try:
                    await self._register(self.edges.endpoints[self.edges.current])
                except (aiohttp.ClientError, asyncio.TimeoutError, TransferError):
                    pass  # that edge is failing; the first segment request fails over
                await self.clock.sleep_until(0.0)
            session.start(max(0.0, self.clock.now()))
            src = self.source
            if src is not None:
                v = src.title.video
                session.log.append(ManifestLoaded(session.now_s, src.url, src.format, list(v.bitrates_bps), v.duration_s))
            live = None
            if src is not None and src.follower is not None and not src.follower.ended:
                session.live = True
                live = asyncio.create_task(self._follow_live(session))
            status = asyncio.create_task(self._status_loop(session)) if self.on_status else None
            try:
                medias = [p.media for p in session.pipelines + session.text_pipelines]
                if len(medias) == 1 or not self.config.parallel_pipelines:
                    await self._pipeline(session, None)
                else:
                    await asyncio.gather(*(self._pipeline(session, m) for m in medias))
            except PlayError as e:
                session.report_error(self.clock.now(), "fatal", str(e), fatal=True)
                raise
            finally:
                if live is not None:
                    live.cancel()
                    try:
                        await live
                    except asyncio.CancelledError:
                        pass
                if status is not None:
                    status.cancel()
                    try:
                        await status
                    except asyncio.CancelledError:
                        pass
                    self.on_status(self.status(session))  # type: ignore[misc]
        finally:
            await self.close()
        return session

    async def _pipeline(self, session: Session, media: str | None) -> None:
        abandonable = session.config.abandonment and any(
            getattr(p.abr, "should_abandon", None) is not None for p in session.pipelines
        )
        woke: float | None = None
        while True:
            now = self.clock.now()
            if woke is not None:
                now = max(now, woke)  # a wake-up a hair early is the wait's end
                woke = None
            a = session.next_action(now, media)
            if isinstance(a, Done):
                self._changed.set()
                return
            if isinstance(a, Wait):
                if a.until_s <= now + 1e-9:
                    # Another pipeline's transfer decides what comes next: wait for it.
                    self._changed.clear()
                    try:
                        await asyncio.wait_for(self._changed.wait(), timeout=self.clock.wall(0.5))
                    except asyncio.TimeoutError:
                        pass
                else:
                    woke = await self.clock.sleep_until(a.until_s)
                continue
            assert isinstance(a, FetchSegment)
            await self._fetch(session, a, abandonable)
            self._changed.set()

    async def _fetch(self, session: Session, req: FetchSegment, abandonable: bool) -> None:
        track = session.track(req.media)
        ref = track.segment_ref(req.index, req.rung)
        url = ref.url
        await self._ensure_init(track.init_ref(req.index, req.rung))
        now = self.clock.now()
        ep = self.edges.pick(url, now)
        if ep is None:
            key = (req.media, req.index)
            n = self._failures.get(key, 0)
            session.segment_failed(now, req, "no-edge", "every edge's circuit breaker is open", fatal=n >= self.config.retry.max_attempts, url=url)
            self._failures[key] = n + 1
            await self._backoff(n)
            return
        target = self.edges.rebase(url, ep)
        http = self._http
        assert http is not None
        expected = ref.size_bytes
        rh = range_header(ref)
        try:
            await self._register(ep)
            ep.breaker.on_attempt()
            ep.requests += 1
            self.requests += 1
            t_send = self.clock.now()
            headers = {"Range": rh} if rh else {}
            if ep.registered:
                # The edge counts the trace latency from here, not from when the request
                # reached it (server_stub.edge: host overhead is not network latency).
                headers[SENT_AT_HEADER] = f"{t_send:.6f}"
            async with http.get(target, headers=headers, timeout=self._timeout()) as r:
                if r.status not in (200, 206):
                    raise status_error(r.status, target)
                ttfb = self.clock.now() - t_send
                fb = r.headers.get(FIRST_BYTE_HEADER) if ep.registered else None
                if fb is not None:
                    # The edge's own record of when the first byte was due (same trace
                    # clock): host overhead in delivering the headers is not network time.
                    try:
                        ttfb = min(ttfb, max(0.0, float(fb) - t_send))
                    except ValueError:
                        pass
                length = r.content_length
                got = 0
                step = self.config.progress_step_s
                next_check = t_send + ttfb + step
                async for chunk in r.content.iter_any():
                    got += len(chunk)
                    if abandonable:
                        now = self.clock.now()
                        if now >= next_check:
                            to = session.check_abandon(now, req, got, ttfb)
                            if to is not None:
                                session.segment_abandoned(now, req, got, to)
                                self.bytes_loaded += got
                                r.close()  # HTTP/1.1 has no other way to stop a response
                                self.edges.succeeded(ep)
                                return
                            next_check = now + step
                now = self.clock.now()
                want = length if length is not None else expected
                if want is not None and got != want:
                    raise TransferError("payload", f"got {got} of {want} bytes from {target}")
        except PlayError:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError, TransferError) as e:
            err = classify(e)
            now = self.clock.now()
            self.errors += 1
            if err.status != 403:  # a token problem is not the edge's fault
                self.edges.failed(ep, now)
            key = (req.media, req.index)
            n = self._failures.get(key, 0) + 1
            self._failures[key] = n
            fatal = (not err.retryable and err.status != 403) or n >= self.config.retry.max_attempts
            if err.status == 403:
                fatal = fatal or not await self._refresh_tokens()
            session.segment_failed(now, req, err.kind, str(err), fatal=fatal, url=target)
            if fatal:
                raise PlayError(f"segment {req.index} of {req.media} failed {n} times; last: {err}") from None
            # Immediate retry when another edge can take it; otherwise back off.
            nxt = self.edges.pick(url, now)
            if nxt is None or nxt is ep:
                await self._backoff(n - 1)
            return
        self.edges.succeeded(ep)
        self._failures.pop((req.media, req.index), None)
        self.bytes_loaded += got
        session.segment_loaded(now, req, got, ttfb, max(0.0, now - t_send - ttfb))

    async def _follow_live(self, session: Session) -> None:
        """Refresh a live manifest on its schedule; grow the session's tracks; end it."""
        f = self.source.follower  # type: ignore[union-attr]
        while session.live and not session.done:
            await self.clock.sleep_until(self.clock.now() + f.refresh_interval_s)
            try:
                added, ended = await f.refresh()
            except (PlayError, ContentError, ManifestError) as e:
                session.report_error(self.clock.now(), "manifest", str(e))
                continue
            if added:
                session.live_grew()
            if ended:
                session.live_grew()
                session.end_live()
            self._changed.set()
            if ended:
                return

    # Token refresh is wired by whoever knows the control plane (player.http.play).
    refresh_tokens: Callable[[], Any] | None = None

    async def _refresh_tokens(self) -> bool:
        if self.refresh_tokens is None:
            return False
        try:
            await self.refresh_tokens()
        except Exception:  # noqa: BLE001 - any failure means: no fresh token
            return False
        return True

    # ------------------------------------------------------------------ status
    def status(self, session: Session) -> Status:
        v = session.video
        # A read-only projection: committing time here (Session.tick) would split the
        # buffer arithmetic differently from the simulator's.
        now = max(self.clock.now(), session.now_s)
        st = session.status_at(now)
        rung = st.playing_rung
        samples = v.ctx.samples
        cur = self.edges.endpoints[self.edges.current]
        return Status(
            t_s=st.t_s,
            state=st.state,
            buffer_s=st.buffer_s,
            playhead_s=st.playhead_s,
            rung=rung,
            bitrate_bps=v.bitrates[rung] if rung is not None else None,
            loaded=len(v.rungs),
            total=v.end_index,
            stalls=st.stall_count,
            rebuffer_s=st.rebuffer_s,
            last_rate_bps=samples[-1].rate_bps if samples else None,
            edge=cur.name,
            errors=self.errors,
            failovers=self.edges.failovers,
        )

    async def _status_loop(self, session: Session) -> None:
        assert self.on_status is not None
        while True:
            await asyncio.sleep(self.config.status_interval_s)
            self.on_status(self.status(session))
