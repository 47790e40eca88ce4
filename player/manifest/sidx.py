"""The ISO BMFF Segment Index box (``sidx``), ISO/IEC 14496-12 section 8.16.3.

A DASH Representation described by ``SegmentBase@indexRange`` (on-demand profile) keeps its
segment list inside the media file: the ``sidx`` box lists, per subsegment, its size in
bytes and its duration. Parsing is sans-I/O: :func:`parse_sidx` takes the bytes of the
index range and the file offset they start at; the resolver fetches them.

Layout (FullBox ``sidx``)::

    uint32 reference_ID; uint32 timescale;
    v0: uint32 earliest_presentation_time; uint32 first_offset
    v1: uint64 earliest_presentation_time; uint64 first_offset
    uint16 reserved; uint16 reference_count;
    reference_count x { bit(1) reference_type; uint(31) referenced_size;
                        uint32 subsegment_duration;
                        bit(1) starts_with_SAP; uint(3) SAP_type; uint(28) SAP_delta_time }

The first subsegment starts ``first_offset`` bytes after the first byte following the
``sidx`` box (the "anchor point"); each next one starts where the previous ends. A
reference with ``reference_type = 1`` points at another ``sidx`` (hierarchical index).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from player.manifest.errors import ManifestError


@dataclass(frozen=True, slots=True)
class SidxReference:
    is_index: bool  # reference_type 1: points at another sidx box
    offset: int  # absolute file offset of the first byte
    size_bytes: int
    duration: int  # in the sidx timescale
    starts_with_sap: bool

    @property
    def byte_range(self) -> tuple[int, int]:
        return (self.offset, self.offset + self.size_bytes - 1)


@dataclass(frozen=True, slots=True)
class SidxBox:
    version: int
    reference_id: int
    timescale: int
    earliest_presentation_time: int
    first_offset: int
    box_offset: int  # absolute file offset of the box
    box_size: int
    references: tuple[SidxReference, ...]

    def durations_s(self) -> list[float]:
        return [r.duration / self.timescale for r in self.references]


def _box_header(data: bytes, pos: int) -> tuple[int, bytes, int] | None:
    """(size, type, header length) of the box at ``pos``; None if the header is cut off.

    size 0 means "to the end of the file" and is returned as -1.
    """
    if pos + 8 > len(data):
        return None
    size, typ = struct.unpack_from(">I4s", data, pos)
    if size == 1:
        if pos + 16 > len(data):
            return None
        (size,) = struct.unpack_from(">Q", data, pos + 8)
        return size, typ, 16
    if size == 0:
        return -1, typ, 8
    return size, typ, 8


def parse_sidx(data: bytes, data_offset: int, where: str = "sidx", source: str | None = None) -> SidxBox:
    """The first ``sidx`` box in ``data`` (bytes starting at file offset ``data_offset``).

    Boxes before it (e.g. ``styp``) are skipped. A truncated or inconsistent box is a
    ManifestError naming ``where``.
    """
    pos = 0
    while True:
        hdr = _box_header(data, pos)
        if hdr is None:
            raise ManifestError("no sidx box in the index range", source, where)
        size, typ, hlen = hdr
        if typ == b"sidx":
            break
        if size < hlen:
            raise ManifestError(f"box {typ!r} at byte {data_offset + pos} has an invalid size {size}", source, where)
        pos += size
    if size < 0:
        size = len(data) - pos
    if size < hlen + 4 + 8 + 8 + 4 or pos + size > len(data):
        raise ManifestError(
            f"sidx box at byte {data_offset + pos} is truncated (size {size}, {len(data) - pos} bytes available)",
            source, where,
        )
    body = pos + hlen
    version = data[body]
    p = body + 4  # version (1) + flags (3)
    reference_id, timescale = struct.unpack_from(">II", data, p)
    p += 8
    if version == 0:
        ept, first_offset = struct.unpack_from(">II", data, p)
        p += 8
    elif version == 1:
        if p + 16 > pos + size:
            raise ManifestError("sidx box is truncated", source, where)
        ept, first_offset = struct.unpack_from(">QQ", data, p)
        p += 16
    else:
        raise ManifestError(f"sidx version {version} is not 0 or 1", source, where)
    if p + 4 > pos + size:
        raise ManifestError("sidx box is truncated", source, where)
    _reserved, count = struct.unpack_from(">HH", data, p)
    p += 4
    if p + 12 * count > pos + size:
        raise ManifestError(
            f"sidx box declares {count} references but holds only {(pos + size - p) // 12}", source, where
        )
    if timescale == 0:
        raise ManifestError("sidx timescale is 0", source, where)
    anchor = data_offset + pos + size
    offset = anchor + first_offset
    refs = []
    for _ in range(count):
        a, dur, sap = struct.unpack_from(">III", data, p)
        p += 12
        ref_size = a & 0x7FFFFFFF
        if ref_size == 0:
            raise ManifestError(f"sidx reference {len(refs) + 1} has size 0", source, where)
        refs.append(SidxReference(bool(a >> 31), offset, ref_size, dur, bool(sap >> 31)))
        offset += ref_size
    return SidxBox(version, reference_id, timescale, ept, first_offset, data_offset + pos, size, tuple(refs))


@dataclass(frozen=True, slots=True)
class BoxScan:
    """Result of looking for a sidx among top-level boxes of a file's first bytes."""

    sidx: SidxBox | None
    need_range: tuple[int, int] | None  # fetch these bytes next (None with sidx=None: no sidx)


def scan_for_sidx(data: bytes, data_offset: int, where: str, source: str | None = None, probe_bytes: int = 64 * 1024) -> BoxScan:
    """Walk top-level boxes from ``data_offset`` to find the ``sidx`` (SegmentBase without
    indexRange: dash.js likewise reads the file head and walks boxes until it finds it)."""
    pos = 0
    while True:
        hdr = _box_header(data, pos)
        if hdr is None:
            start = data_offset + pos
            return BoxScan(None, (start, start + probe_bytes - 1))
        size, typ, hlen = hdr
        if typ == b"sidx":
            if size < 0 or pos + size <= len(data):
                return BoxScan(parse_sidx(data[pos:], data_offset + pos, where, source), None)
            start = data_offset + pos
            return BoxScan(None, (start, start + size - 1))
        if typ in (b"moof", b"mdat") or size < 0:
            return BoxScan(None, None)  # media began: there is no index
        if size < hlen:
            raise ManifestError(f"box {typ!r} at byte {data_offset + pos} has an invalid size {size}", source, where)
        if pos + size >= len(data):
            start = data_offset + pos + size
            return BoxScan(None, (start, start + probe_bytes - 1))
        pos += size
