"""Reading a manifest from a file or URL (the one place in this package that does I/O).

URLs are fetched with aiohttp, bounded in size and time; local files are read directly.
Sub-resources (sidx ranges, HLS media playlists) go through :mod:`player.manifest.resolve`
with a fetcher built here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from player.manifest import parse_manifest
from player.manifest.errors import DEFAULT_LIMITS, Limits, ManifestError
from player.manifest.model import Manifest
from player.manifest.urls import is_remote

FETCH_TIMEOUT_S = 20.0


async def fetch_bytes(session, url: str, byte_range: tuple[int, int] | None = None, *, max_bytes: int = DEFAULT_LIMITS.max_bytes) -> bytes:  # type: ignore[no-untyped-def]
    """GET ``url`` (optionally a byte range) with aiohttp; a ManifestError on any failure."""
    import aiohttp

    headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else {}
    try:
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)) as resp:
            if resp.status >= 400:
                raise ManifestError(f"HTTP {resp.status} {resp.reason or ''}".strip(), url)
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise ManifestError(f"response of {resp.content_length} bytes is over the {max_bytes}-byte limit", url)
            body = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                body += chunk
                if len(body) > max_bytes:
                    raise ManifestError(f"response is over the {max_bytes}-byte limit", url)
            if byte_range and resp.status == 200:
                # The server ignored Range: take the slice ourselves.
                body = body[byte_range[0]:byte_range[1] + 1]
            return bytes(body)
    except ManifestError:
        raise
    except asyncio.TimeoutError:
        raise ManifestError(f"timed out after {FETCH_TIMEOUT_S:g} s", url) from None
    except aiohttp.ClientError as e:
        raise ManifestError(f"cannot fetch ({type(e).__name__}: {e})", url) from None


def read_local(path: str, byte_range: tuple[int, int] | None = None, max_bytes: int = DEFAULT_LIMITS.max_bytes) -> bytes:
    p = Path(urlsplit(path).path) if path.startswith("file:") else Path(path)
    try:
        size = p.stat().st_size
        if byte_range is None and size > max_bytes:
            raise ManifestError(f"file is {size} bytes, over the {max_bytes}-byte limit", path)
        with p.open("rb") as f:
            if byte_range is None:
                return f.read()
            f.seek(byte_range[0])
            return f.read(byte_range[1] - byte_range[0] + 1)
    except FileNotFoundError:
        raise ManifestError("no such file", path) from None
    except IsADirectoryError:
        raise ManifestError("is a directory, not a manifest", path) from None
    except OSError as e:
        raise ManifestError(f"cannot read ({e.strerror or e})", path) from None


async def load_manifest_async(source: str, *, limits: Limits = DEFAULT_LIMITS) -> Manifest:
    """Fetch (URL) or read (path) and parse a manifest."""
    if is_remote(source):
        import aiohttp

        async with aiohttp.ClientSession() as session:
            data = await fetch_bytes(session, source, max_bytes=limits.max_bytes)
        return parse_manifest(data, source, limits=limits)
    return parse_manifest(read_local(source, max_bytes=limits.max_bytes), source, limits=limits)


def load_manifest(source: str, *, limits: Limits = DEFAULT_LIMITS) -> Manifest:
    """Blocking wrapper of :func:`load_manifest_async` (CLI, notebooks)."""
    if is_remote(source):
        return asyncio.run(load_manifest_async(source, limits=limits))
    return parse_manifest(read_local(source, max_bytes=limits.max_bytes), source, limits=limits)
