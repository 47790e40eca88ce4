"""The origin's content: catalog titles, their manifests (read back with independent
parsers: mpegdash, m3u8), the segment bytes, and byte ranges."""

from __future__ import annotations

import json

import m3u8
import numpy as np
import pytest
from mpegdash.parser import MPEGDASHParser

from server_stub import manifests, media
from server_stub.catalog import CatalogError, generate_title, title_from_sabre_movie
from server_stub.objects import RangeNotSatisfiable, parse_range, resolve
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def title():
    return generate_title("t", "medium", n_segments=12, audio_kbps=[64, 128], seed=4)


def test_generated_sizes_average_the_ladder_and_respect_the_peak(title):
    v = title.video
    for rung, r in enumerate(v.renditions):
        nominal = r.bitrate_bps * 4.0 / 8.0
        assert np.mean(v.sizes_bytes[:, rung]) == pytest.approx(nominal, rel=1e-3)
        assert np.max(v.sizes_bytes[:, rung]) <= 2.0 * nominal + 1
    # Scene complexity is shared by the rungs: the same segments are big everywhere.
    ranks = np.argsort(v.sizes_bytes, axis=0)
    assert np.all(ranks == ranks[:, :1])
    again = generate_title("t", "medium", n_segments=12, audio_kbps=[64, 128], seed=4)
    assert np.array_equal(again.video.sizes_bytes, v.sizes_bytes)


def test_complexity_moves_the_ladder():
    low = generate_title("a", "low", n_segments=2)
    high = generate_title("b", "high", n_segments=2)
    fixed = generate_title("c", "high", ladder="fixed", n_segments=2)
    assert low.video.renditions[-1].bitrate_bps < high.video.renditions[-1].bitrate_bps
    assert [r.bitrate_bps // 1000 for r in fixed.video.renditions] == [235, 375, 560, 750, 1050, 1750, 2350, 3000, 4300, 5800]
    with pytest.raises(CatalogError, match="complexity"):
        generate_title("d", "extreme")
    with pytest.raises(CatalogError, match="must match"):
        generate_title("../x")


def test_sabre_movie_is_served_byte_for_byte():
    path = shared_path("content", "envivio.json")
    raw = json.loads(path.read_text())
    t = title_from_sabre_movie(path)
    assert t.name == "envivio"
    assert [r.bitrate_bps for r in t.video.renditions] == [int(b * 1000) for b in raw["bitrates_kbps"]]
    assert t.video.n_segments == len(raw["segment_sizes_bits"]) == 49
    assert t.video.sizes_bytes[7, 3] == round(raw["segment_sizes_bits"][7][3] / 8)
    assert t.video.constant_duration_s == raw["segment_duration_ms"] / 1000


def test_sabre_movie_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"segment_duration_ms": 4000, "bitrates_kbps": [1, 2]}')
    with pytest.raises(CatalogError, match="bad.json: missing key 'segment_sizes_bits'"):
        title_from_sabre_movie(bad)
    with pytest.raises(CatalogError, match="no such file"):
        title_from_sabre_movie(tmp_path / "nope.json")


def test_dash_segment_template_mpd(title):
    mpd = MPEGDASHParser.parse(manifests.dash_mpd(title))
    assert mpd.type == "static" and mpd.media_presentation_duration == "PT48.000S"
    video, audio = mpd.periods[0].adaptation_sets
    tmpl = video.segment_templates[0]
    assert (tmpl.timescale, tmpl.duration, tmpl.start_number) == (1000, 4000, 1)
    assert tmpl.media == "$RepresentationID$/$Number$.m4s"
    assert [r.bandwidth for r in video.representations] == [r.bitrate_bps for r in title.video.renditions]
    assert [(r.width, r.height) for r in video.representations] == [(r.width, r.height) for r in title.video.renditions]
    assert [r.id for r in audio.representations] == ["a0", "a1"]


def test_dash_segment_list_ranges_match_sizes(title):
    mpd = MPEGDASHParser.parse(manifests.dash_mpd_ranges(title))
    rep = mpd.periods[0].adaptation_sets[0].representations[2]
    sl = rep.segment_lists[0]
    init = title.video.renditions[2].init_size_bytes
    assert sl.initializations[0].range == f"0-{init - 1}"
    sizes = title.video.sizes_bytes[:, 2]
    starts = init + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    got = [tuple(int(x) for x in u.media_range.split("-")) for u in sl.segment_urls]
    assert got == [(int(a), int(a + n - 1)) for a, n in zip(starts, sizes)]
    assert rep.base_urls[0].base_url_value == "v2/all.mp4"


