"""Big and hostile manifests: refused by a limit with a clear error, or read the same way
whatever path the reader takes (hand-written inputs; small Limits keep the tests fast)."""

import pytest

from player.manifest import parse_manifest
from player.manifest.errors import Limits, ManifestError
from player.manifest.facts import manifest_facts

NS = "urn:mpeg:dash:schema:mpd:2011"


def mpd(body, attrs='type="static" mediaPresentationDuration="PT100S"'):
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<MPD xmlns="{NS}" {attrs}>\n{body}\n</MPD>\n'


def video(inner, rep='<Representation id="v" bandwidth="1000"/>'):
    return f'<Period><AdaptationSet mimeType="video/mp4">{inner}{rep}</AdaptationSet></Period>'


def test_timeline_with_too_many_s_elements_is_refused_while_scanning():
    s = "".join(f'<S d="{1 + i % 2}"/>' for i in range(51))
    doc = mpd(video(f'<SegmentTemplate media="$Time$.m4s"><SegmentTimeline>{s}</SegmentTimeline></SegmentTemplate>'))
    with pytest.raises(ManifestError) as e:
        parse_manifest(doc, "big.mpd", limits=Limits(max_timeline_entries=50))
    assert "big.mpd: line 3: a SegmentTimeline has more than 50 S elements" == str(e.value)


def test_segment_list_with_too_many_urls_is_refused():
    urls = "".join(f'<SegmentURL media="{i}.m4s"/>' for i in range(21))
    doc = mpd(video(f'<SegmentList duration="1">{urls}</SegmentList>'))
    with pytest.raises(ManifestError, match="a SegmentList has more than 20 SegmentURLs"):
        parse_manifest(doc, "list.mpd", limits=Limits(max_segments=20))


def test_too_many_representations_are_refused_before_any_is_read():
    reps = "".join(f'<Representation id="r{i}" bandwidth="{i + 1}"/>' for i in range(11))
    doc = mpd(video('<SegmentTemplate media="$Number$.m4s" duration="2"/>', reps))
    with pytest.raises(ManifestError, match="more than 10 Representations"):
        parse_manifest(doc, "reps.mpd", limits=Limits(max_representations=10))


def test_dom_element_limit_counts_everything_but_timelines_and_lists():
    s = "".join('<S d="1"/>' for _ in range(300))  # kept aside: not DOM elements
    doc = mpd(video(f'<SegmentTemplate media="$Time$.m4s"><SegmentTimeline>{s}</SegmentTimeline></SegmentTemplate>'))
    m = parse_manifest(doc, "ok.mpd", limits=Limits(max_dom_elements=10))  # MPD Period AS ST Timeline Rep = 6
    assert manifest_facts(m)["first_video_segments"] == 100  # 300 S of 1 s, cut at the 100 s Period end
    events = "".join(f'<Event id="{i}"/>' for i in range(10))
    doc = mpd(f'<Period><EventStream schemeIdUri="urn:x">{events}</EventStream></Period>')
    with pytest.raises(ManifestError, match="more than 10 XML elements besides S and SegmentURL"):
        parse_manifest(doc, "events.mpd", limits=Limits(max_dom_elements=10))


def test_playlist_with_too_many_segments_is_refused_at_the_line():
    text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n" + "#EXTINF:2,\ns.ts\n" * 31
    with pytest.raises(ManifestError) as e:
        parse_manifest(text, "long.m3u8", limits=Limits(max_segments=30))
    assert str(e.value) == "long.m3u8: line 64: more than 30 segments"  # the 31st URI line


