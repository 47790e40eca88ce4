"""DASH resolver cases computed by hand from ISO/IEC 23009-1."""

import pytest

from player.manifest import parse_manifest
from player.manifest.errors import Limits, ManifestError


def mpd(body, attrs='type="static" mediaPresentationDuration="PT10S"', ns="urn:mpeg:dash:schema:mpd:2011"):
    return f'<?xml version="1.0"?><MPD xmlns="{ns}" {attrs}>{body}</MPD>'


def first_rep(m, p=0, a=0, r=0):
    return m.periods[p].adaptation_sets[a].representations[r]


def test_template_identifiers_width_and_dollar():
    m = parse_manifest(mpd("""<BaseURL>http://a.example/x/</BaseURL><Period><AdaptationSet mimeType="video/mp4">
        <SegmentTemplate media="$RepresentationID$/$Bandwidth$/s$Number%05d$_$$_$Time$.m4s" duration="2" timescale="1" startNumber="7"
          initialization="$RepresentationID$/init.mp4"/>
        <Representation id="hd" bandwidth="3000000"/></AdaptationSet></Period>"""), "m.mpd")
    segs = first_rep(m).segments
    assert segs.count == 5  # ceil(10 / 2)
    assert segs.ref(0).url == "http://a.example/x/hd/3000000/s00007_$_0.m4s"
    assert segs.ref(4).url == "http://a.example/x/hd/3000000/s00011_$_8.m4s"
    assert segs.init.url == "http://a.example/x/hd/init.mp4"


def test_timeline_repeat_gap_and_clip_to_period_end():
    # 10 s Period, timescale 10: 3x2 s, a gap of 1 s, then r=-1 of 2 s up to the end.
    m = parse_manifest(mpd("""<Period duration="PT10S"><AdaptationSet mimeType="video/mp4">
        <SegmentTemplate media="$Time$.m4s" timescale="10"><SegmentTimeline>
          <S t="0" d="20" r="2"/><S t="70" d="20" r="-1"/></SegmentTimeline></SegmentTemplate>
        <Representation id="v" bandwidth="100"/></AdaptationSet></Period>"""), "m.mpd")
    segs = first_rep(m).segments
    # gap absorbed by the 3rd segment (4..7 s), then 7..9, 9..10 (cut at the Period end)
    assert segs.durations_s == [2.0, 2.0, 3.0, 2.0, 1.0]
    assert [segs.ref(i).url.rsplit("/", 1)[1] for i in range(5)] == ["0.m4s", "20.m4s", "40.m4s", "70.m4s", "90.m4s"]
    assert segs.nominal_duration_s == 2.0
    assert any("gap" in w for w in m.warnings)


def test_inheritance_and_base_url_chain():
    m = parse_manifest(mpd("""<BaseURL>http://cdn.example/root/</BaseURL>
      <Period><BaseURL>p1/</BaseURL>
        <SegmentTemplate timescale="1000" duration="4000"/>
        <AdaptationSet mimeType="video/mp4" codecs="avc1.4d401f" width="1280" height="720"><BaseURL>video/</BaseURL>
          <SegmentTemplate media="$RepresentationID$-$Number$.m4s" startNumber="0"/>
          <Representation id="a" bandwidth="500000"><BaseURL>../other/</BaseURL></Representation>
          <Representation id="b" bandwidth="900000" height="1080" width="1920"/>
        </AdaptationSet></Period>"""), "m.mpd")
    a, b = m.periods[0].adaptation_sets[0].representations
    assert a.segments.count == 3  # ceil(10 / 4): timescale/duration inherited from the Period
    assert a.segments.ref(0).url == "http://cdn.example/root/p1/other/a-0.m4s"
    assert b.segments.ref(2).url == "http://cdn.example/root/p1/video/b-2.m4s"
    assert (a.width, a.height, a.codecs) == (1280, 720, "avc1.4d401f")
    assert (b.width, b.height) == (1920, 1080)


def test_segment_list_with_media_ranges_gives_exact_sizes():
    m = parse_manifest(mpd("""<Period><AdaptationSet mimeType="audio/mp4" lang="fr"><Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
        <Representation id="a" bandwidth="64000"><BaseURL>a.mp4</BaseURL>
        <SegmentList timescale="1000" duration="5000"><Initialization range="0-99"/>
          <SegmentURL mediaRange="100-1099"/><SegmentURL mediaRange="1100-1599"/></SegmentList>
        </Representation></AdaptationSet></Period>"""), "http://x.example/m.mpd")
    aset = m.periods[0].adaptation_sets[0]
    assert (aset.content_type, aset.lang, aset.roles) == ("audio", "fr", ("main",))
    segs = aset.representations[0].segments
    assert segs.sizes_bytes == [1000, 500]
    assert segs.ref(1).url == "http://x.example/a.mp4" and segs.ref(1).byte_range == (1100, 1599)


