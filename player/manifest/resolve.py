"""Sub-resources a manifest needs before every segment is known, sans-I/O.

First, a DASH MPD's remote Periods (``xlink:href``, ``player.manifest.xlink``) are fetched
and the MPD re-read with them in place. Then two things need a fetch: a DASH SegmentBase's ``sidx`` (``indexRange``,
``RepresentationIndex``, or no index at all: then the file head is searched for one) and
an HLS master's media playlists. ``Manifest.pending()`` lists them as
:class:`~player.manifest.model.PendingFetch`; :func:`apply_fetch` takes the bytes a driver
fetched and fills the Representation in (possibly asking for one more fetch: a
hierarchical sidx, a file head to search further). :func:`resolve_manifest` and
:func:`resolve_manifest_async` loop that with an injected fetcher, bounded by
``Limits.max_fetches``, so parsing never does I/O itself and tests can feed bytes.
"""

from __future__ import annotations

import asyncio
from dataclasses import fields as dataclass_fields
from typing import Awaitable, Callable, Iterator

from player.manifest.errors import DEFAULT_LIMITS, Limits, ManifestError
from player.manifest.model import ListLocator, Manifest, PendingFetch, Representation, Segments
from player.manifest.sidx import parse_sidx, scan_for_sidx
from player.manifest.urls import is_remote
from player.manifest.xlink import MAX_DEPTH, RemoteElement, fragment_problem, remote_elements, splice

Fetcher = Callable[[str, "tuple[int, int] | None"], bytes]
AsyncFetcher = Callable[[str, "tuple[int, int] | None"], Awaitable[bytes]]


