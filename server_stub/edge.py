"""An edge: a byte-bounded LRU cache in front of the origin, serving signed URLs, shaping
each session to its trace, and breaking on command.

Routes (``{token}`` is a control-plane token, see ``server_stub.tokens``)::

    GET|HEAD /t/{token}/titles/{title}/{object}   content (cache, shaping, faults)
    POST     /t/{token}/session                   shape this session: {"trace": [...]}
    DELETE   /t/{token}/session
    GET      /health                              liveness and load, for steering
    GET      /time                                the live event clock (the MPDs' UTCTiming)
    GET      /metrics                             JSON (or ?format=prometheus)
    GET|PUT  /_admin/faults                       fault injection (admin key)
    POST     /_admin/prefill                      {"title": ..., "layout": "files"|"ranges"|"both"}
    GET      /_admin/sessions                     shaped sessions

Content and session routes without a token answer 403, like ones with a forged or
expired token. A request's first byte waits for the trace latency of its session (and,
on a miss, for the origin fetch over the modelled backbone); its body then drains the
session's shaped link (``server_stub.shaping``).

How a trace reaches the edge: the player registers it. ``POST /t/{token}/session`` with
``{"trace": <Sabre JSON trace list>, "elapsed_s": <session seconds so far>,
"speed": <k>}`` makes every later request under a token of the same session id follow
that trace, on every connection. ``elapsed_s`` lets a player that fails over continue
its trace where it was; ``speed`` must equal the edge's (409 otherwise), so the player
and the stub agree on the time scale. A session that registers nothing is not shaped.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np
from aiohttp import web

from server_stub.cache import LruCache
from server_stub.faults import Fate, FaultConfig, FaultError, FaultInjector
from server_stub.httputil import Handler, body_limit_middleware, json_error, read_json
from server_stub.objects import COMPONENT, RangeNotSatisfiable, parse_range
from server_stub.origin import ORIGIN_KEY_HEADER
from server_stub.pacing import TIMER_LEAD_S, Pacer
from server_stub.shaping import SessionLink, ShapingConfig, ShapingRegistry
from server_stub.tokens import Signer, TokenError
from traces.model import Provenance, Trace, TraceError

log = logging.getLogger("abrlab.edge")

ADMIN_KEY_HEADER = "X-Abrlab-Admin-Key"
CONTROL_KEY_HEADER = "X-Abrlab-Control-Key"
SENT_AT_HEADER = "X-Abrlab-Sent-At"
FIRST_BYTE_HEADER = "X-Abrlab-First-Byte-At"
MAX_SENT_SKEW_S = 0.05
TOKEN_RE = r"[A-Za-z0-9_.-]{1,400}"
EDGE_KEY = web.AppKey("edge", "Edge")


@dataclass
class EdgeConfig:
    edge_id: str
    origin_url: str
    secret: str
    admin_key: str
    origin_key: str | None = None
    cache_bytes: int = 256 * 1024 * 1024
    # One-way edge<->origin round trip on a miss, in session seconds (divided by speed).
    backbone_latency_s: float = 0.02
    shaping: ShapingConfig = field(default_factory=ShapingConfig)
    max_body_bytes: int = 1024 * 1024  # trace registrations are the largest bodies
    origin_timeout_s: float = 10.0


@dataclass
class CachedObject:
    data: bytes
    content_type: str
    total_size: int
    offset: int  # where ``data`` starts in the object (range-fetched pieces of all.mp4)
    etag: str
    cacheable: bool = True  # False for what the origin marks no-cache (live manifests)


class _Reset(Exception):
    """The fault injector reset the connection; the handler ends without a response."""


def trace_from_entries(entries: Any, name: str) -> Trace:
    """A trace from Sabre JSON entries (``{duration_ms, bandwidth_kbps, latency_ms}``)
    already parsed from a request body; errors name the entry and the field."""
    where = f"trace {name!r} in request body"
    if not isinstance(entries, list) or not entries:
        raise TraceError("trace must be a non-empty list of Sabre entries", where)
    rows = []
    for i, e in enumerate(entries, start=1):
        if not isinstance(e, dict):
            raise TraceError(f"entry {i} is not an object", where)
        row = []
        for key, default in (("duration_ms", None), ("bandwidth_kbps", None), ("latency_ms", 0)):
            v = e.get(key, default)
            if v is None:
                raise TraceError(f"entry {i} has no {key!r}", where)
            if type(v) not in (int, float):
                raise TraceError(f"entry {i}: {key} is not a number: {v!r}", where)
            row.append(v)
        rows.append(row)
    arr = np.asarray(rows, dtype=np.float64)
    # The Trace constructor checks values (finite, non-negative, positive durations).
    return Trace(arr[:, 0] / 1000.0, arr[:, 1] * 1000.0, arr[:, 2] / 1000.0, name=name,
                 provenance=Provenance("file", where, "sabre"))


def _kind(parts: list[str]) -> str:
    name = parts[-1]
    if name.endswith((".mpd", ".m3u8")):
        return "manifest"
    if name == "init.mp4":
        return "init"
    if name == "all.mp4":
        return "file"
    if name.endswith(".m4s"):
        return "segment"
    return "info"


def reset_connection(transport: asyncio.BaseTransport | None) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashing middlebox would."""
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()  # type: ignore[attr-defined]


