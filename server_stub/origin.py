"""The origin: the catalog's titles as manifests and segment bytes, unshaped.

Edges fill their caches from here; players normally never talk to it (the control
plane hands out edge URLs), but nothing stops a test from playing straight off it.
When an ``origin_key`` is configured, every request except ``/health`` must carry it
in ``X-Abrlab-Origin-Key`` (edges do), so the origin is not an open side door.

Routes::

    GET /health
    GET /catalog                         titles and their ladders
    GET /catalog/{title}                 one title, with per-segment sizes
    GET|HEAD /titles/{title}/{object}    see ``server_stub.objects`` for the layout
"""

from __future__ import annotations

import hmac
import time

from aiohttp import web

from server_stub.catalog import Catalog, CatalogTitle, LiveClock
from server_stub.manifests import utc_instant
from server_stub.httputil import DEFAULT_MAX_BODY_BYTES, Handler, body_limit_middleware, json_error, object_response
from server_stub.objects import COMPONENT, Object, resolve

ORIGIN_KEY_HEADER = "X-Abrlab-Origin-Key"

ORIGIN_KEY = web.AppKey("origin", "Origin")


class Origin:
    """Catalog plus a memo of resolved objects (manifests are generated once)."""

    def __init__(self, catalog: Catalog, origin_key: str | None = None, live_clock: LiveClock | None = None) -> None:
        self.catalog = catalog
        self.origin_key = origin_key
        # Live titles start when the origin does (unless a clock is given).
        self.live_clock = live_clock or LiveClock(time.time())
        self._memo: dict[tuple[str, ...], Object] = {}
        self.requests = 0
        self.bytes_served = 0

    def lookup(self, title_name: str, parts: list[str]) -> tuple[CatalogTitle, Object] | None:
        title = self.catalog.get(title_name)
        if title is None:
            return None
        if title.live:
            state = self.live_clock.state(title.video)
            if not state.ended:
                # Live manifests change as segments appear: nothing is memoised.
                obj = resolve(title, parts, state)
                return None if obj is None else (title, obj)
        key = (title_name, *parts)
        obj = self._memo.get(key)
        if obj is None:
            obj = resolve(title, parts)
            if obj is None:
                return None
            if obj.kind in ("manifest", "info"):
                self._memo[key] = obj
        return title, obj

    # ------------------------------------------------------------------ handlers
    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "titles": len(self.catalog)})

    async def time_now(self, request: web.Request) -> web.Response:
        """The live clock as an ISO 8601 instant with milliseconds: the time source the
        live MPDs name in ``UTCTiming`` (scheme ``http-iso``). Public, like ``/health``."""
        return web.Response(text=utc_instant(self.live_clock.now_unix()), content_type="text/plain",
                            headers={"Cache-Control": "no-store"})

    async def catalog_list(self, request: web.Request) -> web.Response:
        return web.json_response({"titles": [t.describe() for t in self.catalog]})

    async def catalog_one(self, request: web.Request) -> web.Response:
        t = self.catalog.get(request.match_info["title"])
        if t is None:
            return json_error(404, "no such title")
        return web.json_response(t.describe(sizes=True))

    async def serve(self, request: web.Request) -> web.Response:
        mi = request.match_info
        parts = [mi["a"]] if "b" not in mi else [mi["a"], mi["b"]]
        hit = self.lookup(mi["title"], parts)
        if hit is None:
            return json_error(404, "no such object")
        title, obj = hit
        etag = f'"{title.name}-{"-".join(parts)}-{obj.size}"'
        live_manifest = title.live and obj.kind == "manifest"
        # A live manifest must be fetched again every time (edges do not cache it).
        resp = object_response(request, obj, etag, "no-cache" if live_manifest else None)
        self.requests += 1
        self.bytes_served += resp.content_length or 0
        return resp

    @web.middleware
    async def check_key(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.origin_key and request.path not in ("/health", "/time"):
            given = request.headers.get(ORIGIN_KEY_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.origin_key.encode()):
                return json_error(403, "origin access needs the edge key")
        return await handler(request)


def add_title_routes(router: web.UrlDispatcher, prefix: str, handler: Handler) -> None:
    """``{prefix}/titles/{title}/{a}`` and ``.../{a}/{b}``, GET and HEAD."""
    base = f"{prefix}/titles/{{title:{COMPONENT}}}/{{a:{COMPONENT}}}"
    for path in (base, base + f"/{{b:{COMPONENT}}}"):
        router.add_route("GET", path, handler)
        router.add_route("HEAD", path, handler)


def make_origin_app(origin: Origin, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> web.Application:
    app = web.Application(
        client_max_size=max_body_bytes,
        middlewares=[body_limit_middleware(max_body_bytes), origin.check_key],
    )
    app[ORIGIN_KEY] = origin
    app.router.add_get("/health", origin.health)
    app.router.add_get("/time", origin.time_now)
    app.router.add_get("/catalog", origin.catalog_list)
    app.router.add_get(f"/catalog/{{title:{COMPONENT}}}", origin.catalog_one)
    add_title_routes(app.router, "", origin.serve)
    return app
