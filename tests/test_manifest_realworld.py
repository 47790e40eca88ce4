"""What real manifests from other players' fixtures taught us (each case written by hand
for the feature, the expected facts computed by hand in the comments)."""

import pytest

from player.manifest import parse_manifest
from player.manifest.errors import ManifestError
from player.manifest.facts import manifest_facts
from player.manifest.resolve import resolve_manifest

NS = "urn:mpeg:dash:schema:mpd:2011"


def facts(text, src="http://o.example/a/m.mpd", **kw):
    m = parse_manifest(text, src, **kw)
    return m, manifest_facts(m)


# --------------------------------------------------------------------------- DASH


def test_period_start_decades_after_an_epoch_availability_start():
    # availabilityStartTime at the epoch (as DASH-IF livesim2 serves) puts Period@start
    # 480,000 h = 1.728e9 s later; a 2 s timeline of 3 segments in it.
    m, f = facts(f"""<MPD xmlns="{NS}" type="dynamic" availabilityStartTime="1970-01-01T00:00:00Z">
      <Period id="p" start="PT480000H"><AdaptationSet contentType="video" mimeType="video/mp4">
        <SegmentTemplate timescale="10" presentationTimeOffset="17280000000" media="$Time$.m4s">
          <SegmentTimeline><S t="17280000000" d="20" r="2"/></SegmentTimeline></SegmentTemplate>
        <Representation id="v" bandwidth="500000" codecs="avc1.4d401e" width="640" height="360"/>
      </AdaptationSet></Period></MPD>""")
    assert m.periods[0].start_s == 480000 * 3600.0
    assert (f["is_live"], f["first_video_segments"], f["segment_duration_s"]) == (True, 3, 2.0)


def test_empty_segment_timeline_is_a_period_with_no_segments_yet():
    # Period 2 has just opened: its timeline lists nothing. Period 1: 4 x 1.5 s.
    m, f = facts(f"""<MPD xmlns="{NS}" type="dynamic" availabilityStartTime="2024-01-01T00:00:00Z">
      <Period id="1" start="PT0S"><AdaptationSet contentType="video" mimeType="video/mp4">
        <SegmentTemplate timescale="2" media="$Time$.m4s"><SegmentTimeline><S t="0" d="3" r="3"/></SegmentTimeline></SegmentTemplate>
        <Representation id="v" bandwidth="100000"/></AdaptationSet></Period>
      <Period id="2" start="PT6S"><AdaptationSet contentType="video" mimeType="video/mp4">
        <SegmentTemplate timescale="2" media="$Time$.m4s"><SegmentTimeline></SegmentTimeline></SegmentTemplate>
        <Representation id="v" bandwidth="100000"/></AdaptationSet></Period></MPD>""")
    assert (f["periods"], f["first_video_segments"], f["segment_duration_s"]) == (2, 4, 1.5)
    later = m.periods[1].adaptation_sets[0].representations[0].segments
    assert later.count == 0 and later.nominal_duration_s is None
    assert any("no S elements" in w for w in m.warnings)


def test_undeclared_namespace_prefix_is_read_without_namespaces():
    # "yt:" and "sig:" are never declared: well-formed XML, not namespace-well-formed.
    m, f = facts(f"""<?xml version="1.0"?>
<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT9S" yt:seq="4">
  <Period><EventStream schemeIdUri="urn:x"><Event id="1"><sig:Binary>AA==</sig:Binary></Event></EventStream>
    <AdaptationSet mimeType="video/mp4"><SegmentTemplate duration="3" media="$Number$.m4s"/>
      <Representation id="v" bandwidth="800000" codecs="avc1.64001f" width="1280" height="720"/></AdaptationSet>
  </Period></MPD>""")
    assert f["video"][0]["bandwidth_bps"] == 800000 and f["first_video_segments"] == 3  # 9 / 3
    assert f["duration_s"] == 9.0
    assert any("line 2" in w and "undeclared namespace prefix" in w for w in m.warnings)
    assert not any("not the DASH namespace" in w for w in m.warnings)  # xmlns still recognised


def test_xml_that_is_not_well_formed_is_still_rejected_with_its_place():
    with pytest.raises(ManifestError) as e:
        parse_manifest(f'<MPD xmlns="{NS}" type="static"mediaPresentationDuration="PT1S"/>', "bad.mpd")
    assert "bad.mpd" in str(e.value) and "line 1, column" in str(e.value)