class EdgeMetrics:
    def __init__(self) -> None:
        self.requests = 0
        self.status: dict[str, int] = {}
        self.bytes_served = 0
        self.forbidden: dict[str, int] = {}
        self.origin_fetches = 0
        self.origin_bytes = 0
        self.aborted_by_client = 0
        self.active_transfers = 0
        self._rate_mark = (time.monotonic(), 0)
        self.bytes_per_s = 0.0

    def count(self, status: int) -> None:
        key = f"{status // 100}xx"
        self.status[key] = self.status.get(key, 0) + 1

    def sample_rate(self) -> float:
        t0, b0 = self._rate_mark
        now = time.monotonic()
        if now - t0 >= 0.25:
            self.bytes_per_s = (self.bytes_served - b0) / (now - t0)
            self._rate_mark = (now, self.bytes_served)
        return self.bytes_per_s


class Edge:
    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.signer = Signer(config.secret)
        self.cache: LruCache[CachedObject] = LruCache(config.cache_bytes)
        self.shaping = ShapingRegistry(config.shaping)
        self.faults = FaultInjector()
        self.metrics = EdgeMetrics()
        self.pacer = Pacer(config.shaping.tick_wall_s)
        self._inflight: dict[tuple[Any, ...], asyncio.Future[CachedObject | int]] = {}
        self._client: aiohttp.ClientSession | None = None
        self.url: str | None = None  # set by whoever binds the edge to a socket

    @property
    def speed(self) -> float:
        return self.config.shaping.speed

    # ------------------------------------------------------------------ lifecycle
    async def start(self, app: web.Application) -> None:
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.config.origin_timeout_s),
            headers={ORIGIN_KEY_HEADER: self.config.origin_key} if self.config.origin_key else None,
        )

    async def stop(self, app: web.Application) -> None:
        if self._client is not None:
            await self._client.close()

    async def register_with_control(self, control_url: str, control_key: str) -> None:
        """Announce this edge to the control plane (it health-checks us from then on)."""
        assert self._client is not None and self.url is not None
        async with self._client.post(
            control_url.rstrip("/") + "/edges",
            json={"edge_id": self.config.edge_id, "url": self.url},
            headers={CONTROL_KEY_HEADER: control_key},
        ) as r:
            if r.status != 200:
                raise RuntimeError(f"control plane refused edge {self.config.edge_id}: HTTP {r.status} {await r.text()}")

    # ------------------------------------------------------------------ origin + cache
    async def _fetch_origin(self, key: tuple[Any, ...], path: str, range_header: str | None) -> CachedObject | int:
        assert self._client is not None
        await asyncio.sleep(self.config.backbone_latency_s / self.speed)
        headers = {"Range": range_header} if range_header else None
        try:
            async with self._client.get(self.config.origin_url.rstrip("/") + path, headers=headers) as r:
                if r.status not in (200, 206):
                    return r.status if r.status in (404, 416) else 502
                data = await r.read()
                total = len(data)
                offset = 0
                cr = r.headers.get("Content-Range")
                if r.status == 206 and cr:
                    span, _, total_s = cr.partition(" ")[2].partition("/")
                    offset = int(span.partition("-")[0])
                    total = int(total_s)
                cc = r.headers.get("Cache-Control", "").lower()
                cacheable = "no-cache" not in cc and "no-store" not in cc
                obj = CachedObject(data, r.headers.get("Content-Type", "application/octet-stream"), total, offset, r.headers.get("ETag", ""), cacheable)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as e:
            log.warning("edge %s: origin fetch %s failed: %s", self.config.edge_id, path, e)
            return 502
        self.metrics.origin_fetches += 1
        self.metrics.origin_bytes += len(obj.data)
        self.cache.record_miss_bytes(len(obj.data))
        if obj.cacheable:
            self.cache.put(key, obj, len(obj.data))
        return obj

    async def lookup(self, title: str, parts: list[str], range_header: str | None) -> tuple[CachedObject | int, bool]:
        """The object (from cache or origin) and whether it was a hit; an int is an HTTP
        error status. Concurrent misses for one object share one origin fetch."""
        path = f"/titles/{title}/" + "/".join(parts)
        key: tuple[Any, ...] = (title, *parts)
        fetch_range = None
        if _kind(parts) == "file" and range_header:
            # A single-file rendition is fetched and cached by the ranges players ask for.
            whole = self.cache.peek(key)
            if whole is not None:
                self.cache.get(key)
                return whole, True
            try:
                r = parse_range(range_header, 1 << 62)
            except RangeNotSatisfiable:
                return 416, False
            if r is not None:
                key = (*key, r[0], r[1])
                fetch_range = range_header
        hit = self.cache.get(key)
        if hit is not None:
            return hit, True
        fut = self._inflight.get(key)
        if fut is not None:
            return await asyncio.shield(fut), False
        fut = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            res = await self._fetch_origin(key, path, fetch_range)
            fut.set_result(res)
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # mark retrieved: waiters get it, nobody logs it twice
            raise
        finally:
            del self._inflight[key]
        return res, False

    # ------------------------------------------------------------------ content
    async def _sleep_until(self, wall: float) -> None:
        d = wall - asyncio.get_running_loop().time()
        if d > 0:
            await asyncio.sleep(d)

    async def content(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        mi = request.match_info
        try:
            claims = self.signer.verify(mi.get("token"), mi["title"])
        except TokenError as e:
            return self._forbidden(e.reason)
        parts = [mi["a"]] if "b" not in mi else [mi["a"], mi["b"]]
        kind = _kind(parts)
        fate = self.faults.draw(kind)
        link = self.shaping.get(claims.sid)
        speed = self.speed
        # Trace time of the request and the latency it pays before its first byte.
        t_req = self._request_time(request, link) if link is not None else 0.0
        latency = (link.curve.latency_at(max(0.0, t_req)) if link is not None else 0.0) + fate.delay_s
        got, hit = await self.lookup(mi["title"], parts, request.headers.get("Range"))
        # A miss adds the origin fill (backbone latency + transfer) before the first byte.
        miss_wall = 0.0 if hit else loop.time() - arrived
        if link is not None:
            first_byte_t = t_req + latency + miss_wall * speed
            await self._sleep_until(link.wall(first_byte_t) - TIMER_LEAD_S)
        else:
            first_byte_t = 0.0
            await self._sleep_until(arrived + latency / speed + miss_wall)
        if fate.error:
            self.metrics.count(self.faults.config.error_status)
            return json_error(self.faults.config.error_status, "injected fault", retry=True)
        if isinstance(got, int):
            self.metrics.count(got)
            if got == 416:
                return web.Response(status=416)
            return json_error(got, "no such object" if got == 404 else "origin unavailable")
        obj = got
        # Range over what we hold (a whole object, or exactly the range that was asked).
        start, end, partial = 0, len(obj.data), obj.offset != 0 or len(obj.data) != obj.total_size
        if obj.offset == 0 and len(obj.data) == obj.total_size:
            try:
                r = parse_range(request.headers.get("Range"), obj.total_size)
            except RangeNotSatisfiable:
                self.metrics.count(416)
                return web.Response(status=416, headers={"Content-Range": f"bytes */{obj.total_size}"})
            if r is not None:
                start, end, partial = r[0], r[1], True
        body = memoryview(obj.data)[start:end]
        a = obj.offset + start
        headers = {
            "Content-Type": obj.content_type,
            "Accept-Ranges": "bytes",
            "Cache-Control": "private, max-age=31536000" if obj.cacheable else "no-cache",
            "X-Cache": "HIT" if hit else "MISS",
            "X-Edge": self.config.edge_id,
        }
        if link is not None:
            # When, in the session's trace time, the first byte was due: the player can
            # time its TTFB by the emulated network rather than by when this process got
            # around to sending the headers (a millisecond is a lot at --speed 40).
            headers[FIRST_BYTE_HEADER] = f"{first_byte_t:.6f}"
        if obj.etag:
            headers["ETag"] = obj.etag
        if partial:
            headers["Content-Range"] = f"bytes {a}-{a + len(body) - 1}/{obj.total_size}"
        resp = web.StreamResponse(status=206 if partial else 200, headers=headers)
        resp.content_length = len(body)
        status = resp.status
        self.metrics.requests += 1
        self.metrics.count(status)
        self.metrics.active_transfers += 1
        try:
            await resp.prepare(request)
            if request.method == "HEAD":
                return resp
            await self._send_body(request, resp, body, link, first_byte_t, fate)
            await resp.write_eof()
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            # The client went away (abandoned the download, timed out, failed over):
            # routine for an edge, nothing to log.
            self.metrics.aborted_by_client += 1
            raise _Reset() from None
        finally:
            self.metrics.active_transfers -= 1
        return resp

    async def _send_body(self, request: web.Request, resp: web.StreamResponse, body: memoryview, link: SessionLink | None, first_t: float, fate: Fate) -> None:
        """Send ``body`` (headers are out): unshaped in one write, or through the pacer,
        stopping at the fault injector's reset or stall points."""
        n = len(body)
        marks = sorted(
            (int(at * n), what) for at, what in ((fate.reset_at, "reset"), (fate.stall_at, "stall")) if at is not None
        )
        pos = 0
        not_before = first_t
        for stop, what in [*marks, (n, "end")]:
            if stop > pos:
                if link is None:
                    await resp.write(body[pos:stop])
                    self.metrics.bytes_served += stop - pos
                    pos = stop
                else:
                    # Headers went out through aiohttp; the body goes straight to the
                    # transport, paced (Content-Length is set, nothing is chunked).
                    before = pos
                    try:
                        pos = await self.pacer.send(request.transport, link, body, pos, stop, not_before)
                    finally:
                        self.metrics.bytes_served += pos - before
            if what == "reset":
                reset_connection(request.transport)
                raise _Reset()
            if what == "stall":
                await self._stall(request, fate.stall_s)
                if link is not None:
                    # Capacity during a stall is lost: the rest goes from now.
                    not_before = max(not_before, link.trace_now())

    def _request_time(self, request: web.Request, link: SessionLink) -> float:
        """Trace time at which the request left the player.

        The player stamps its session clock (aligned with this edge's trace clock at
        registration) in ``X-Abrlab-Sent-At``. Counting from there rather than from
        arrival keeps the host's own overhead (a loopback hop, HTTP parsing, a busy
        event loop: a millisecond or so, multiplied by ``speed`` in trace time) out of
        the emulated latency, as a network emulator's delay should be the configured
        one. A stamp more than ``MAX_SENT_SKEW_S`` wall seconds off is ignored (a
        request that really waited that long did wait; a clock that far off is not
        aligned); one slightly ahead of this clock (the two clocks agree only to the
        wall clock's accuracy) counts as now."""
        now_t = link.trace_now()
        raw = request.headers.get(SENT_AT_HEADER)
        if raw is None:
            return now_t
        try:
            sent = float(raw)
        except ValueError:
            return now_t
        if abs(now_t - sent) <= MAX_SENT_SKEW_S * self.speed:
            return min(sent, now_t)
        return now_t

    async def _stall(self, request: web.Request, stall_s: float | None) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + (stall_s / self.speed if stall_s is not None else 3600.0)
        while loop.time() < end:
            t = request.transport
            if t is None or t.is_closing():
                raise ConnectionResetError("client went away during a stall")
            await asyncio.sleep(min(0.05, max(0.0, end - loop.time())))

    def _forbidden(self, reason: str) -> web.Response:
        self.metrics.forbidden[reason] = self.metrics.forbidden.get(reason, 0) + 1
        self.metrics.count(403)
        return json_error(403, f"token {reason}")

    async def no_token(self, request: web.Request) -> web.Response:
        return self._forbidden("missing")

    # ------------------------------------------------------------------ sessions
    async def register_session(self, request: web.Request) -> web.Response:
        try:
            claims = self.signer.verify(request.match_info.get("token"))
        except TokenError as e:
            return self._forbidden(e.reason)
        body = await read_json(request)
        if not isinstance(body, dict) or "trace" not in body:
            return json_error(400, 'body must be {"trace": [...Sabre JSON entries...], "elapsed_s": ..., "speed": ...}')
        speed = body.get("speed", self.speed)
        if not isinstance(speed, (int, float)) or abs(float(speed) - self.speed) > 1e-9 * max(1.0, self.speed):
            return json_error(409, f"this edge shapes at speed {self.speed:g}, not {speed!r}", speed=self.speed)
        elapsed = body.get("elapsed_s", 0.0)
        if not isinstance(elapsed, (int, float)) or elapsed < 0:
            return json_error(400, "elapsed_s must be a number >= 0")
        origin = body.get("origin_unix_s")
        if origin is not None:
            now_unix = time.time()
            if not isinstance(origin, (int, float)) or not now_unix - 86400.0 <= origin <= now_unix + 1.0:
                return json_error(400, "origin_unix_s must be a Unix time within the last day")
        name = str(body.get("name") or "trace")
        try:
            trace = trace_from_entries(body["trace"], name)
        except TraceError as e:
            return json_error(400, str(e))
        try:
            link = self.shaping.register(claims.sid, trace, float(elapsed), None if origin is None else float(origin))
        except OverflowError as e:
            return json_error(503, str(e))
        return web.json_response(
            {"session_id": claims.sid, "edge_id": self.config.edge_id, "speed": self.speed,
             "trace": trace.name, "trace_sha256": trace.sha256, "entries": trace.n_entries,
             "trace_time_s": link.trace_now()}
        )

    async def drop_session(self, request: web.Request) -> web.Response:
        try:
            claims = self.signer.verify(request.match_info.get("token"))
        except TokenError as e:
            return self._forbidden(e.reason)
        return web.json_response({"dropped": self.shaping.drop(claims.sid)})

    # ------------------------------------------------------------------ health, metrics
    def load(self) -> dict[str, Any]:
        return {
            "active_transfers": self.metrics.active_transfers,
            "sessions": len(self.shaping),
            "bytes_per_s": self.metrics.sample_rate(),
        }

    async def time_now(self, request: web.Request) -> web.Response:
        """The origin's live clock, relayed as it is (no modelled backbone delay: a real
        edge answers from its own NTP-disciplined clock). Public, like ``/health``: a
        time stamp is not content."""
        assert self._client is not None
        try:
            async with self._client.get(self.config.origin_url.rstrip("/") + "/time") as r:
                if r.status != 200:
                    return json_error(502, f"origin time source answered HTTP {r.status}")
                text = await r.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            return json_error(502, f"origin time source unreachable: {type(e).__name__}")
        return web.Response(text=text, content_type="text/plain", headers={"Cache-Control": "no-store"})

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "edge_id": self.config.edge_id, "speed": self.speed, **self.load()})

    def metrics_dict(self) -> dict[str, Any]:
        m = self.metrics
        return {
            "edge_id": self.config.edge_id,
            "requests": m.requests,
            "status": dict(m.status),
            "bytes_served": m.bytes_served,
            "forbidden": dict(m.forbidden),
            "origin_fetches": m.origin_fetches,
            "origin_bytes": m.origin_bytes,
            "aborted_by_client": m.aborted_by_client,
            "cache": {**self.cache.stats.to_dict(), "used_bytes": self.cache.used_bytes, "capacity_bytes": self.cache.capacity_bytes, "objects": len(self.cache)},
            "faults_injected": dict(self.faults.injected),
            "pacer": {"tick_s": self.pacer.tick_s, "ticks": self.pacer.ticks, "late_ticks": self.pacer.late_ticks, "active_flows": self.pacer.active},
            **self.load(),
        }

    async def metrics_handler(self, request: web.Request) -> web.Response:
        d = self.metrics_dict()
        if request.query.get("format") == "prometheus":
            lines = []
            eid = self.config.edge_id
            flat = {
                "abrlab_edge_requests_total": d["requests"],
                "abrlab_edge_bytes_served_total": d["bytes_served"],
                "abrlab_edge_cache_hits_total": d["cache"]["hits"],
                "abrlab_edge_cache_misses_total": d["cache"]["misses"],
                "abrlab_edge_cache_hit_ratio": d["cache"]["hit_ratio"],
                "abrlab_edge_cache_byte_hit_ratio": d["cache"]["byte_hit_ratio"],
                "abrlab_edge_cache_used_bytes": d["cache"]["used_bytes"],
                "abrlab_edge_origin_bytes_total": d["origin_bytes"],
                "abrlab_edge_active_transfers": d["active_transfers"],
                "abrlab_edge_sessions": d["sessions"],
            }
            for k, v in flat.items():
                lines.append(f'{k}{{edge="{eid}"}} {v}')
            return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")
        return web.json_response(d)

    # ------------------------------------------------------------------ admin
    def _admin_ok(self, request: web.Request) -> bool:
        given = request.headers.get(ADMIN_KEY_HEADER, "")
        return hmac.compare_digest(given.encode(), self.config.admin_key.encode())

    async def get_faults(self, request: web.Request) -> web.Response:
        if not self._admin_ok(request):
            return json_error(403, "admin key required")
        return web.json_response({**self.faults.config.to_dict(), "injected": self.faults.injected})

    async def put_faults(self, request: web.Request) -> web.Response:
        if not self._admin_ok(request):
            return json_error(403, "admin key required")
        body = await read_json(request)
        try:
            # PUT replaces; POST updates the fields given.
            cfg = FaultConfig.from_dict(body, None if request.method == "PUT" else self.faults.config)
        except (FaultError, TypeError) as e:
            return json_error(400, str(e))
        self.faults.set(cfg)
        return web.json_response(cfg.to_dict())

    async def prefill(self, request: web.Request) -> web.Response:
        if not self._admin_ok(request):
            return json_error(403, "admin key required")
        body = await read_json(request)
        title = body.get("title") if isinstance(body, dict) else None
        layout = body.get("layout", "files") if isinstance(body, dict) else None
        if not isinstance(title, str) or layout not in ("files", "ranges", "both"):
            return json_error(400, 'body must be {"title": NAME, "layout": "files" | "ranges" | "both"}')
        assert self._client is not None
        async with self._client.get(self.config.origin_url.rstrip("/") + f"/catalog/{title}") as r:
            if r.status != 200:
                return json_error(404 if r.status == 404 else 502, f"origin has no title {title!r}")
            info = await r.json()
        paths = [["manifest.mpd"], ["manifest-list.mpd"], ["master.m3u8"], ["master-br.m3u8"]]
        n_seg = int(info["segments"])
        for rend in info["video"] + info.get("audio", []):
            rid = rend["id"]
            paths += [[rid, "media.m3u8"], [rid, "media-br.m3u8"]]
            if layout in ("files", "both"):
                paths += [[rid, "init.mp4"]] + [[rid, f"{k}.m4s"] for k in range(1, n_seg + 1)]
            if layout in ("ranges", "both"):
                # The whole single file: byte-range requests of that layout slice it.
                paths.append([rid, "all.mp4"])
        sem = asyncio.Semaphore(8)
        bytes_before = self.metrics.origin_bytes

        async def one(p: list[str]) -> None:
            async with sem:
                if self.cache.peek((title, *p)) is None:
                    await self.lookup(title, p, None)

        await asyncio.gather(*(one(p) for p in paths))
        return web.json_response({"title": title, "objects": len(paths), "fetched_bytes": self.metrics.origin_bytes - bytes_before, "cache_used_bytes": self.cache.used_bytes})

    async def sessions(self, request: web.Request) -> web.Response:
        if not self._admin_ok(request):
            return json_error(403, "admin key required")
        out = []
        for sid, l in list(self.shaping._links.items()):
            out.append({"session_id": sid, "trace": l.name, "trace_time_s": l.trace_now(), "busy_until_s": l.busy_until, "bytes_sent": l.bytes_sent})
        return web.json_response({"sessions": out})

    @web.middleware
    async def down_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.faults.down and not request.path.startswith("/_admin/"):
            reset_connection(request.transport)
            raise _Reset()
        return await handler(request)

    @web.middleware
    async def reset_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except _Reset:
            # The connection is gone; aiohttp has nothing left to write to.
            raise asyncio.CancelledError() from None