def test_multi_period_timing_and_legacy_namespace():
    m = parse_manifest(mpd("""<Period duration="PT4S"><AdaptationSet mimeType="video/mp4">
        <SegmentTemplate media="$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>
      <Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s" duration="2"/>
        <Representation id="v" bandwidth="1"/></AdaptationSet></Period>""", ns="urn:mpeg:DASH:schema:MPD:2011"), "m.mpd")
    assert [(p.start_s, p.duration_s) for p in m.periods] == [(0.0, 4.0), (4.0, 6.0)]
    assert first_rep(m, 1).segments.count == 3
    assert any("legacy namespace" in w for w in m.warnings)


def test_content_protection_recorded():
    m = parse_manifest(mpd("""<Period><AdaptationSet mimeType="video/mp4" xmlns:cenc="urn:mpeg:cenc:2013">
        <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="1234"/>
        <ContentProtection schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"/>
        <SegmentTemplate media="$Number$.m4s" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>"""), "m.mpd")
    cps = m.periods[0].adaptation_sets[0].content_protection
    assert [(c.system, c.default_kid) for c in cps] == [("cenc", "1234"), ("widevine", None)]


@pytest.mark.parametrize("body,where,what", [
    ('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="x" duration="2"/><Representation id="v" bandwidth="fast"/></AdaptationSet></Period>',
     "Representation[1](id=v)@bandwidth", "not an unsigned integer"),
    ('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="x" timescale="0" duration="2"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>',
     "SegmentTemplate@timescale", "positive"),
    ('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="x"><SegmentTimeline><S d="0"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period>',
     "S[1]", "S@d must be positive"),
    ('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="x"/><Representation id="v" bandwidth="1"/></AdaptationSet></Period>',
     "SegmentTemplate", "neither @duration nor a SegmentTimeline"),
    ('<Period duration="PT1X"><AdaptationSet/></Period>', "Period[1]@duration", "not an ISO 8601 duration"),
])
def test_errors_name_the_element(body, where, what):
    with pytest.raises(ManifestError) as e:
        parse_manifest(mpd(body), "bad.mpd")
    assert str(e.value).startswith("bad.mpd: ")
    assert where in str(e.value) and what in str(e.value)


def test_expansion_limits():
    huge_r = mpd('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="x"><SegmentTimeline>'
                 '<S d="1" r="99999999999"/></SegmentTimeline></SegmentTemplate><Representation id="v" bandwidth="1"/></AdaptationSet></Period>',
                 attrs='type="static"')
    with pytest.raises(ManifestError, match=f"more than {Limits().max_segments} segments"):
        parse_manifest(huge_r, "a.mpd")
    long = mpd('<Period><AdaptationSet mimeType="video/mp4"><SegmentTemplate media="x" duration="1"/>'
               '<Representation id="v" bandwidth="1"/></AdaptationSet></Period>', attrs='type="static" mediaPresentationDuration="P100Y"')
    with pytest.raises(ManifestError, match="limit"):
        parse_manifest(long, "b.mpd")
    deep = "<a>" * 40 + "</a>" * 40
    with pytest.raises(ManifestError, match="deeper than 32"):
        parse_manifest(mpd(f"<Period>{deep}</Period>"), "c.mpd")
    with pytest.raises(ManifestError, match="over the 100-byte limit"):
        parse_manifest(mpd("<Period/>"), "d.mpd", limits=Limits(max_bytes=100))


def test_entity_declarations_rejected():
    bomb = ('<?xml version="1.0"?><!DOCTYPE MPD [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">&b;</MPD>')
    with pytest.raises(ManifestError, match="entities"):
        parse_manifest(bomb, "bomb.mpd")


def test_nonessential_bad_attribute_tolerated():
    m = parse_manifest(mpd('<Period><AdaptationSet id="video-main" mimeType="video/mp4"><SegmentTemplate media="$Number$" duration="5"/>'
                           '<Representation id="v" bandwidth="1"/></AdaptationSet></Period>'), "m.mpd")
    assert m.periods[0].adaptation_sets[0].id == "video-main"
    assert first_rep(m).segments.count == 2