def test_trick_mode_set_by_supplemental_property_is_not_a_rung():
    # Three video sets: main (2 rungs), trick by SupplementalProperty, trick by
    # EssentialProperty with the scheme in capitals. Only the main rungs are video.
    m, f = facts(f"""<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT8S"><Period>
      <SegmentTemplate duration="4" media="$RepresentationID$/$Number$.m4s"/>
      <AdaptationSet id="1" mimeType="video/mp4"><Representation id="a" bandwidth="300000"/><Representation id="b" bandwidth="900000"/></AdaptationSet>
      <AdaptationSet id="2" mimeType="video/mp4"><SupplementalProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="1"/>
        <Representation id="t1" bandwidth="50000"/></AdaptationSet>
      <AdaptationSet id="3" mimeType="video/mp4"><EssentialProperty schemeIdUri="HTTP://DASHIF.ORG/guidelines/trickmode" value="1"/>
        <Representation id="t2" bandwidth="60000"/></AdaptationSet></Period></MPD>""")
    assert [v["bandwidth_bps"] for v in f["video"]] == [300000, 900000]
    assert [a["trick_mode"] for a in f["adaptation_sets"]] == [False, True, True]
    assert f["first_video_segments"] == 2


def test_bandwidth_zero_or_missing_is_listed_as_an_unknown_bitrate():
    # ExoPlayer, Shaka and dash.js all load Representations with @bandwidth="0" or none.
    body = f"""<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT4S"><Period>
      <AdaptationSet mimeType="video/mp4"><SegmentTemplate duration="2" media="$Number$.m4s"/>
      <Representation id="z" {{bw}}/><Representation id="o" bandwidth="7"/></AdaptationSet></Period></MPD>"""
    m, f = facts(body.replace("{bw}", 'bandwidth="0"'))
    assert [v["bandwidth_bps"] for v in f["video"]] == [0, 7]
    assert any("@bandwidth: 0" in w for w in m.warnings)
    m, f = facts(body.replace("{bw}", ""))
    assert [(v["id"], v["bandwidth_bps"]) for v in f["video"]] == [("z", None), ("o", 7)]  # unknown first
    assert f["first_video_segments"] == 2  # 4 s / 2 s, of the rung with the unknown bitrate
    assert any("Representation[1](id=z): no @bandwidth" in w for w in m.warnings)


def test_raw_cea608_captions_set_is_text():
    m, f = facts(f"""<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT2S"><Period>
      <AdaptationSet mimeType="application/x-rawcc"><Representation id="cc" bandwidth="16" codecs="cea608">
        <BaseURL>cc.bin</BaseURL></Representation></AdaptationSet></Period></MPD>""")
    assert [a["content_type"] for a in f["adaptation_sets"]] == ["text"]


def test_static_mpd_with_no_duration_anywhere_ends_with_its_segments():
    # No mediaPresentationDuration, no Period@duration: the timeline (timescale 1000)
    # starts at 500 and lists 3 x 4000 + 2500, so the Period ends at 0.5 + 14.5 = 15 s.
    m, f = facts(f"""<MPD xmlns="{NS}" type="static"><Period start="PT0S">
      <AdaptationSet mimeType="video/mp4"><SegmentTemplate timescale="1000" media="$Number$.m4s">
        <SegmentTimeline><S t="500" d="4000" r="2"/><S d="2500"/></SegmentTimeline></SegmentTemplate>
        <Representation id="v" bandwidth="1000"/></AdaptationSet></Period></MPD>""")
    assert f["duration_s"] == pytest.approx(15.0, abs=1e-9)
    assert (f["first_video_segments"], f["segment_duration_s"]) == (4, 4.0)
    assert any("ends with its segments" in w for w in m.warnings)


def test_muxed_dash_representation_reports_its_video_codec():
    _, f = facts(f"""<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT6S"><Period>
      <AdaptationSet><SegmentTemplate duration="6" media="$Number$.ts"/>
        <Representation id="m" bandwidth="1200000" codecs="mp4a.40.2,avc1.4D401F" width="960" height="540"/>
      </AdaptationSet></Period></MPD>""")
    # No mimeType or contentType: a list with a video codec in it is video.
    assert [(v["video_codec"], v["codecs"]) for v in f["video"]] == [("avc1.4D401F", "mp4a.40.2,avc1.4D401F")]


