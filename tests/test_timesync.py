"""Live clock synchronisation from the MPD's UTCTiming (ISO/IEC 23009-1 5.8.5.7)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiohttp import web

from player.http.live import LiveFollower
from player.http.play import request_playback
from player.http.timesync import TimeSourceError, parse_instant, synchronise
from player.manifest import parse_manifest
from server_stub.stack import Stack, TitleSpec, Topology

AST = 1_600_000_000.0  # 2020-09-13T12:26:40Z (hand-checked: 18,518 days + 44,800 s)


def test_instants_in_the_forms_time_sources_answer():
    assert parse_instant("2020-09-13T12:26:40Z", "t") == AST
    assert parse_instant(" 2020-09-13T12:26:40.250Z\n", "t") == AST + 0.25
    assert parse_instant("2020-09-13T14:26:40+02:00", "t") == AST  # an offset, not UTC
    assert parse_instant("2020-09-13T12:26:40", "t") == AST  # no zone: UTC (DASH-IF IOP)
    assert parse_instant("1600000000.5", "t") == AST + 0.5  # time.akamai.com without ?iso
    for bad in ("", "hello", "2020-13-45T99:00:00Z", "-5", "nan", "9" * 300):
        with pytest.raises(TimeSourceError):
            parse_instant(bad, "t")


@pytest.mark.asyncio
async def test_direct_scheme_needs_no_request():
    async def no_fetch(url, rng):  # pragma: no cover - must not be called
        raise AssertionError(url)

    out = await synchronise([("urn:mpeg:dash:utc:direct:2014", "2020-09-13T12:26:40Z")], "http://x/m.mpd", no_fetch, wall=lambda: 1000.0)
    assert out.sync is not None and out.sync.offset_s == AST - 1000.0
    assert out.sync.now(1010.0) == AST + 10.0 and out.sync.now(1010.0, speed=4.0) == AST + 40.0


@pytest.mark.asyncio
async def test_sources_are_tried_in_order_until_one_answers(aiohttp_server):
    async def iso(request):
        return web.Response(text="2020-09-13T12:26:40.500Z")

    async def bad(request):
        return web.Response(text="<html>not a time</html>")

    app = web.Application()
    app.router.add_get("/live/iso", iso)
    app.router.add_get("/bad", bad)
    server = await aiohttp_server(app)
    base = str(server.make_url("/live/x.mpd"))
    async with aiohttp.ClientSession() as http:
        async def fetch(url, rng):
            async with http.get(url) as r:
                r.raise_for_status()
                return await r.read()

        timing = [
            ("urn:mpeg:dash:utc:ntp:2014", "pool.ntp.org"),  # UDP: not supported
            ("urn:mpeg:dash:utc:http-xsdate:2014", "/bad /missing"),  # garbage, then a 404
            ("urn:mpeg:dash:utc:http-iso:2014", "iso"),  # relative to the manifest: /live/iso
        ]
        out = await synchronise(timing, base, fetch)
    assert out.sync is not None and out.sync.server_s == AST + 0.5
    assert out.sync.url == str(server.make_url("/live/iso"))
    assert len(out.warnings) == 3
    assert "not supported" in out.warnings[0] and "not an ISO 8601" in out.warnings[1] and "/missing" in out.warnings[2]
    # Nothing answers: the local clock, said plainly.
    out = await synchronise([("urn:mpeg:dash:utc:http-iso:2014", "http://127.0.0.1:9/none")], base, _refusing_fetch)
    assert out.sync is None and "local clock" in out.warnings[-1]


async def _refusing_fetch(url, rng):
    raise ConnectionRefusedError(url)


@pytest.mark.asyncio
async def test_a_player_with_a_wrong_clock_follows_the_stubs_live_edge():
    """The stub's live MPD names its /time; a follower whose wall clock is 10 minutes
    fast still computes the window the server has (without the sync it would believe
    the whole event had already been published)."""
    speed = 20.0
    t = Topology(titles=[TitleSpec("lv", segments=40, segment_duration_s=2.0, live=True)], speed=speed, edge_count=1)
    async with Stack(t) as s:
        await asyncio.sleep(12.0 / speed)  # 12 s of event time: segments 1-6 exist
        pb = await request_playback(s.control_url, s.api_key, "lv")
        url = pb["edges"][0]["base_url"] + "/titles/lv/manifest.mpd"
        async with aiohttp.ClientSession() as http:
            async def fetch(u, rng):
                async with http.get(u) as r:
                    r.raise_for_status()
                    return await r.read()

            m = parse_manifest(await fetch(url, None), url, url=url)
            assert m.is_live and m.live.utc_timing == [("urn:mpeg:dash:utc:http-iso:2014", "/time")]
            skewed = LiveFollower(url, fetch, speed, wall=lambda: time.time() + 600.0)
            track = s.catalog.get("lv").video
            before = s.origin.live_clock.state(track).available
            title = await skewed.load()
            after = s.origin.live_clock.state(track).available
            server_now = s.origin.live_clock.now_unix()
            assert skewed.sync is not None and skewed.sync.url == pb["edges"][0]["base_url"].split("/t/")[0] + "/time"
            assert abs(skewed.event_now(m) - server_now) < 0.5 * speed  # half a wall second of slack
            # The window ends at the segment the server had published meanwhile (a 10 min
            # fast clock would claim all 40).
            assert before <= title.meta["live_edge_number"] <= after < 40



@pytest.mark.asyncio
async def test_play_reports_what_was_tolerated_and_the_clock_fallback():
    """`abrlab play` prints these (and --json carries them): a lower-case duration the
    parser read anyway, and a live follower left on its own clock."""
    from player.http.play import PlayResult
    from player.http.source import HttpTitle
    from player.manifest import to_title

    text = f"""<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"
     availabilityStartTime="2020-09-13T12:26:40Z" minimumUpdatePeriod="PT2s"><Period start="PT0S">
     <AdaptationSet mimeType="video/mp4"><SegmentTemplate media="$Number$.m4s" duration="2" startNumber="1"/>
     <Representation id="v" bandwidth="1000000"/></AdaptationSet></Period>
     <UTCTiming schemeIdUri="urn:mpeg:dash:utc:ntp:2014" value="pool.ntp.org"/></MPD>"""
    m = parse_manifest(text, "http://l.example/live.mpd")
    follower = LiveFollower("http://l.example/live.mpd", _refusing_fetch, wall=lambda: AST + 61.0)
    await follower.synchronise(m)
    assert follower.sync is None
    source = HttpTitle(to_title(m, now_s=AST + 61.0), "http://l.example/live.mpd", "dash", live=True, manifest=m, follower=follower)
    res = PlayResult(session=None, source=source, driver=None)  # type: ignore[arg-type]
    w = res.warnings()
    assert any("PT2s" in x and "lower-case" in x for x in w)
    assert any("ntp:2014" in x and "not supported" in x for x in w)
    assert any("local clock" in x for x in w)
