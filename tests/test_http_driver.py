"""The HTTP driver against the real stub on loopback: playback through the control plane,
every manifest layout, and what production throws at a player (a dead edge, 503s,
resets, stalls, expiring tokens). Sessions run at --speed 40 on short titles."""

from __future__ import annotations

import asyncio
import random

import aiohttp
import pytest
from aiohttp import web

from abr.base import AbrAlgorithm
from abr.registry import create
from player.http.driver import DriverConfig, PlayError
from player.http.edges import EdgeSet, Endpoint
from player.http.play import play_title, play_url, request_playback
from player.http.resilience import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, RetryPolicy
from player.results import result_row
from player.sim import simulate
from qoe.events import Error, ManifestLoaded, SegmentAbandoned, SegmentLoaded, SegmentRequested
from server_stub.edge import ADMIN_KEY_HEADER
from server_stub.origin import Origin, make_origin_app
from server_stub.stack import Stack, TitleSpec, Topology
from traces.model import constant_trace

SPEED = 40.0
TRACE = constant_trace(3e6, 60.0, 0.04)


def topo(segments: int = 12, **kw) -> Topology:
    base = dict(titles=[TitleSpec("t", segments=segments, segment_duration_s=2.0, audio_kbps=[64])], speed=SPEED, health_interval_s=0.1)
    base.update(kw)
    return Topology(**base)


async def set_faults(stack: Stack, faults: dict, edges: list[int] | None = None) -> None:
    async with aiohttp.ClientSession() as http:
        for i in edges if edges is not None else range(len(stack.edges)):
            async with http.put(stack.edge_urls[i] + "/_admin/faults", json=faults, headers={ADMIN_KEY_HEADER: stack.topology.admin_key}) as r:
                assert r.status == 200, await r.text()


async def prefill(stack: Stack, title: str = "t") -> None:
    async with aiohttp.ClientSession() as http:
        for url in stack.edge_urls:
            async with http.post(url + "/_admin/prefill", json={"title": title}, headers={ADMIN_KEY_HEADER: stack.topology.admin_key}) as r:
                assert r.status == 200


def loaded(session, media: str = "video") -> list[SegmentLoaded]:
    return [e for e in session.log.of_type(SegmentLoaded) if e.media == media]


def errors(session) -> list[Error]:
    return session.log.of_type(Error)  # type: ignore[return-value]


@pytest.mark.asyncio
@pytest.mark.parametrize("manifest", ["dash", "hls", "dash_ranges", "hls_ranges", "native"])
async def test_plays_every_manifest_layout_through_the_control_plane(manifest):
    async with Stack(topo(6)) as s:
        res = await play_title(s.control_url, s.api_key, "t", "bola", manifest=manifest, trace=TRACE)
    sess = res.session
    assert sess.end_reason == "completed"
    assert [e.index for e in loaded(sess)] == list(range(6))
    assert [e.index for e in loaded(sess, "audio")] == list(range(6))
    assert res.source.title.video.sizes_known == (manifest in ("dash_ranges", "hls_ranges", "native"))
    (m,) = sess.log.of_type(ManifestLoaded)
    assert m.format in ("dash", "hls", "abrlab-stub") and m.url.endswith((".mpd", ".m3u8", ".json"))
    assert res.playback is not None and res.playback["abr"]["spec"] == "bola"
    # Sizes reported are what arrived, which for the stub is the catalog's exact size.
    title = s.catalog.get("t")
    for e in loaded(sess):
        assert e.size_bytes == title.video.sizes_bytes[e.index, e.rung]  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_http_matches_simulation_on_a_steady_link():
    """On a constant-rate trace the session's decisions and QoE are the simulator's."""
    tr = constant_trace(2.5e6, 60.0, 0.05)
    # At --speed k a millisecond of host overhead is k ms of session time; on a loaded
    # machine speed 10 made a throughput sample cross a rung threshold now and then, so
    # this agreement check runs at speed 4.
    async with Stack(topo(10, speed=4.0)) as s:
        await prefill(s)  # a cache miss costs an origin fill the simulator does not model
        res = await play_title(s.control_url, s.api_key, "t", "throughput", manifest="native", trace=tr)
    sim = simulate(res.source.title, tr, create("throughput", "default"), "default", audio_abr=create("throughput", "default"))
    assert [e.rung for e in loaded(res.session)] == [e.rung for e in loaded(sim)]
    q_http = result_row(res.session, tr, "throughput", "t")["qoe_lin"]
    q_sim = result_row(sim, tr, "throughput", "t")["qoe_lin"]
    assert q_http == pytest.approx(q_sim, rel=0.03)
    # Transfer times agree segment by segment (the edge shapes by the same curve).
    for h, m in zip(loaded(res.session), loaded(sim)):
        assert h.transfer_s == pytest.approx(m.transfer_s, abs=0.08)