def test_whitespace_before_the_xml_declaration_is_read_with_a_warning():
    # Two blank lines before <?xml ...?> (not well-formed: the declaration comes first).
    # 6 s at 3 s per segment: 2 segments. A later error keeps its real line number.
    body = f"""\n\n<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT6S"><Period>
  <AdaptationSet mimeType="video/mp4"><SegmentTemplate duration="3" media="$Number$.m4s"/>
    <Representation id="v" bandwidth="700000" width="640" height="360"/></AdaptationSet></Period></MPD>"""
    m, f = facts(body)
    assert (f["first_video_segments"], f["segment_duration_s"], f["duration_s"]) == (2, 3.0, 6.0)
    assert any("line 3: whitespace before the XML declaration" in w for w in m.warnings)
    with pytest.raises(ManifestError) as e:
        parse_manifest(body.replace("<Period>", "<Period>\n<X a=1/>", 1), "ws.mpd")
    assert "line 5, column" in str(e.value)  # line 4 holds <MPD ...><Period>, line 5 the unquoted value


def test_period_after_an_unresolved_xlink_period_is_placed_by_the_later_timing():
    # As in ISO/IEC 23009-1 example G.11: 300 s presentation; Period A lasts 100 s, then a
    # remote Period (no @duration), then Period C of 120 s with no @start. C must start
    # at 300 - 120 = 180 s, so the remote Period spans 100..180 s (80 s).
    m, f = facts(f"""<MPD xmlns="{NS}" xmlns:xlink="http://www.w3.org/1999/xlink" type="static" mediaPresentationDuration="PT5M">
      <Period id="A" duration="PT100S"><AdaptationSet mimeType="video/mp4">
        <SegmentTemplate timescale="10" duration="40" media="a$Number$.m4s"/>
        <Representation id="v" bandwidth="900000"/></AdaptationSet></Period>
      <Period xlink:href="remote.xml" xlink:actuate="onRequest"/>
      <Period id="C" duration="PT120S"><AdaptationSet mimeType="video/mp4">
        <SegmentTemplate timescale="10" duration="40" media="c$Number$.m4s"/>
        <Representation id="v" bandwidth="900000"/></AdaptationSet></Period></MPD>""")
    assert [(p.start_s, p.duration_s) for p in m.periods] == [(0.0, 100.0), (100.0, 80.0), (180.0, 120.0)]
    assert (f["periods"], f["duration_s"], f["first_video_segments"], f["segment_duration_s"]) == (3, 300.0, 25, 4.0)
    assert any("Period[3](id=C): no @start" in w and "180 s" in w for w in m.warnings)
    with pytest.raises(ManifestError) as e:  # nothing later to count back from: still refused
        parse_manifest(f"""<MPD xmlns="{NS}" type="static"><Period id="A"/><Period id="B"/></MPD>""", "p.mpd")
    assert "Period[2](id=B)" in str(e.value) and "no @start" in str(e.value)


# --------------------------------------------------------------------------- HLS


def test_master_codecs_report_the_video_codec_as_written():
    _, f = facts("#EXTM3U\n"
                 '#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="mp4a.40.2, hvc1.1.6.L93.90",RESOLUTION=960x540\nhi.m3u8\n'
                 '#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.4d401e,mp4a.40.2"\nlo.m3u8\n'
                 '#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.5"\naudio.m3u8\n'
                 '#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS="x1,x2"\nodd.m3u8\n', "http://h.example/m.m3u8")
    assert [(v["bandwidth_bps"], v["video_codec"]) for v in f["video"]] == [
        (64000, "mp4a.40.5"),  # audio-only variant: nothing else to report
        (70000, "x1,x2"),  # codecs we cannot classify: as given
        (400000, "avc1.4d401e"),
        (900000, "hvc1.1.6.L93.90"),
    ]
    # ``codecs`` itself is the variant's CODECS attribute as written.
    assert [v["codecs"] for v in f["video"]] == ["mp4a.40.5", "x1,x2", "avc1.4d401e,mp4a.40.2", "mp4a.40.2, hvc1.1.6.L93.90"]


def test_variable_substitution_define_queryparam_and_import():
    master = ('#EXTM3U\n#EXT-X-DEFINE:NAME="cdn",VALUE="https://cdn.example/v1"\n#EXT-X-DEFINE:QUERYPARAM="tok"\n'
              '#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.42e01e"\n{$cdn}/lo.m3u8?t={$tok}\n'
              '#EXT-X-STREAM-INF:BANDWIDTH=900000\nhi.m3u8?x={$nope}\n')
    m = parse_manifest(master, "m.m3u8", url="https://o.example/show/m.m3u8?tok=abc")
    lo, hi = m.periods[0].adaptation_sets[0].representations
    assert lo.playlist_url == "https://cdn.example/v1/lo.m3u8?t=abc"
    assert hi.playlist_url.startswith("https://o.example/show/hi.m3u8?x=")  # left as written
    assert any("line 7" in w and "{$nope}" in w for w in m.warnings)
    media = ('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-DEFINE:IMPORT="tok"\n#EXT-X-DEFINE:NAME="seg",VALUE="part"\n'
             '#EXTINF:4,\n{$seg}0.ts?t={$tok}\n#EXTINF:3,\n{$seg}1.ts\n#EXT-X-ENDLIST\n')
    resolve_manifest(m, lambda url, rng: media.encode(), only=lambda r: r is lo)
    segs = lo.segments
    assert segs.durations_s == [4.0, 3.0]
    assert segs.ref(0).url == "https://cdn.example/v1/part0.ts?t=abc"  # IMPORT from the master
    assert segs.ref(1).url == "https://cdn.example/v1/part1.ts"


