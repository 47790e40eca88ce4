"""What lives at each path of a title, and HTTP byte ranges over it.

Origin and edges share this: the origin resolves a path to an :class:`Object` (size,
content type, a reader of any byte range), the edge caches objects it fetched. Paths
are matched component by component against a closed set of shapes (no filesystem is
involved, so ``..`` and encoded traversal can only fail to match and give 404).

Layout under ``/titles/{title}/``::

    manifest.mpd  manifest-list.mpd  master.m3u8  master-br.m3u8  title.json
    {rid}/media.m3u8  {rid}/media-br.m3u8  {rid}/init.mp4  {rid}/{n}.m4s  {rid}/all.mp4
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable

from server_stub import manifests, media
from server_stub.catalog import CatalogTitle, LiveState

# One path component: starts with a letter or digit, so "." and ".." never match.
COMPONENT = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"
_SEGMENT_RE = re.compile(r"^([1-9][0-9]{0,8})\.m4s$")

CONTENT_TYPES = {
    ".mpd": "application/dash+xml",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".json": "application/json",
    ".mp4": "video/mp4",
    ".m4s": "video/iso.segment",
}


@dataclass(frozen=True)
class Object:
    """A servable object: ``read(start, end)`` returns bytes ``[start, end)``."""

    size: int
    content_type: str
    read: Callable[[int, int], bytes]
    kind: str  # "manifest", "init", "segment", "file", "info"

    def body(self) -> bytes:
        return self.read(0, self.size)


def _text_object(text: str, content_type: str, kind: str) -> Object:
    data = text.encode()
    return Object(len(data), content_type, lambda a, b: data[a:b], kind)


def _ctype(name: str) -> str:
    for ext, ct in CONTENT_TYPES.items():
        if name.endswith(ext):
            return ct
    return "application/octet-stream"


def resolve(title: CatalogTitle, parts: list[str], live: LiveState | None = None) -> Object | None:
    """The object at ``parts`` (path components after ``/titles/{title}/``), or None.

    While a live event runs (``live`` not ended) only the segment-file layout exists
    (the single files are still being written), and only the segments available now."""
    ongoing = live is not None and not live.ended
    if ongoing and (parts[-1] in ("manifest-list.mpd", "master-br.m3u8", "media-br.m3u8", "all.mp4")):
        return None
    if len(parts) == 1:
        name = parts[0]
        if name == "manifest.mpd":
            return _text_object(manifests.dash_mpd(title, live), _ctype(name), "manifest")
        if name == "manifest-list.mpd":
            return _text_object(manifests.dash_mpd_ranges(title), _ctype(name), "manifest")
        if name == "master.m3u8":
            return _text_object(manifests.hls_master(title), _ctype(name), "manifest")
        if name == "master-br.m3u8":
            return _text_object(manifests.hls_master(title, byte_ranges=True), _ctype(name), "manifest")
        if name == "title.json":
            # The stub's native description: ladder, exact sizes, and where the bytes are
            # (URL templates relative to this file), for clients that skip manifests.
            info = title.describe(sizes=True)
            info["urls"] = {"init": "{rid}/init.mp4", "media": "{rid}/{number}.m4s", "start_number": 1}
            return _text_object(json.dumps(info), _ctype(name), "info")
        return None
    if len(parts) != 2:
        return None
    rid, name = parts
    hit = title.find(rid)
    if hit is None:
        return None
    track, rung, rend = hit
    tname = title.name
    if name in ("media.m3u8", "media-br.m3u8"):
        return _text_object(manifests.hls_media(title, track, rung, name == "media-br.m3u8", live), _ctype(name), "manifest")
    if name == "init.mp4":
        n = rend.init_size_bytes
        return Object(n, _ctype(name), lambda a, b: media.init_segment(tname, rid, n)[a:b], "init")
    if name == "all.mp4":
        return Object(track.file_size(rung), _ctype(name), lambda a, b: media.single_file_range(tname, track, rung, a, b), "file")
    m = _SEGMENT_RE.match(name)
    if m:
        number = int(m.group(1))
        if number > (live.available if ongoing else track.n_segments):  # type: ignore[union-attr]
            return None
        n = int(track.sizes_bytes[number - 1, rung])
        return Object(n, _ctype(name), lambda a, b: media.media_segment(tname, rid, number, n)[a:b], "segment")
    return None


# ----------------------------------------------------------------------------- ranges
class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single ``bytes=`` range, or None to send it all.

    RFC 9110 14.2: an unknown unit, or several ranges (which we do not serve as
    multipart), is ignored and the whole object sent; a malformed or unsatisfiable
    bytes range raises :class:`RangeNotSatisfiable` (416).
    """
    if header is None:
        return None
    unit, eq, spec = header.strip().partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    spec = spec.strip()
    if "," in spec:
        return None
    m = re.fullmatch(r"(\d*)-(\d*)", spec)
    if not m or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable(spec)
    a, b = m.group(1), m.group(2)
    if not a:  # suffix: the last N bytes
        n = int(b)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(spec)
        return max(0, size - n), size
    start = int(a)
    end = int(b) + 1 if b else size
    if start >= size or (b and int(b) < start):
        raise RangeNotSatisfiable(spec)
    return start, min(end, size)
