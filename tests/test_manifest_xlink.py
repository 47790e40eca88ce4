"""Remote Periods (xlink:href, ISO/IEC 23009-1 5.5) resolved when the manifest is:
hand-written MPDs and fragments, expected timing and segments worked out by hand."""

from __future__ import annotations

import pytest
from aiohttp import web

from player.manifest import parse_manifest, to_title
from player.manifest.facts import manifest_facts
from player.manifest.resolve import resolve_manifest, resolve_manifest_async
from player.manifest.xlink import MAX_DEPTH

BASE = "http://o.example/live/"
NS = 'xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink"'


def mpd(middle: str, duration: str = "PT40S") -> str:
    # main1: 0-10 s, five 2 s segments; the remote Period in the middle; main2 from 30 s
    # to the end (40 s): five 2 s segments numbered from 6.
    return f"""<?xml version="1.0"?>
<MPD {NS} type="static" mediaPresentationDuration="{duration}">
  <Period id="main1" start="PT0S" duration="PT10S">
    <AdaptationSet mimeType="video/mp4"><SegmentTemplate media="a/$Number$.m4s" duration="2" startNumber="1"/>
      <Representation id="v1" bandwidth="1000000" width="1280" height="720"/></AdaptationSet>
  </Period>
  {middle}
  <Period id="main2" start="PT30S">
    <AdaptationSet mimeType="video/mp4"><SegmentTemplate media="b/$Number$.m4s" duration="2" startNumber="6"/>
      <Representation id="v1" bandwidth="1000000" width="1280" height="720"/></AdaptationSet>
  </Period>
</MPD>"""


AD = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- a 20 s ad break: five 4 s segments -->
<Period id="ad" start="PT10S" duration="PT20S">
  <AdaptationSet mimeType="video/mp4"><SegmentTemplate media="ad/$Number$.m4s" duration="4" startNumber="1"/>
    <Representation id="v1" bandwidth="500000" width="640" height="360"/></AdaptationSet>
</Period>"""


class Files:
    """A fetcher over a dict of URL -> bytes that records what was asked."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.asked = files, []

    def __call__(self, url, rng):
        self.asked.append(url)
        if url not in self.files:
            raise FileNotFoundError(f"{url}: 404")
        return self.files[url]


def test_a_remote_period_is_fetched_and_played_in_place():
    m = parse_manifest(mpd('<Period xlink:href="breaks/ad.xml" xlink:actuate="onLoad"/>'), BASE + "main.mpd")
    assert [p.remote_href for p in m.periods] == [None, "breaks/ad.xml", None]
    assert to_title(m).video.n_segments == 10  # unresolved: the break is unknown
    fetch = Files({BASE + "breaks/ad.xml": AD})  # relative to the MPD's URL
    resolve_manifest(m, fetch)
    assert fetch.asked == [BASE + "breaks/ad.xml"]
    assert [(p.id, p.start_s, p.duration_s) for p in m.periods] == [("main1", 0.0, 10.0), ("ad", 10.0, 20.0), ("main2", 30.0, 10.0)]
    assert not any("remote Period" in w for w in m.warnings)
    t = to_title(m)
    # 5 + 5 + 5 segments; the ad's media URLs resolve against the MPD (it has no BaseURL).
    assert t.video.n_segments == 15
    assert [t.video.segment_ref(i, 0).url for i in (4, 5, 9, 10)] == [
        BASE + "a/5.m4s", BASE + "ad/1.m4s", BASE + "ad/5.m4s", BASE + "b/6.m4s"]
    assert list(t.video.segment_durations_s[3:7]) == [2.0, 2.0, 4.0, 4.0]
    assert manifest_facts(m)["periods"] == 3


def test_zero_periods_remove_it_and_failures_leave_it_with_a_warning():
    # An empty fragment is zero Periods (5.5.3): the break is taken out; main2's 30 s start
    # stands, so the presentation has a 20 s gap the parser reports, not our business here.
    m = parse_manifest(mpd('<Period xlink:href="none.xml"/>'), BASE + "main.mpd")
    resolve_manifest(m, Files({BASE + "none.xml": b'<?xml version="1.0"?>\n'}))
    assert [p.id for p in m.periods] == ["main1", "main2"]
    # A 404 and a fragment that is not Periods: the Period stays unresolved, said plainly.
    for files, words in (({}, "could not be fetched"), ({BASE + "ad.xml": b"<html>busy</html>"}, "does not start with a Period")):
        m = parse_manifest(mpd('<Period xlink:href="ad.xml"/>'), BASE + "main.mpd")
        resolve_manifest(m, Files(files))
        assert m.periods[1].remote_href == "ad.xml" and m.periods[1].adaptation_sets == []
        assert any(words in w for w in m.warnings), m.warnings
        assert to_title(m).video.n_segments == 10


