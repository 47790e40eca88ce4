"""Small HTTP pieces every stub service shares: body limits, JSON errors, object responses."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from aiohttp import web

from server_stub.objects import Object, RangeNotSatisfiable, parse_range

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Bodies we accept: control-plane requests are tiny; a trace registration carries a
# trace (hsdpa3g's longest is ~80 kB as Sabre JSON).
DEFAULT_MAX_BODY_BYTES = 64 * 1024


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def body_limit_middleware(max_bytes: int) -> Any:
    """413 before reading a body whose declared length is over the limit; aiohttp's own
    ``client_max_size`` (set to the same limit) catches chunked bodies while reading."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        n = request.content_length
        if n is not None and n > max_bytes:
            return json_error(413, f"request body of {n} bytes is over the {max_bytes}-byte limit")
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return json_error(413, f"request body is over the {max_bytes}-byte limit")

    return limit


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, or an HTTP 400 naming the problem."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise
    try:
        return json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"body is not valid JSON ({e})"}), content_type="application/json") from None


def range_of(request: web.Request, obj: Object) -> tuple[int, int, bool]:
    """``(start, end, partial)`` for the request's Range over ``obj``; raises 416."""
    try:
        r = parse_range(request.headers.get("Range"), obj.size)
    except RangeNotSatisfiable:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{obj.size}"}) from None
    if r is None:
        return 0, obj.size, False
    return r[0], r[1], True


def object_headers(obj: Object, start: int, end: int, partial: bool, etag: str, cache_control: str | None = None) -> dict[str, str]:
    h = {
        "Content-Type": obj.content_type,
        "Accept-Ranges": "bytes",
        "ETag": etag,
        # Titles are immutable once published; manifests of VOD titles too.
        "Cache-Control": cache_control or "public, max-age=31536000, immutable",
    }
    if partial:
        h["Content-Range"] = f"bytes {start}-{end - 1}/{obj.size}"
    return h


def object_response(request: web.Request, obj: Object, etag: str, cache_control: str | None = None) -> web.Response:
    start, end, partial = range_of(request, obj)
    headers = object_headers(obj, start, end, partial, etag, cache_control)
    body = b"" if request.method == "HEAD" else obj.read(start, end)
    resp = web.Response(status=206 if partial else 200, body=body, headers=headers)
    if request.method == "HEAD":
        resp.content_length = end - start
    return resp