def make_edge_app(edge: Edge) -> web.Application:
    cfg = edge.config
    app = web.Application(
        client_max_size=cfg.max_body_bytes,
        middlewares=[edge.reset_middleware, body_limit_middleware(cfg.max_body_bytes), edge.down_middleware],
    )
    app[EDGE_KEY] = edge
    app.on_startup.append(edge.start)
    app.on_cleanup.append(edge.stop)
    r = app.router
    titles = f"/titles/{{title:{COMPONENT}}}/{{a:{COMPONENT}}}"
    for prefix in (f"/t/{{token:{TOKEN_RE}}}", ""):
        handler = edge.content if prefix else edge.no_token
        for path in (prefix + titles, prefix + titles + f"/{{b:{COMPONENT}}}"):
            r.add_route("GET", path, handler)
            r.add_route("HEAD", path, handler)
    r.add_post(f"/t/{{token:{TOKEN_RE}}}/session", edge.register_session)
    r.add_delete(f"/t/{{token:{TOKEN_RE}}}/session", edge.drop_session)
    r.add_post("/session", edge.no_token)
    r.add_delete("/session", edge.no_token)
    r.add_get("/health", edge.health)
    r.add_get("/time", edge.time_now)
    r.add_get("/metrics", edge.metrics_handler)
    r.add_get("/_admin/faults", edge.get_faults)
    r.add_put("/_admin/faults", edge.put_faults)
    r.add_post("/_admin/faults", edge.put_faults)
    r.add_post("/_admin/prefill", edge.prefill)
    r.add_get("/_admin/sessions", edge.sessions)
    return app