def test_ended_playlist_duration_is_the_sum_of_the_written_decimals():
    m, f = facts("#EXTM3U\n#EXT-X-TARGETDURATION:1\n" + "#EXTINF:0.1,\ns.ts\n" * 3 + "#EXT-X-ENDLIST\n", "h.m3u8")
    assert f["duration_s"] == 0.3  # not 0.30000000000000004


def test_long_playlist_keeps_every_segment_and_numbers_its_parts():
    # 2,600 segments of 2 s from MSN 100, then 3 parts of the next segment (MSN 2,700).
    n = 2600
    text = ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:100\n#EXT-X-PART-INF:PART-TARGET=0.5\n"
            + "".join(f"#EXTINF:2,\ns{i}.ts\n" for i in range(n))
            + "".join(f'#EXT-X-PART:DURATION=0.5,URI="p{k}.ts"\n' for k in range(3)))
    m, f = facts(text, "http://h.example/l.m3u8")
    segs = m.periods[0].adaptation_sets[0].representations[0].segments
    assert (f["first_video_segments"], f["is_live"]) == (n, True)
    assert segs.ref(n - 1).url == f"http://h.example/s{n - 1}.ts" and segs.first_number == 100
    assert [p["msn"] for p in m.live.parts] == [100 + n] * 3
    assert m.extra["window_s"] == 2.0 * n
    assert not any("m3u8 found" in w for w in m.warnings)


def test_remote_xlink_period_is_kept_empty_and_the_ladder_comes_from_the_local_one():
    # Period 1 lives elsewhere (xlink, not fetched while parsing); Period 2 starts at 60 s
    # with a remote AdaptationSet (skipped) and a 2-rung set of 3 x 10 s listed segments.
    m, f = facts(f"""<MPD xmlns="{NS}" xmlns:xl="http://www.w3.org/1999/xlink" type="static" mediaPresentationDuration="PT90S">
      <Period xl:href="https://ads.example/p1.xml" xl:actuate="onLoad" start="PT0S" duration="PT60S"/>
      <Period id="main" start="PT60S"><AdaptationSet xl:href="elsewhere.xml"/><AdaptationSet mimeType="video/mp4">
        <SegmentList duration="10"><SegmentURL media="1.mp4"/><SegmentURL media="2.mp4"/><SegmentURL media="3.mp4"/></SegmentList>
        <Representation id="lo" bandwidth="200000"/><Representation id="hi" bandwidth="600000"/></AdaptationSet></Period></MPD>""")
    assert f["periods"] == 2 and m.periods[0].remote_href == "https://ads.example/p1.xml"
    assert m.periods[0].adaptation_sets == [] and m.periods[0].duration_s == 60.0
    assert [v["bandwidth_bps"] for v in f["video"]] == [200000, 600000]
    assert (f["first_video_segments"], f["segment_duration_s"], f["duration_s"]) == (3, 10.0, 90.0)
    assert any("Period[1]" in w and "not fetched" in w for w in m.warnings)
    assert any("AdaptationSet[1]" in w and "remote AdaptationSet" in w for w in m.warnings)
    assert [a["id"] for a in f["adaptation_sets"]] == [None]  # the remote set is skipped


def test_lower_case_duration_designators_are_read_with_a_warning():
    # "PT1M00s": 1 minute and 0 seconds, written with a lower-case S.
    m, f = facts(f"""<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT1M00s"><Period>
      <AdaptationSet mimeType="video/mp4"><SegmentTemplate duration="4" media="$Number$.m4s"/>
      <Representation id="v" bandwidth="1"/></AdaptationSet></Period></MPD>""")
    assert (f["duration_s"], f["first_video_segments"]) == (60.0, 15)
    assert any("MPD@mediaPresentationDuration" in w and "lower-case" in w for w in m.warnings)
    with pytest.raises(ManifestError) as e:  # still no guessing at what is not a duration
        parse_manifest(f'<MPD xmlns="{NS}" type="static" mediaPresentationDuration="1 minute"><Period/></MPD>', "d.mpd")
    assert "MPD@mediaPresentationDuration" in str(e.value)


