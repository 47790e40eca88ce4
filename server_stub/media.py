"""The bytes the origin serves: init and media segments of exact sizes, deterministic.

No real encoder runs here, but a player (or a cache, or a checksum in a test) must see
stable, distinct bytes of exactly the advertised size. Each object is laid out as ISO
BMFF boxes so tools that peek at a segment see something sane:

- init segment: ``ftyp`` (24 bytes) + ``moov`` filled to the size;
- media segment: ``styp`` (24 bytes) + ``mdat`` filled to the size.

Fill bytes come from one pseudo-random pool (seeded, so identical in every process),
read at an offset derived from the object's key: the same key always gives the same
bytes, different keys give different bytes, and a 2 MB segment costs one ``memcpy``
rather than 2 MB of hashing. The single-file layout of a rendition (``all.mp4``: the
init segment then every media segment) is read by range without materialising it.
"""

from __future__ import annotations

import functools
import hashlib
import struct

import numpy as np

from server_stub.catalog import CatalogTrack

POOL_BYTES = 1 << 20
_POOL_SEED = 0x616272_6C6162  # "abrlab"


@functools.lru_cache(maxsize=1)
def _pool() -> bytes:
    # Twice the pool, so any window of up to POOL_BYTES starting in the first half is
    # one contiguous slice.
    b = np.random.default_rng(_POOL_SEED).integers(0, 256, POOL_BYTES, dtype=np.uint8).tobytes()
    return b + b


def _fill(key: str, length: int) -> bytes:
    if length <= 0:
        return b""
    pool = _pool()
    off = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") % POOL_BYTES
    if length <= POOL_BYTES:
        return pool[off : off + length]
    reps, rest = divmod(length, POOL_BYTES)
    block = pool[off : off + POOL_BYTES]
    return block * reps + block[:rest]


def _box_header(kind: bytes, size: int) -> bytes:
    return struct.pack(">I", size) + kind


_FTYP = _box_header(b"ftyp", 24) + b"iso6" + b"\x00\x00\x00\x00" + b"iso6" + b"dash"
_STYP = _box_header(b"styp", 24) + b"msdh" + b"\x00\x00\x00\x00" + b"msdh" + b"msix"


def init_segment(title: str, rid: str, size: int) -> bytes:
    if size < len(_FTYP) + 8:
        return _fill(f"{title}/{rid}/init", size)
    rest = size - len(_FTYP)
    return _FTYP + _box_header(b"moov", rest) + _fill(f"{title}/{rid}/init", rest - 8)


def media_segment(title: str, rid: str, number: int, size: int) -> bytes:
    key = f"{title}/{rid}/{number}"
    if size < len(_STYP) + 8:
        return _fill(key, size)
    rest = size - len(_STYP)
    return _STYP + _box_header(b"mdat", rest) + _fill(key, rest - 8)


def single_file_range(title: str, track: CatalogTrack, rung: int, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of the rendition's single file (init + all segments)."""
    rid = track.renditions[rung].id
    out = []
    pos = start
    init = track.renditions[rung].init_size_bytes
    if pos < init:
        out.append(init_segment(title, rid, init)[pos : min(end, init)])
        pos = min(end, init)
    if pos < end:
        # Segments overlapping [pos, end): binary search the start offsets.
        starts = track._starts[:, rung]
        k = int(np.searchsorted(starts, pos, side="right")) - 1
        while pos < end and k < track.n_segments:
            a, n = int(starts[k]), int(track.sizes_bytes[k, rung])
            body = media_segment(title, rid, k + 1, n)
            out.append(body[pos - a : min(end, a + n) - a])
            pos = min(end, a + n)
            k += 1
    return b"".join(out)