def test_nested_remote_elements_are_followed_to_a_bound():
    inner = AD.replace(b'<Period id="ad"', b'<Period id="ad-inner"')
    outer = b'<Period xlink:href="inner.xml"/>'
    m = parse_manifest(mpd('<Period xlink:href="outer.xml"/>'), BASE + "main.mpd")
    fetch = Files({BASE + "outer.xml": outer, BASE + "inner.xml": inner})
    resolve_manifest(m, fetch)
    assert fetch.asked == [BASE + "outer.xml", BASE + "inner.xml"]
    assert [p.id for p in m.periods] == ["main1", "ad-inner", "main2"]
    # A Period that refers to itself: MAX_DEPTH fetches, then left unresolved with a warning.
    loop = b'<Period xlink:href="loop.xml"/>'
    m = parse_manifest(mpd('<Period xlink:href="loop.xml"/>'), BASE + "main.mpd")
    fetch = Files({BASE + "loop.xml": loop})
    resolve_manifest(m, fetch)
    assert len(fetch.asked) == MAX_DEPTH
    assert any(f"deeper than {MAX_DEPTH}" in w for w in m.warnings)


@pytest.mark.asyncio
async def test_over_http_the_player_plays_the_break(aiohttp_server):
    """A real server on loopback: the MPD, the remote Period and every segment; the HTTP
    driver resolves the break and requests its segments between the main ones."""
    from player.http.play import play_url

    main = mpd('<Period xlink:href="ad.xml" xlink:actuate="onLoad"/>').encode()
    seen: list[str] = []

    async def handle(request):
        path = request.path
        seen.append(path)
        if path == "/live/main.mpd":
            return web.Response(body=main, content_type="application/dash+xml")
        if path == "/live/ad.xml":
            return web.Response(body=AD, content_type="application/xml")
        if path.endswith(".m4s"):
            return web.Response(body=b"\0" * 20_000, content_type="video/mp4")
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server = await aiohttp_server(app)
    m = parse_manifest(main, str(server.make_url("/live/main.mpd")))
    await resolve_manifest_async(m)  # the default fetcher: aiohttp
    assert [p.id for p in m.periods] == ["main1", "ad", "main2"]

    res = await play_url(str(server.make_url("/live/main.mpd")), "fixed:rung=0", speed=200.0)
    assert res.session.end_reason == "completed" and not res.warnings()
    media = [p for p in seen if p.endswith(".m4s")]
    assert media == [f"/live/a/{k}.m4s" for k in range(1, 6)] + [f"/live/ad/{k}.m4s" for k in range(1, 6)] + [
        f"/live/b/{k}.m4s" for k in range(6, 11)]


def test_a_remote_adaptation_set_is_fetched_into_its_period():
    # main1 keeps its video; its audio lives elsewhere (5.5 allows xlink on AdaptationSet).
    audio = b"""<AdaptationSet mimeType="audio/mp4" lang="en">
      <SegmentTemplate media="aud/$Number$.m4s" duration="2" startNumber="1"/>
      <Representation id="a1" bandwidth="64000" codecs="mp4a.40.2"/></AdaptationSet>"""
    text = mpd("").replace('</AdaptationSet>\n  </Period>', '</AdaptationSet>\n    <AdaptationSet xlink:href="audio.xml"/>\n  </Period>', 1)
    m = parse_manifest(text, BASE + "main.mpd")
    assert [a.content_type for a in m.periods[0].adaptation_sets] == ["video"]
    assert any("remote AdaptationSet" in w for w in m.warnings)
    # A remote Period's own children are replaced with it: not fetched separately.
    nested = mpd('<Period xlink:href="ad.xml"><AdaptationSet xlink:href="never.xml"/></Period>')
    fetch = Files({BASE + "audio.xml": audio, BASE + "ad.xml": AD})
    resolve_manifest(m, fetch)
    assert [(a.content_type, a.lang) for a in m.periods[0].adaptation_sets] == [("video", None), ("audio", "en")]
    assert m.periods[0].adaptation_sets[1].representations[0].bandwidth_bps == 64000
    m2 = parse_manifest(nested, BASE + "main.mpd")
    resolve_manifest(m2, fetch)
    assert fetch.asked == [BASE + "audio.xml", BASE + "ad.xml"]
    assert [p.id for p in m2.periods] == ["main1", "ad", "main2"]
    # Wrong kind of fragment for an AdaptationSet: left out, said.
    m3 = parse_manifest(text, BASE + "main.mpd")
    resolve_manifest(m3, Files({BASE + "audio.xml": AD}))
    assert len(m3.periods[0].adaptation_sets) == 1
    assert any("does not start with an AdaptationSet element" in w for w in m3.warnings)


def test_a_failed_remote_element_is_asked_for_once_while_the_others_resolve():
    text = mpd('<Period xlink:href="ad.xml"/>').replace(
        '</AdaptationSet>\n  </Period>', '</AdaptationSet>\n    <AdaptationSet xlink:href="gone.xml"/>\n  </Period>', 1)
    m = parse_manifest(text, BASE + "main.mpd")
    fetch = Files({BASE + "ad.xml": AD})
    resolve_manifest(m, fetch)
    assert sorted(fetch.asked) == [BASE + "ad.xml", BASE + "gone.xml"]  # once each
    assert [p.id for p in m.periods] == ["main1", "ad", "main2"]
    assert sum("'gone.xml' could not be fetched" in w for w in m.warnings) == 1