def test_fractional_variant_bandwidth_is_truncated_like_hls_js_and_m3u8():
    m, f = facts("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=999999.9\na.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000000.0\nb.m3u8\n", "h.m3u8")
    assert [v["bandwidth_bps"] for v in f["video"]] == [999999, 2000000]
    assert sum("truncated" in w for w in m.warnings) == 2


def test_empty_segment_list_lists_no_segments():
    m, f = facts(f"""<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT6S"><Period>
      <AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="5"><SegmentList/></Representation>
      </AdaptationSet></Period></MPD>""")
    assert (f["first_video_segments"], f["segment_duration_s"]) == (0, None)
    assert any("SegmentList has no SegmentURL" in w for w in m.warnings)


def test_a_list_of_video_codecs_only_is_reported_as_written():
    # AVC base layer plus its SVC enhancement (DASH-IF conformance examples): both video.
    _, f = facts(f"""<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT2S"><Period><AdaptationSet>
      <SegmentTemplate duration="2" media="$Number$.mp4"/>
      <Representation id="s" mimeType="video/mp4" bandwidth="128000" codecs="avc1.644028, svc1"/></AdaptationSet></Period></MPD>""")
    assert f["video"][0]["codecs"] == "avc1.644028, svc1"


def test_daterange_without_id_is_dropped_and_the_segments_kept():
    # RFC 8216 4.3.2.7 requires ID; hls.js ignores such a range. Live (no ENDLIST):
    # segments of 15, 15.5, 29.5 s; the longest is 29.5 s.
    m, f = facts("#EXTM3U\n#EXT-X-TARGETDURATION:30\n"
                 '#EXT-X-DATERANGE:ID="ok",START-DATE="2000-01-01T00:00:00Z",DURATION=30.5\n'
                 '#EXT-X-DATERANGE:X-CUSTOM="value"\n'
                 '#EXT-X-DATERANGE:ID="bad-dur",START-DATE="2000-01-01T00:00:00Z",DURATION=long\n'
                 "#EXTINF:15,\na.ts\n#EXTINF:15.5,\nb.ts\n#EXTINF:29.5,\nc.ts\n", "http://h.example/live.m3u8")
    assert (f["is_live"], f["first_video_segments"], f["segment_duration_s"]) == (True, 3, 29.5)
    assert [w for w in m.warnings if "DATERANGE" in w] == [
        "line 4: #EXT-X-DATERANGE has no ID; ignored",
        "line 5: #EXT-X-DATERANGE DURATION='long' is not a number; ignored",
    ]


def test_variant_with_bandwidth_zero_is_listed_at_zero():
    # BANDWIDTH=0 is a decimal-integer; hls.js, Shaka and ExoPlayer load the variant.
    # Ascending: 0 (the 1080p variant that gave no rate), then 300000, then 700000.
    m, f = facts("#EXTM3U\n"
                 '#EXT-X-STREAM-INF:BANDWIDTH=0,CODECS="avc1.64002A,mp4a.40.2",RESOLUTION=1920x1080\nsrc.m3u8\n'
                 '#EXT-X-STREAM-INF:BANDWIDTH=700000,RESOLUTION=640x360\n360.m3u8\n'
                 '#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=284x160\n160.m3u8\n', "http://h.example/m.m3u8")
    assert [(v["bandwidth_bps"], v["height"]) for v in f["video"]] == [(0, 1080), (300000, 160), (700000, 360)]
    assert any("line 2: #EXT-X-STREAM-INF BANDWIDTH 0" in w for w in m.warnings)
    for bad in ("-5", "x"):  # still refused, with its line
        with pytest.raises(ManifestError) as e:
            parse_manifest(f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH={bad}\nv.m3u8\n", "b.m3u8")
        assert "line 2" in str(e.value) and "BANDWIDTH" in str(e.value)


def test_inspect_table_shows_an_unknown_bitrate(tmp_path):
    import subprocess
    import sys

    p = tmp_path / "nobw.mpd"
    p.write_text(f"""<MPD xmlns="{NS}" type="static" mediaPresentationDuration="PT4S"><Period>
      <AdaptationSet mimeType="video/mp4"><SegmentTemplate duration="2" media="$Number$.m4s"/>
      <Representation id="z" width="640" height="360"/></AdaptationSet></Period></MPD>""")
    out = subprocess.run([sys.executable, "-m", "player", "inspect", str(p)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines() if "640x360" in line)
    assert row.split()[1] == "-"  # bandwidth column: unknown, not 0