def apply_fetch(m: Manifest, rep: Representation, pending: PendingFetch, body: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Use the bytes fetched for ``pending`` (which must be ``rep.pending``)."""
    if rep.pending is not pending:
        raise ValueError("apply_fetch: this fetch is not pending for that Representation")
    rep.pending = None
    depth = int(rep.extra.get("fetch_depth", 0)) + 1
    rep.extra["fetch_depth"] = depth
    if depth > limits.max_sidx_depth + 8:
        raise ManifestError("too many index fetches for one Representation", m.source, pending.where)
    if pending.purpose == "media-playlist":
        _apply_playlist(m, rep, pending, body, limits)
    elif pending.purpose == "sidx":
        _apply_sidx(m, rep, pending, body, limits, depth)
    elif pending.purpose == "sidx-search":
        start = pending.byte_range[0] if pending.byte_range else 0
        scan = scan_for_sidx(body, start, pending.where, pending.url)
        if scan.sidx is not None:
            _segments_from_sidx(m, rep, pending, [scan.sidx], limits, depth)
        elif scan.need_range is not None and len(body) >= (pending.byte_range[1] - pending.byte_range[0] + 1 if pending.byte_range else 0):
            rep.pending = PendingFetch(pending.url, scan.need_range, "sidx-search", pending.where)
        else:
            _single_segment(m, rep)
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown fetch purpose {pending.purpose}")


def _single_segment(m: Manifest, rep: Representation) -> None:
    period = next((p for p in m.periods for a in p.adaptation_sets if rep in a.representations), None)
    dur = period.duration_s if period is not None else None
    if dur is None:
        raise ManifestError("no index and a Period of unknown length: segment timing unknown", m.source, rep.where)
    segs = Segments([dur], ListLocator(None, None, url=rep.media_url), init=rep.init, kind="single")
    segs.nominal_duration_s = dur
    rep.segments = segs


def _apply_sidx(m: Manifest, rep: Representation, pending: PendingFetch, body: bytes, limits: Limits, depth: int) -> None:
    offset = pending.byte_range[0] if pending.byte_range else 0
    boxes = []
    pos = 0
    while pos < len(body) and len(boxes) < 65536:
        box = parse_sidx(body[pos:], offset + pos, pending.where, pending.url)
        boxes.append(box)
        pos = box.box_offset - offset + box.box_size
        if all(not r.is_index for r in box.references) and "children" not in rep.extra:
            break
        if pos + 8 > len(body):
            break
    _segments_from_sidx(m, rep, pending, boxes, limits, depth)


def _segments_from_sidx(m: Manifest, rep: Representation, pending: PendingFetch, boxes: list, limits: Limits, depth: int) -> None:
    refs = [r for b in boxes for r in b.references]
    index_refs = [r for r in refs if r.is_index]
    if index_refs:
        if depth > limits.max_sidx_depth:
            raise ManifestError(f"sidx nests deeper than {limits.max_sidx_depth} levels", pending.url, pending.where)
        if len(index_refs) != len(refs):
            raise ManifestError("sidx mixes media and index references", pending.url, pending.where)
        rep.extra["children"] = True
        rep.pending = PendingFetch(pending.url, (index_refs[0].offset, index_refs[-1].byte_range[1]), "sidx", pending.where)
        return
    if len(refs) > limits.max_segments:
        raise ManifestError(f"sidx lists {len(refs)} segments (limit {limits.max_segments})", pending.url, pending.where)
    if not refs:
        raise ManifestError("sidx lists no segments", pending.url, pending.where)
    durations, ranges = [], []
    for b in boxes:
        for r in b.references:
            durations.append(r.duration / b.timescale)
            ranges.append(r.byte_range)
    media_url = rep.media_url or pending.url
    segs = Segments(durations, ListLocator(None, ranges, url=media_url), init=rep.init, kind="sidx",
                    sizes_bytes=[b - a + 1 for a, b in ranges], timescale=boxes[0].timescale)
    segs.nominal_duration_s = max(durations)
    rep.segments = segs


def _apply_playlist(m: Manifest, rep: Representation, pending: PendingFetch, body: bytes, limits: Limits) -> None:
    from player.manifest.hls import parse_m3u8

    sub = parse_m3u8(body, pending.url, limits=limits, variables=m.extra.get("variables"))
    if sub.kind != "media":
        raise ManifestError("a variant URI points at another master playlist", pending.url)
    src = sub.periods[0].adaptation_sets[0].representations[0]
    rep.segments = src.segments
    rep.extra["playlist"] = sub
    for w in sub.warnings:
        m.warn(f"{pending.url}: {w}")
    if m.kind == "master" and m.is_live is None:
        m.is_live = sub.is_live
        m.target_duration_s = sub.target_duration_s
        if not sub.is_live:
            m.duration_s = sub.duration_s


def _xlink_todo(m: Manifest) -> list[RemoteElement]:
    data = m.extra.get("mpd_bytes")
    if m.format != "dash" or data is None:
        return []
    failed = m.extra.get("xlink_failed", set())
    return [rp for rp in remote_elements(data, m.url) if rp.url not in failed]


def _xlink_apply(m: Manifest, todo: list[RemoteElement], results: list[bytes | BaseException], limits: Limits) -> None:
    """Re-read ``m`` with each fetched remote element in place (``m`` is updated in place,
    so every holder of it sees the resolved presentation)."""
    from player.manifest.dash import parse_mpd

    fetched: dict[RemoteElement, bytes] = {}
    failed: list[str] = []
    failed_urls = set(m.extra.get("xlink_failed", set()))  # never asked for twice
    for rp, body in zip(todo, results):
        if isinstance(body, BaseException):
            failed.append(f"remote {rp.kind} {rp.href!r} could not be fetched ({' '.join(str(body).split()) or type(body).__name__}); its content is unknown")
        elif (problem := fragment_problem(body, rp.kind)) is not None:
            failed.append(f"remote {rp.kind} {rp.url}: the fetched content {problem}; its content is unknown")
        else:
            fetched[rp] = body
            continue
        failed_urls.add(rp.url)
    if fetched:
        new = parse_mpd(splice(m.extra["mpd_bytes"], fetched), m.source, url=m.url, limits=limits)
        for f in dataclass_fields(Manifest):
            setattr(m, f.name, getattr(new, f.name))
    m.extra["xlink_failed"] = failed_urls
    for w in failed:
        m.warn(w)


def _xlink_rounds(m: Manifest) -> Iterator[list[RemoteElement]]:
    for _ in range(MAX_DEPTH):
        todo = _xlink_todo(m)
        if not todo:
            return
        yield todo
    if _xlink_todo(m):
        m.warn(f"remote elements nested deeper than {MAX_DEPTH} levels are not fetched")
        m.extra.pop("mpd_bytes", None)


def resolve_manifest(m: Manifest, fetch: Fetcher | None = None, *, limits: Limits = DEFAULT_LIMITS,
                     only: Callable[[Representation], bool] | None = None) -> Manifest:
    """Fetch every pending sub-resource with ``fetch(url, byte_range) -> bytes`` (default:
    local files, and aiohttp for http(s) URLs)."""
    if fetch is None:
        return asyncio.run(resolve_manifest_async(m, None, limits=limits, only=only))
    count = 0
    for todo in _xlink_rounds(m):
        count += len(todo)
        if count > limits.max_fetches:
            raise ManifestError(f"more than {limits.max_fetches} sub-resource fetches", m.source)
        results: list[bytes | BaseException] = []
        for rp in todo:
            try:
                results.append(fetch(rp.url, None))
            except Exception as e:  # one remote Period failing leaves the rest playable
                results.append(e)
        _xlink_apply(m, todo, results, limits)
    while True:
        todo = [(r, p) for r, p in m.pending() if only is None or only(r)]
        if not todo:
            return m
        for rep, p in todo:
            count += 1
            if count > limits.max_fetches:
                raise ManifestError(f"more than {limits.max_fetches} sub-resource fetches", m.source)
            apply_fetch(m, rep, p, fetch(p.url, p.byte_range), limits)


async def resolve_manifest_async(m: Manifest, fetch: AsyncFetcher | None = None, *, limits: Limits = DEFAULT_LIMITS,
                                 only: Callable[[Representation], bool] | None = None, concurrency: int = 4) -> Manifest:
    """Async :func:`resolve_manifest` (at most ``concurrency`` fetches at once)."""
    session = None
    if fetch is None:
        from player.manifest.load import fetch_bytes, read_local

        async def fetch(url: str, rng: tuple[int, int] | None) -> bytes:  # type: ignore[no-redef]
            nonlocal session
            if is_remote(url):
                if session is None:
                    import aiohttp

                    session = aiohttp.ClientSession()
                return await fetch_bytes(session, url, rng, max_bytes=limits.max_bytes)
            return read_local(url, rng, max_bytes=limits.max_bytes)

    sem = asyncio.Semaphore(concurrency)
    count = 0
    try:
        for xtodo in _xlink_rounds(m):
            count += len(xtodo)
            if count > limits.max_fetches:
                raise ManifestError(f"more than {limits.max_fetches} sub-resource fetches", m.source)

            async def remote(rp: RemoteElement) -> bytes:
                async with sem:
                    return await fetch(rp.url, None)  # type: ignore[misc]

            got = await asyncio.gather(*(remote(rp) for rp in xtodo), return_exceptions=True)
            _xlink_apply(m, xtodo, got, limits)
        while True:
            todo = [(r, p) for r, p in m.pending() if only is None or only(r)]
            if not todo:
                return m
            count += len(todo)
            if count > limits.max_fetches:
                raise ManifestError(f"more than {limits.max_fetches} sub-resource fetches", m.source)

            async def one(p: PendingFetch) -> bytes:
                async with sem:
                    return await fetch(p.url, p.byte_range)  # type: ignore[misc]

            bodies = await asyncio.gather(*(one(p) for _, p in todo))
            for (rep, p), body in zip(todo, bodies):
                apply_fetch(m, rep, p, body, limits)
    finally:
        if session is not None:
            await session.close()
