"""Live windows and reload timing from an injected clock, computed by hand."""

import pytest

from player.manifest import parse_manifest, to_title
from player.manifest.errors import ManifestError
from player.manifest.live import HlsLiveTracker, dash_window, next_refresh_s

AST = 1_600_000_000.0  # 2020-09-13T12:26:40Z
LIVE = f"""<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"
 availabilityStartTime="2020-09-13T12:26:40Z" timeShiftBufferDepth="PT10S" minimumUpdatePeriod="PT2S"
 suggestedPresentationDelay="PT6S"><Period start="PT0S"><AdaptationSet mimeType="video/mp4">
 <SegmentTemplate media="$Number$.m4s" duration="2" startNumber="1"/>
 <Representation id="v" bandwidth="1000000"/></AdaptationSet></Period>
 <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="https://time.example/?iso"/></MPD>"""


def test_dash_template_window_from_clock():
    m = parse_manifest(LIVE, "http://l.example/live.mpd")
    rep = m.periods[0].adaptation_sets[0].representations[0]
    assert rep.segments.count is None  # open-ended: needs a clock
    # now = AST + 101 s: segments end at 2, 4, ... 100 are available (k = 0..49);
    # the 10 s time-shift buffer keeps those ending at or after 91 s: k = 45..49 (ends 92..100).
    w = dash_window(m, m.periods[0], rep, AST + 101.0)
    assert (w.first_index, w.count, w.first_number) == (45, 5, 46)
    assert w.start_s == AST + 90.0 and w.end_s == AST + 100.0
    assert w.target_s == AST + 94.0  # edge minus suggestedPresentationDelay
    assert next_refresh_s(m, 50.0) == 52.0
    assert m.live.utc_timing == [("urn:mpeg:dash:utc:http-iso:2014", "https://time.example/?iso")]
    t = to_title(m, now_s=AST + 101.0)
    assert t.video.n_segments == 5 and t.video.segment_ref(0, 0).url == "http://l.example/46.m4s"


def test_dash_timeline_window():
    text = LIVE.replace('<SegmentTemplate media="$Number$.m4s" duration="2" startNumber="1"/>',
                        '<SegmentTemplate media="$Time$.m4s" timescale="1"><SegmentTimeline><S t="0" d="4" r="-1"/></SegmentTimeline></SegmentTemplate>')
    m = parse_manifest(text, "http://l.example/live.mpd")
    rep = m.periods[0].adaptation_sets[0].representations[0]
    w = dash_window(m, m.periods[0], rep, AST + 30.0)
    # r=-1 repeats to now: segments end at 4, 8, ..., 28; TSBD 10 s keeps ends >= 20: 20, 24, 28
    assert (w.first_index, w.count) == (4, 3)
    assert w.durations_s == (4.0, 4.0, 4.0)


def test_dynamic_without_ast_is_a_clear_error():
    m = parse_manifest(LIVE.replace('availabilityStartTime="2020-09-13T12:26:40Z"', ""), "x.mpd")
    with pytest.raises(ManifestError, match="availabilityStartTime"):
        to_title(m, now_s=AST)


def _playlist(seq, n, end=False):
    body = f"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:{seq}\n"
    body += "".join(f"#EXTINF:6,\ns{seq + i}.ts\n" for i in range(n))
    return body + ("#EXT-X-ENDLIST\n" if end else "")


def test_hls_sliding_window_reloads():
    tr = HlsLiveTracker()
    new = tr.update(parse_manifest(_playlist(100, 3), "http://h.example/live.m3u8"), now_s=0.0)
    assert [n[0] for n in new] == [100, 101, 102] and tr.next_reload_s == 6.0  # one target duration
    new = tr.update(parse_manifest(_playlist(101, 3), "http://h.example/live.m3u8"), now_s=6.0)
    assert [n[0] for n in new] == [103] and new[0][2].url == "http://h.example/s103.ts"
    new = tr.update(parse_manifest(_playlist(101, 3), "http://h.example/live.m3u8"), now_s=12.0)
    assert new == [] and tr.next_reload_s == 15.0  # unchanged: half a target duration (RFC 8216 6.3.4)
    tr.update(parse_manifest(_playlist(102, 3, end=True), "http://h.example/live.m3u8"), now_s=15.0)
    assert tr.ended and tr.next_reload_s is None
    with pytest.raises(ManifestError, match="backwards"):
        tr.update(parse_manifest(_playlist(50, 2), "http://h.example/live.m3u8"), now_s=20.0)
