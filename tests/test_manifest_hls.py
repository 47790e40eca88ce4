"""HLS reading, including what the m3u8 library alone would lose (RFC 8216 cases)."""

import pytest

from player.manifest import parse_manifest
from player.manifest.errors import ManifestError


def media(text, src="http://h.example/v/index.m3u8"):
    m = parse_manifest(text, src)
    return m, m.periods[0].adaptation_sets[0].representations[0].segments


def test_uri_without_extinf_kept_with_target_duration():
    m, segs = media("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:9,\na.ts\nb.ts\n#EXTINF:8,\nc.ts\n#EXT-X-ENDLIST\n")
    assert segs.durations_s == [9.0, 10.0, 8.0]
    assert [segs.ref(i).url for i in range(3)] == [f"http://h.example/v/{x}.ts" for x in "abc"]
    assert m.duration_s == 27.0 and m.is_live is False
    assert any("line 5" in w and "without #EXTINF" in w for w in m.warnings)


def test_implicit_byterange_offsets():
    _, segs = media("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n#EXT-X-BYTERANGE:1000@200\nall.ts\n"
                    "#EXTINF:4,\n#EXT-X-BYTERANGE:500\nall.ts\n#EXT-X-BYTERANGE:300\n#EXTINF:4,\nall.ts\n#EXT-X-ENDLIST\n")
    assert [segs.ref(i).byte_range for i in range(3)] == [(200, 1199), (1200, 1699), (1700, 1999)]
    assert segs.sizes_bytes == [1000, 500, 300]


def test_key_in_effect_applies_to_map_and_map_changes_per_segment():
    m, segs = media('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="k1"\n'
                    '#EXT-X-MAP:URI="init1.mp4",BYTERANGE="100@0"\n#EXTINF:4,\na.mp4\n#EXT-X-KEY:METHOD=NONE\n'
                    '#EXT-X-MAP:URI="init2.mp4"\n#EXTINF:4,\nb.mp4\n#EXT-X-ENDLIST\n')
    raw = m.periods[0].adaptation_sets[0].representations[0].extra["hls_segments"]
    assert raw[0].map["key"]["URI"] == "http://h.example/v/k1" and raw[1].map["key"] is None
    assert segs.inits[0].url.endswith("init1.mp4") and segs.inits[0].byte_range == (0, 99)
    assert segs.inits[1].url.endswith("init2.mp4") and segs.inits[1].byte_range is None


def test_comments_before_extm3u_and_dangling_extinf_tolerated():
    m, segs = media("# made by hand\n\n#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:41\n#EXTINF:6,\nx.ts\n#EXTINF:6,\n")
    assert segs.count == 1 and segs.first_number == 41 and m.is_live is True and m.duration_s is None
    assert len(m.warnings) == 2


def test_ll_hls_parts_and_hints_recorded_partial_segment_dropped():
    m, segs = media("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0\n"
                    "#EXT-X-PART-INF:PART-TARGET=1.0\n#EXT-X-MEDIA-SEQUENCE:10\n#EXTINF:4,\ns10.mp4\n"
                    '#EXT-X-PART:DURATION=1.0,URI="p11.0.mp4",INDEPENDENT=YES\n#EXT-X-PART:DURATION=1.0,URI="p11.1.mp4"\n'
                    '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p11.2.mp4"\n')
    assert segs.count == 1
    assert [(p["msn"], p["uri"].rsplit("/", 1)[1]) for p in m.live.parts] == [(11, "p11.0.mp4"), (11, "p11.1.mp4")]
    assert m.live.preload_hints[0]["uri"].endswith("p11.2.mp4")
    assert m.live.can_block_reload and m.live.part_target_s == 1.0


def test_master_variants_media_groups_iframes():
    m = parse_manifest('#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",LANGUAGE="en",DEFAULT=YES,URI="a/en.m3u8"\n'
                       '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="fr",LANGUAGE="fr",URI="s/fr.m3u8"\n'
                       '#EXT-X-STREAM-INF:BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1800000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=29.97,AUDIO="a",SUBTITLES="s"\n'
                       'hi/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=640x360\nlo/index.m3u8\n'
                       '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="hi/iframe.m3u8"\n', "http://h.example/master.m3u8")
    v = m.periods[0].of_type("video")[0].representations
    assert [(r.bandwidth_bps, r.average_bandwidth_bps, r.width, r.height, r.frame_rate) for r in v] == [
        (2000000, 1800000, 1280, 720, 29.97), (500000, None, 640, 360, None)]
    assert v[0].pending.url == "http://h.example/hi/index.m3u8"
    audio = m.periods[0].of_type("audio")[0]
    text = m.periods[0].of_type("text")[0]
    assert (audio.lang, audio.group_id, audio.default) == ("en", "a", True)
    assert text.lang == "fr"
    assert m.iframe_streams[0]["bandwidth_bps"] == 90000


@pytest.mark.parametrize("text,line,what", [
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:abc,\na.ts\n", "line 3", "not a number"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:-1,\na.ts\n", "line 3", "out of range"),
    ("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n#EXTINF:1,\na.ts\n", "line 2", "not an unsigned integer"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n#EXT-X-STREAM-INF:BANDWIDTH=2000\nv.m3u8\n", "line 2", "not followed by a URI"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\nv.m3u8\n", "line 2", "no BANDWIDTH"),
    ("#EXTINF:4,\na.ts\n", "line 1", "expected #EXTM3U"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n#EXT-X-BYTERANGE:12@x\na.ts\n", "line 4", "BYTERANGE"),
])
def test_errors_name_the_line(text, line, what):
    with pytest.raises(ManifestError) as e:
        parse_manifest(text, "bad.m3u8")
    assert str(e.value).startswith("bad.m3u8: ") and line in str(e.value) and what in str(e.value)


def test_segment_limit():
    from player.manifest.errors import Limits

    text = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n" + "#EXTINF:1,\na.ts\n" * 50
    with pytest.raises(ManifestError, match="more than 10 segments"):
        parse_manifest(text, "x.m3u8", limits=Limits(max_segments=10))