# A manifest whose timeline and segment list go around the DOM (UTF-8) must read exactly as
# the same manifest read through the DOM (UTF-16, whose bytes are not rewritten).
TRICKY = f'''<?xml version="1.0" encoding="{{enc}}"?>
<dash:MPD xmlns:dash="{NS}" type="static" mediaPresentationDuration="PT12S">
 <dash:Period>
  <dash:AdaptationSet mimeType="video/mp4">
   <dash:SegmentTemplate media="$Time$.m4s" timescale="10">
    <dash:SegmentTimeline>
     <!-- a comment inside the timeline -->
     <dash:S t="0" d="30"
             r="1"/>
     <dash:S d="20"></dash:S>
     <dash:S t="90" d="30"/>
    </dash:SegmentTimeline>
   </dash:SegmentTemplate>
   <dash:Representation id="t" bandwidth="100"/>
  </dash:AdaptationSet>
  <dash:AdaptationSet mimeType="audio/mp4">
   <dash:Representation id="l" bandwidth="50"><dash:BaseURL>a.mp4</dash:BaseURL>
    <dash:SegmentList duration="4"><dash:Initialization range="0-9"/>
     <dash:SegmentURL media="p&gt;1.m4s" mediaRange="10-19"/><dash:SegmentURL mediaRange="20-39"></dash:SegmentURL>
     <dash:SegmentURL mediaRange="40-99" media="x'>'.m4s"/>
    </dash:SegmentList>
   </dash:Representation>
  </dash:AdaptationSet>
 </dash:Period>
 <dash:Metrics metrics="x" yt:undeclared="1"/>
</dash:MPD>
'''


@pytest.mark.parametrize("enc,codec", [("UTF-8", "utf-8"), ("UTF-16", "utf-16")])
def test_timelines_and_segment_lists_read_the_same_around_or_through_the_dom(enc, codec):
    m = parse_manifest(TRICKY.replace("{enc}", enc).encode(codec), "http://o.example/t.mpd")
    video_segs = m.periods[0].adaptation_sets[0].representations[0].segments
    # 3 s, 3 s, 2 s, then a 1 s gap absorbed into the third (8 -> 9 s), then 3 s.
    assert video_segs.durations_s == [3.0, 3.0, 3.0, 3.0]
    assert [video_segs.ref(i).url for i in range(4)] == [f"http://o.example/{t}.m4s" for t in (0, 30, 60, 90)]
    audio_segs = m.periods[0].adaptation_sets[1].representations[0].segments
    assert audio_segs.durations_s == [4.0, 4.0, 4.0]
    assert [(audio_segs.ref(i).url, audio_segs.ref(i).byte_range) for i in range(3)] == [
        ("http://o.example/p%3E1.m4s", (10, 19)), ("http://o.example/a.mp4", (20, 39)), ("http://o.example/x'%3E'.m4s", (40, 99))]
    assert audio_segs.sizes_bytes == [10, 20, 60]
    # The undeclared prefix is on line 25 of the file either way (line breaks are kept).
    assert any(w.startswith("line 25,") and "undeclared namespace prefix" in w for w in m.warnings)
    assert not any("not the DASH namespace" in w for w in m.warnings)  # dash: is bound to it
    assert any("S[3]" in w and "gap of 10 ticks" in w for w in m.warnings)


@pytest.mark.parametrize("text,where", [
    ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n#EXT-X-BYTERANGE:18446744073709551616@0\na.ts\n", "line 4"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"10@9007199254740990\"\n#EXTINF:2,\na.ts\n", "line 3"),
    # implicit offsets creeping past the bound: 2**52 bytes, then 2**52 + 1 (ends at byte 2**53)
    ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n#EXT-X-BYTERANGE:4503599627370496@0\na.ts\n"
     "#EXTINF:2,\n#EXT-X-BYTERANGE:4503599627370497\na.ts\n", "line 8"),
])
def test_byte_ranges_past_2_to_the_53_are_refused(text, where):
    # Sizes are kept as int64 for playback; a range past JavaScript's exact integers is nonsense.
    with pytest.raises(ManifestError) as e:
        parse_manifest(text, "r.m3u8")
    assert f"r.m3u8: {where}: " in str(e.value) and "9007199254740991" in str(e.value)
    dash = mpd(video('<SegmentList duration="2"><SegmentURL media="a" mediaRange="0-18446744073709551615"/></SegmentList>'))
    with pytest.raises(ManifestError, match=r"SegmentURL\[1\]@mediaRange.*out of range"):
        parse_manifest(dash, "r.mpd")