def test_hls_master_and_media_playlists(title):
    master = m3u8.loads(manifests.hls_master(title))
    assert master.is_variant and len(master.playlists) == len(title.video.renditions)
    p = master.playlists[3]
    r = title.video.renditions[3]
    assert p.stream_info.resolution == (r.width, r.height)
    assert p.stream_info.average_bandwidth == r.bitrate_bps + 128_000
    assert p.stream_info.bandwidth >= p.stream_info.average_bandwidth
    assert [m.uri for m in master.media] == ["a0/media.m3u8", "a1/media.m3u8"]
    pl = m3u8.loads(manifests.hls_media(title, title.video, 3))
    assert pl.is_endlist and pl.target_duration == 4 and len(pl.segments) == 12
    assert pl.segments[0].uri == "1.m4s" and pl.segment_map[0].uri == "init.mp4"
    br = m3u8.loads(manifests.hls_media(title, title.video, 3, byte_ranges=True))
    sizes = title.video.sizes_bytes[:, 3]
    assert [int(s.byterange.split("@")[0]) for s in br.segments] == list(sizes)
    offsets = [int(s.byterange.split("@")[1]) for s in br.segments]
    assert offsets[0] == r.init_size_bytes and offsets[1] == r.init_size_bytes + sizes[0]


def test_segment_bytes_are_exact_deterministic_and_distinct(title):
    a = resolve(title, ["v1", "3.m4s"])
    b = resolve(title, ["v1", "4.m4s"])
    assert a is not None and b is not None
    body = a.body()
    assert len(body) == title.video.sizes_bytes[2, 1]
    assert body == resolve(title, ["v1", "3.m4s"]).body()  # type: ignore[union-attr]
    assert body[4:8] == b"styp" and body[28:32] == b"mdat"
    assert body[32:1000] != b.body()[32:1000]
    init = resolve(title, ["v1", "init.mp4"]).body()  # type: ignore[union-attr]
    assert init[4:8] == b"ftyp" and len(init) == title.video.renditions[1].init_size_bytes
    whole = init + b"".join(resolve(title, ["v1", f"{k}.m4s"]).body() for k in range(1, 13))  # type: ignore[union-attr]
    f = resolve(title, ["v1", "all.mp4"])
    assert f is not None and f.size == len(whole)
    for lo, hi in ((0, 10), (700, 5000), (len(init) - 3, len(init) + 200_000), (len(whole) - 7, len(whole))):
        assert f.read(lo, hi) == whole[lo:hi]
    big = media.media_segment("x", "v0", 1, 3 * media.POOL_BYTES + 5)
    assert len(big) == 3 * media.POOL_BYTES + 5


def test_unknown_objects_resolve_to_nothing(title):
    for parts in (["v1", "13.m4s"], ["v1", "0.m4s"], ["v9", "1.m4s"], ["nope.mpd"], ["v1", "x", "y"]):
        assert resolve(title, parts) is None


def test_range_header_parsing_follows_rfc_9110():
    # RFC 9110 14.1.2 examples over a 10000-byte representation.
    assert parse_range("bytes=0-499", 10000) == (0, 500)
    assert parse_range("bytes=500-999", 10000) == (500, 1000)
    assert parse_range("bytes=-500", 10000) == (9500, 10000)
    assert parse_range("bytes=9500-", 10000) == (9500, 10000)
    assert parse_range("bytes=0-99999", 10000) == (0, 10000)  # clipped to the end
    assert parse_range(None, 10) is None
    assert parse_range("bytes=0-1,5-6", 10) is None  # multiple ranges: served whole
    assert parse_range("items=0-1", 10) is None  # unknown unit: ignored
    for bad in ("bytes=10-", "bytes=5-2", "bytes=-0", "bytes=x-y", "bytes=-"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(bad, 10)


def test_lru_cache_bounded_in_bytes():
    from server_stub.cache import LruCache

    c: LruCache[str] = LruCache(100)
    assert c.put("a", "A", 40) and c.put("b", "B", 40)
    assert c.get("a") == "A"  # a is now most recent
    assert c.put("c", "C", 40)  # evicts b, the least recently used
    assert c.peek("b") is None and c.peek("a") == "A" and c.used_bytes == 80
    assert not c.put("huge", "H", 101)
    assert c.stats.evictions == 1 and c.stats.uncacheable == 1