@pytest.mark.asyncio
async def test_an_edge_killed_mid_session_fails_over_and_the_session_completes():
    async with Stack(topo(16)) as s:
        killed: list[str] = []

        def on_status(st):
            if st.loaded >= 4 and not killed:
                killed.append(st.edge)
                idx = [e.config.edge_id for e in s.edges].index(st.edge)
                asyncio.get_running_loop().create_task(s.kill_edge(idx))

        res = await play_title(s.control_url, s.api_key, "t", "bola", manifest="dash", trace=TRACE,
                               driver_config=DriverConfig(status_interval_s=0.01), on_status=on_status)
    sess = res.session
    assert killed and sess.end_reason == "completed"
    assert len(loaded(sess)) == 16
    stats = {e["name"]: e for e in res.stats()["edges"]}
    other = next(n for n in stats if n != killed[0])
    assert stats[killed[0]]["failures"] >= 1 and stats[other]["requests"] >= 1
    assert res.driver.edges.failovers >= 1
    assert {e.kind for e in errors(sess)} & {"reset", "payload", "connect"}


@pytest.mark.asyncio
async def test_five_percent_503s_are_retried_and_the_session_completes():
    async with Stack(topo(60)) as s:
        await set_faults(s, {"error_rate": 0.05, "seed": 7})
        res = await play_title(s.control_url, s.api_key, "t", "bba", manifest="dash", trace=constant_trace(8e6, 60.0, 0.02))
        injected = sum(e.faults.injected["errors"] for e in s.edges)
    sess = res.session
    assert sess.end_reason == "completed" and len(loaded(sess)) == 60
    assert injected >= 2  # the seed gives a handful; the test means nothing without them
    seg_503 = [e for e in errors(sess) if e.kind == "http-503"]
    assert seg_503 and all(not e.fatal for e in seg_503)
    assert res.driver.errors == injected  # every injected error was seen and survived


@pytest.mark.asyncio
async def test_a_reset_mid_body_is_retried():
    async with Stack(topo(12)) as s:
        await set_faults(s, {"reset_rate": 0.3, "only": "segment", "seed": 3})
        res = await play_title(s.control_url, s.api_key, "t", "bola", manifest="native", trace=TRACE)
        resets = sum(e.faults.injected["resets"] for e in s.edges)
    sess = res.session
    assert resets >= 1 and sess.end_reason == "completed"
    assert [e.index for e in loaded(sess)] == list(range(12))
    errs = [e for e in errors(sess) if e.kind in ("payload", "reset")]
    assert len(errs) >= 1
    # The segment that broke was asked for again.
    requested = [(e.media, e.index) for e in sess.log.of_type(SegmentRequested)]
    assert len(requested) > len(set(requested))


@pytest.mark.asyncio
async def test_a_stalled_body_times_out_and_fails_over():
    async with Stack(topo(8)) as s:
        pb = await request_playback(s.control_url, s.api_key, "t", client_id="stall")
        first = pb["edges"][0]["edge_id"]
        await set_faults(s, {"stall_rate": 1.0, "stall_at": 0.5, "stall_s": None, "only": "segment"},
                         [[e.config.edge_id for e in s.edges].index(first)])
        res = await play_title(s.control_url, s.api_key, "t", "bola", manifest="native", trace=TRACE, client_id="stall",
                               driver_config=DriverConfig(read_timeout_s=2.0))
    sess = res.session
    assert sess.end_reason == "completed"
    assert any(e.kind == "timeout" for e in errors(sess))
    assert res.driver.edges.endpoints[res.driver.edges.current].name != first


