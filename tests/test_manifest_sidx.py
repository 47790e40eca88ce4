"""The sidx parser against boxes built by hand from ISO/IEC 14496-12 8.16.3, and the
SegmentBase resolver fed through an injected fetcher."""

import struct

import pytest

from player.manifest import parse_manifest
from player.manifest.errors import ManifestError
from player.manifest.resolve import resolve_manifest
from player.manifest.sidx import parse_sidx, scan_for_sidx


def sidx_v0(refs, timescale=1000, first_offset=0, ept=0):
    body = bytes([0, 0, 0, 0])  # version 0, flags 0
    body += struct.pack(">II", 1, timescale) + struct.pack(">II", ept, first_offset)
    body += struct.pack(">HH", 0, len(refs))
    for size, dur, typ in refs:
        body += struct.pack(">III", (typ << 31) | size, dur, 0x90000000)
    return struct.pack(">I", 8 + len(body)) + b"sidx" + body


def test_v0_offsets_sizes_durations():
    box = sidx_v0([(1000, 2000, 0), (1500, 2000, 0), (700, 1000, 0)], first_offset=10)
    assert len(box) == 8 + 4 + 8 + 8 + 4 + 3 * 12  # 68 bytes
    s = parse_sidx(box, 500)
    # anchor = 500 + 68 = 568; first subsegment at 568 + 10
    assert [r.byte_range for r in s.references] == [(578, 1577), (1578, 3077), (3078, 3777)]
    assert s.durations_s() == [2.0, 2.0, 1.0]
    assert all(r.starts_with_sap for r in s.references)


def test_v1_64bit_fields_and_preceding_box():
    body = bytes([1, 0, 0, 0]) + struct.pack(">II", 7, 90000) + struct.pack(">QQ", 2**40, 0)
    body += struct.pack(">HH", 0, 1) + struct.pack(">III", 4321, 180000, 0)
    box = struct.pack(">I", 8 + len(body)) + b"sidx" + body
    styp = struct.pack(">I", 16) + b"styp" + b"msdhmsdh"
    s = parse_sidx(styp + box, 0)
    assert s.version == 1 and s.earliest_presentation_time == 2**40
    assert s.references[0].byte_range == (16 + len(box), 16 + len(box) + 4320)
    assert s.durations_s() == [2.0]


@pytest.mark.parametrize("cut", [4, 20, 40, 50])
def test_truncated_box_is_a_clear_error(cut):
    box = sidx_v0([(1000, 2000, 0), (1500, 2000, 0)])
    with pytest.raises(ManifestError, match="sidx|truncated"):
        parse_sidx(box[:cut], 0, where="Representation[1]@indexRange", source="x.mp4")


def test_scan_finds_sidx_after_ftyp_and_moov():
    ftyp = struct.pack(">I", 20) + b"ftyp" + b"isom" + b"\0\0\0\1" + b"isom"
    moov = struct.pack(">I", 100) + b"moov" + bytes(92)
    box = sidx_v0([(10, 1000, 0)])
    scan = scan_for_sidx(ftyp + moov + box, 0, "w")
    assert scan.sidx is not None and scan.sidx.references[0].byte_range == (120 + len(box), 120 + len(box) + 9)
    # Head cut inside moov: asks for the bytes after it.
    scan = scan_for_sidx(ftyp + moov[:50], 0, "w", probe_bytes=1000)
    assert scan.sidx is None and scan.need_range == (120, 1119)


MPD = """<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT5S">
 <Period><AdaptationSet mimeType="video/mp4">
  <Representation id="v" bandwidth="800000"><BaseURL>v.mp4</BaseURL>
   <SegmentBase indexRange="100-167"><Initialization range="0-99"/></SegmentBase>
  </Representation></AdaptationSet></Period></MPD>"""


def test_segment_base_resolved_through_injected_fetcher():
    m = parse_manifest(MPD, "http://cdn.example/a/stream.mpd")
    rep = m.periods[0].adaptation_sets[0].representations[0]
    assert rep.segments is None and rep.pending.byte_range == (100, 167)
    box = sidx_v0([(1000, 2000, 0), (1500, 2000, 0), (700, 1000, 0)])
    calls = []

    def fetch(url, rng):
        calls.append((url, rng))
        return box

    resolve_manifest(m, fetch)
    assert calls == [("http://cdn.example/a/v.mp4", (100, 167))]
    segs = rep.segments
    assert segs.durations_s == [2.0, 2.0, 1.0]
    assert segs.sizes_bytes == [1000, 1500, 700]
    assert segs.ref(1).url == "http://cdn.example/a/v.mp4" and segs.ref(1).byte_range == (1168, 2667)
    assert segs.init.byte_range == (0, 99)


def test_hierarchical_sidx_is_followed():
    m = parse_manifest(MPD, "http://cdn.example/a/stream.mpd")
    top = sidx_v0([(56, 4000, 1)])  # one reference to a child sidx right after this box
    child = sidx_v0([(1000, 2000, 0), (900, 2000, 0)])
    assert len(child) == 56
    files = {(100, 167): top, (100 + len(top), 100 + len(top) + 55): child}

    def fetch(url, rng):
        return files[rng] if rng in files else top

    resolve_manifest(m, fetch)
    segs = m.periods[0].adaptation_sets[0].representations[0].segments
    assert segs.durations_s == [2.0, 2.0]
    assert segs.ref(0).byte_range == (100 + len(top) + 56, 100 + len(top) + 56 + 999)
