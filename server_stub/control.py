"""The control plane: playback API, edge registry and health checks, steering, signing.

Routes::

    POST   /playback          (API key) {title, client_id?, device?, network?, session_id?}
    GET    /edges             (API key) edges and their health
    POST   /edges             (control key) an edge registers {edge_id, url}
    DELETE /edges/{edge_id}   (control key)
    GET    /health

``POST /playback`` answers with the session id, the ABR recommendation, and the
manifest URLs on every healthy edge, ranked (steering). Every URL carries a token signed
for this session and title (``server_stub.tokens``) that the edges verify.

Steering: edges that failed ``fail_threshold`` health checks in a row are out. The rest
are ranked by load (active transfers plus shaped sessions at the last health check),
counted in buckets of ``load_bucket`` so that small differences do not move clients
around, then by rendezvous (highest-random-weight) hashing of client id and edge id, so
a client keeps landing on the same edge and its cache stays warm (Thaler & Ravishankar,
"Using name-based mappings to increase hit rates", IEEE/ACM ToN 1998).

The ABR recommendation is the configured default until a recommender answers here.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from server_stub.edge import CONTROL_KEY_HEADER
from server_stub.httputil import body_limit_middleware, json_error, read_json
from server_stub.origin import ORIGIN_KEY_HEADER
from server_stub.tokens import Signer

log = logging.getLogger("abrlab.control")

API_KEY_HEADER = "X-API-Key"
CONTROL_APP_KEY = web.AppKey("control", "ControlPlane")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MANIFESTS = {
    "dash": "manifest.mpd",
    "dash_ranges": "manifest-list.mpd",
    "hls": "master.m3u8",
    "hls_ranges": "master-br.m3u8",
    "native": "title.json",
}


@dataclass
class ControlConfig:
    secret: str
    api_keys: list[str]
    control_key: str
    origin_url: str
    origin_key: str | None = None
    token_ttl_s: float = 3600.0
    abr_default: str = "bola"
    speed: float = 1.0
    health_interval_s: float = 1.0
    health_timeout_s: float = 1.0
    fail_threshold: int = 2
    load_bucket: int = 20
    max_body_bytes: int = 16 * 1024


@dataclass
class EdgeState:
    edge_id: str
    url: str
    healthy: bool = True
    fails: int = 0
    checks: int = 0
    last_ok: float = field(default_factory=time.time)
    load: dict[str, Any] = field(default_factory=dict)

    @property
    def load_score(self) -> float:
        return float(self.load.get("active_transfers", 0)) + float(self.load.get("sessions", 0))

    def to_dict(self) -> dict[str, Any]:
        return {"edge_id": self.edge_id, "url": self.url, "healthy": self.healthy, "consecutive_failures": self.fails, "load": self.load}


def rendezvous(client_id: str, edge_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{client_id}|{edge_id}".encode(), digest_size=8).digest(), "big")


class ControlPlane:
    def __init__(self, config: ControlConfig) -> None:
        if not config.api_keys:
            raise ValueError("the control plane needs at least one API key")
        self.config = config
        self.signer = Signer(config.secret)
        self.edges: dict[str, EdgeState] = {}
        self._titles: set[str] = set()
        self._client: aiohttp.ClientSession | None = None
        self._checker: asyncio.Task[None] | None = None
        self.playbacks = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self, app: web.Application) -> None:
        self._client = aiohttp.ClientSession()
        self._checker = asyncio.create_task(self._health_loop())

    async def stop(self, app: web.Application) -> None:
        if self._checker is not None:
            self._checker.cancel()
            try:
                await self._checker
            except asyncio.CancelledError:
                pass
        if self._client is not None:
            await self._client.close()

    # ------------------------------------------------------------------ health checks
    async def check_edge(self, e: EdgeState) -> None:
        assert self._client is not None
        timeout = aiohttp.ClientTimeout(total=self.config.health_timeout_s)
        try:
            async with self._client.get(e.url.rstrip("/") + "/health", timeout=timeout) as r:
                ok = r.status == 200
                body = await r.json() if ok else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            ok, body = False, {}
        e.checks += 1
        if ok:
            e.fails = 0
            e.healthy = True
            e.last_ok = time.time()
            e.load = {k: body.get(k) for k in ("active_transfers", "sessions", "bytes_per_s")}
        else:
            e.fails += 1
            if e.fails >= self.config.fail_threshold and e.healthy:
                log.warning("edge %s failed %d health checks: out of steering", e.edge_id, e.fails)
                e.healthy = False

    async def check_all(self) -> None:
        await asyncio.gather(*(self.check_edge(e) for e in list(self.edges.values())))

    async def _health_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_t = loop.time()
        while True:
            await self.check_all()
            next_t += self.config.health_interval_s
            await asyncio.sleep(max(0.0, next_t - loop.time()))

    # ------------------------------------------------------------------ steering
    def ranked_edges(self, client_id: str) -> list[EdgeState]:
        b = max(1, self.config.load_bucket)
        healthy = [e for e in self.edges.values() if e.healthy]
        return sorted(healthy, key=lambda e: (int(e.load_score // b), -rendezvous(client_id, e.edge_id)))

    async def known_title(self, name: str) -> bool:
        if name in self._titles:
            return True
        assert self._client is not None
        headers = {ORIGIN_KEY_HEADER: self.config.origin_key} if self.config.origin_key else None
        try:
            async with self._client.get(self.config.origin_url.rstrip("/") + "/catalog", headers=headers) as r:
                if r.status == 200:
                    self._titles = {t["name"] for t in (await r.json())["titles"]}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError):
            raise web.HTTPBadGateway(text='{"error": "origin catalog unavailable"}', content_type="application/json") from None
        return name in self._titles

    # ------------------------------------------------------------------ handlers
    def _api_key_ok(self, request: web.Request) -> bool:
        given = request.headers.get(API_KEY_HEADER)
        if given is None:
            auth = request.headers.get("Authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
        if not given:
            return False
        return any(hmac.compare_digest(given.encode(), k.encode()) for k in self.config.api_keys)

    def _control_key_ok(self, request: web.Request) -> bool:
        given = request.headers.get(CONTROL_KEY_HEADER, "")
        return hmac.compare_digest(given.encode(), self.config.control_key.encode())

    async def playback(self, request: web.Request) -> web.Response:
        if not self._api_key_ok(request):
            return json_error(401, "missing or unknown API key", header=API_KEY_HEADER)
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_error(400, "body must be a JSON object")
        title = body.get("title")
        if not isinstance(title, str) or not _ID_RE.match(title):
            return json_error(400, "title: a title name is required")
        client_id = body.get("client_id") or uuid.uuid4().hex[:12]
        if not isinstance(client_id, str) or len(client_id) > 128:
            return json_error(400, "client_id must be a string of at most 128 characters")
        for key in ("device", "network"):
            if key in body and not isinstance(body[key], dict):
                return json_error(400, f"{key} must be a JSON object")
        sid = body.get("session_id") or uuid.uuid4().hex[:16]
        if not isinstance(sid, str) or not _ID_RE.match(sid):
            return json_error(400, "session_id must be letters, digits, _ or - (at most 64)")
        if not await self.known_title(title):
            return json_error(404, f"no title {title!r} in the catalog")
        ranked = self.ranked_edges(client_id)
        if not ranked:
            return json_error(503, "no healthy edge")
        token = self.signer.sign(sid, title, self.config.token_ttl_s)
        exp = int(token.split(".")[1])
        edges = []
        for e in ranked:
            base = f"{e.url.rstrip('/')}/t/{token}"
            edges.append(
                {
                    "edge_id": e.edge_id,
                    "base_url": base,
                    "session_url": f"{base}/session",
                    "manifests": {k: f"{base}/titles/{title}/{v}" for k, v in MANIFESTS.items()},
                    "load": e.load,
                }
            )
        self.playbacks += 1
        return web.json_response(
            {
                "session_id": sid,
                "client_id": client_id,
                "title": title,
                "expires_at": exp,
                "speed": self.config.speed,
                "abr": {"spec": self.config.abr_default, "source": "default"},
                "edges": edges,
            }
        )

    async def list_edges(self, request: web.Request) -> web.Response:
        if not self._api_key_ok(request):
            return json_error(401, "missing or unknown API key", header=API_KEY_HEADER)
        return web.json_response({"edges": [e.to_dict() for e in self.edges.values()]})

    async def register_edge(self, request: web.Request) -> web.Response:
        if not self._control_key_ok(request):
            return json_error(403, "control key required")
        body = await read_json(request)
        if not isinstance(body, dict):
            return json_error(400, "body must be a JSON object")
        eid, url = body.get("edge_id"), body.get("url")
        if not isinstance(eid, str) or not _ID_RE.match(eid) or not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return json_error(400, 'body must be {"edge_id": ID, "url": "http://..."}')
        self.edges[eid] = EdgeState(eid, url)
        log.info("edge %s registered at %s", eid, url)
        return web.json_response({"edge_id": eid, "registered": True})

    async def unregister_edge(self, request: web.Request) -> web.Response:
        if not self._control_key_ok(request):
            return json_error(403, "control key required")
        return web.json_response({"removed": self.edges.pop(request.match_info["edge_id"], None) is not None})

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "edges": len(self.edges), "healthy_edges": sum(e.healthy for e in self.edges.values())})


def make_control_app(cp: ControlPlane) -> web.Application:
    limit = cp.config.max_body_bytes
    app = web.Application(client_max_size=limit, middlewares=[body_limit_middleware(limit)])
    app[CONTROL_APP_KEY] = cp
    app.on_startup.append(cp.start)
    app.on_cleanup.append(cp.stop)
    app.router.add_post("/playback", cp.playback)
    app.router.add_get("/edges", cp.list_edges)
    app.router.add_post("/edges", cp.register_edge)
    app.router.add_delete("/edges/{edge_id}", cp.unregister_edge)
    app.router.add_get("/health", cp.health)
    return app