@pytest.mark.asyncio
async def test_expired_tokens_are_refreshed_through_the_control_plane():
    async with Stack(topo(40, token_ttl_s=1.0, speed=20.0)) as s:
        res = await play_title(s.control_url, s.api_key, "t", "bola", manifest="native", trace=TRACE, speed=20.0)
        playbacks = s.control.playbacks  # type: ignore[union-attr]
    assert res.session.end_reason == "completed"
    assert any(e.kind == "http-403" for e in errors(res.session))
    assert playbacks >= 2


@pytest.mark.asyncio
async def test_the_player_and_the_stub_must_agree_on_speed():
    async with Stack(topo(4)) as s:
        with pytest.raises(PlayError, match="speed"):
            await play_title(s.control_url, s.api_key, "t", "bola", trace=TRACE, speed=3.0)
        pb = await request_playback(s.control_url, s.api_key, "t")
        with pytest.raises(PlayError, match="speed"):
            await play_url(pb["edges"][0]["manifests"]["native"], "bola", trace=TRACE, speed=2.0)
        # A plain origin (no key, no shaping) plays, but cannot take a trace.
        runner = web.AppRunner(make_origin_app(Origin(s.catalog)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        plain = "http://127.0.0.1:%d/titles/t/title.json" % site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            ok = await play_url(plain, "bola", speed=SPEED)
            assert ok.session.end_reason == "completed"
            with pytest.raises(PlayError, match="not an abrlab edge"):
                await play_url(plain, "bola", trace=TRACE, speed=SPEED)
        finally:
            await runner.cleanup()
        with pytest.raises(PlayError, match="HTTP 404"):
            await play_title(s.control_url, s.api_key, "nope", "bola", speed=SPEED)
        with pytest.raises(PlayError, match="HTTP 401"):
            await play_title(s.control_url, "wrong", "t", "bola", speed=SPEED)


class GreedyThenAbandon(AbrAlgorithm):
    """A test plug-in: always asks for the top rung, gives up on it half-way."""

    name = "greedy-abandon"

    def decide(self, ctx):
        return ctx.n_rungs - 1 if ctx.segment_index % 2 == 0 else 0

    def should_abandon(self, ctx, progress):
        if progress.rung > 0 and progress.bytes_loaded > progress.size_bytes // 4:
            return 0
        return None


@pytest.mark.asyncio
async def test_abandonment_works_over_http():
    async with Stack(topo(6)) as s:
        res = await play_title(s.control_url, s.api_key, "t", GreedyThenAbandon(), manifest="native", trace=constant_trace(1e6, 60.0, 0.02))
    sess = res.session
    ab = sess.log.of_type(SegmentAbandoned)
    assert sess.end_reason == "completed" and len(ab) == 3
    assert all(e.to_rung == 0 for e in ab)  # type: ignore[attr-defined]
    assert [e.rung for e in loaded(sess)] == [0] * 6


def test_circuit_breaker_opens_half_opens_and_closes():
    b = CircuitBreaker(failure_threshold=2, cooldown_s=1.0, max_cooldown_s=4.0)
    assert b.allows(0.0)
    b.on_failure(0.0)
    assert b.state == CLOSED and b.allows(0.1)
    b.on_failure(0.2)
    assert b.state == OPEN and not b.allows(0.5)
    assert b.allows(1.3) and b.state == HALF_OPEN
    b.on_attempt()
    assert not b.allows(1.31)  # one trial at a time
    b.on_failure(1.4)
    assert b.state == OPEN and b.cooldown_s == 2.0 and not b.allows(3.0)
    assert b.allows(3.5)
    b.on_attempt()
    b.on_success()
    assert b.state == CLOSED and b.cooldown_s == 1.0


def test_backoff_is_full_jitter_capped():
    p = RetryPolicy(base_s=0.1, cap_s=1.0)
    rng = random.Random(1)
    for attempt in range(8):
        waits = [p.backoff_s(attempt, rng) for _ in range(200)]
        bound = min(1.0, 0.1 * 2**attempt)
        assert all(0.0 <= w <= bound for w in waits)
        assert max(waits) > 0.8 * bound  # spread over the whole range


def test_edge_set_rebases_urls_and_fails_over_sticky():
    a = Endpoint("a", "http://h1:1/t/tok", CircuitBreaker(2, 5.0))
    b = Endpoint("b", "http://h2:2/t/tok", CircuitBreaker(2, 5.0))
    es = EdgeSet([a, b])
    url = "http://h1:1/t/tok/titles/x/v0/1.m4s"
    assert es.pick(url, 0.0) is a
    assert es.rebase(url, b) == "http://h2:2/t/tok/titles/x/v0/1.m4s"
    es.failed(a, 0.0)
    assert es.pick(url, 0.1) is b and es.failovers == 1
    es.succeeded(b)
    assert es.pick(url, 0.2) is b  # sticky: stays on the edge that works
    es.replace_bases({"b": "http://h2:2/t/new"})
    assert es.rebase(url, b) == "http://h2:2/t/new/titles/x/v0/1.m4s"
    assert es.rebase("http://h2:2/t/tok/titles/x/a", a) == "http://h1:1/t/tok/titles/x/a"
    foreign = "http://cdn.example/x.m4s"
    assert not es.can_serve(foreign, a) and es.pick(foreign, 0.3) is None


@pytest.mark.asyncio
@pytest.mark.parametrize("manifest", ["dash", "hls"])
async def test_a_live_event_is_followed_from_near_its_edge_to_its_end(manifest):
    """A live title (DASH dynamic MPD / HLS EVENT playlist) is refreshed as it grows."""
    t = Topology(titles=[TitleSpec("lv", segments=16, segment_duration_s=2.0, live=True, audio_kbps=[64])], speed=SPEED, health_interval_s=0.1)
    async with Stack(t) as s:
        # 10 s of event time: segments 1-5 exist when the player arrives.
        await asyncio.sleep(10.0 / SPEED)
        res = await play_title(s.control_url, s.api_key, "lv", "bola", manifest=manifest, trace=constant_trace(5e6, 60.0, 0.02))
    sess = res.session
    f = res.source.follower
    assert res.source.live and f is not None and f.ended
    assert sess.end_reason == "completed"
    if manifest == "dash":  # the MPD names the edge's /time (UTCTiming); HLS has no such element
        assert f.sync is not None and f.sync.url.endswith("/time") and not f.warnings
    start = res.source.title.meta["live_start_number"]
    edge = res.source.title.meta["live_edge_number"]
    # Three segment durations behind the edge (suggestedPresentationDelay / 3 target
    # durations): 6 s of 2 s segments. At least 10 s of event time had passed (segments
    # 1-5 existed); how much more depends on how busy the machine is (1 wall ms = 40 ms).
    assert edge - start + 1 == 3 and edge >= 5 and start >= 3
    video = loaded(sess)
    assert len(video) == 16 - start + 1 and (edge == 16 or f.refreshes >= 1)  # it grew: refreshed
    # Every segment played is the one its number names, up to the last of the event.
    title = s.catalog.get("lv")
    assert [e.size_bytes for e in video] == [int(title.video.sizes_bytes[start - 1 + i, e.rung]) for i, e in enumerate(video)]  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_live_manifests_are_not_cached_and_future_segments_are_404():
    t = Topology(titles=[TitleSpec("lv", segments=10, segment_duration_s=2.0, live=True)], speed=SPEED, edge_count=1)
    async with Stack(t) as s:
        pb = await request_playback(s.control_url, s.api_key, "lv")
        base = pb["edges"][0]["base_url"] + "/titles/lv/"
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "manifest.mpd") as r:
                first = await r.text()
                assert r.headers["Cache-Control"] == "no-cache" and 'type="dynamic"' in first
            async with http.get(base + "v0/9.m4s") as r:
                assert r.status == 404
            async with http.get(base + "manifest-list.mpd") as r:
                assert r.status == 404  # single-file layouts only once the event is over
            await asyncio.sleep(21.0 / SPEED)
            async with http.get(base + "manifest.mpd") as r:
                assert 'type="static"' in await r.text()
            async with http.get(base + "v0/9.m4s") as r:
                assert r.status == 200
            async with http.get(base + "v0/media.m3u8") as r:
                assert (await r.text()).rstrip().endswith("#EXT-X-ENDLIST")
