"""The stub over real HTTP on loopback: signed URLs, traversal, body limits, ranges,
caching, steering and health checks."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import pytest_asyncio

from server_stub.edge import ADMIN_KEY_HEADER
from server_stub.stack import Stack, TitleSpec, Topology
from server_stub.tokens import Signer

TITLE = "t1"
pytestmark = pytest.mark.asyncio


def small_topology(**kw) -> Topology:
    base = dict(titles=[TitleSpec(TITLE, segments=4, audio_kbps=[64]), TitleSpec("t2", segments=2)], health_interval_s=0.1, speed=20.0)
    base.update(kw)
    return Topology(**base)


@pytest_asyncio.fixture
async def stack():
    async with Stack(small_topology()) as s:
        yield s


@pytest_asyncio.fixture
async def http():
    async with aiohttp.ClientSession() as h:
        yield h


async def playback(http, s, title=TITLE, client="c1"):
    async with http.post(s.control_url + "/playback", json={"title": title, "client_id": client}, headers={"X-API-Key": s.api_key}) as r:
        assert r.status == 200, await r.text()
        return await r.json()


# Every content route of an edge, relative to the signed base.
CONTENT_PATHS = [
    f"/titles/{TITLE}/manifest.mpd",
    f"/titles/{TITLE}/manifest-list.mpd",
    f"/titles/{TITLE}/master.m3u8",
    f"/titles/{TITLE}/master-br.m3u8",
    f"/titles/{TITLE}/title.json",
    f"/titles/{TITLE}/v0/media.m3u8",
    f"/titles/{TITLE}/v0/media-br.m3u8",
    f"/titles/{TITLE}/v0/init.mp4",
    f"/titles/{TITLE}/v0/1.m4s",
    f"/titles/{TITLE}/v0/all.mp4",
    f"/titles/{TITLE}/a0/2.m4s",
]


async def test_signed_urls_work_and_bad_tokens_get_403_on_every_edge_route(stack, http):
    pb = await playback(http, stack)
    sid = pb["session_id"]
    good = Signer(stack.topology.secret).sign(sid, TITLE, 60)
    expired = Signer(stack.topology.secret).sign(sid, TITLE, -1)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    other_key = Signer("another-secret-of-enough-length").sign(sid, TITLE, 60)
    wrong_title = Signer(stack.topology.secret).sign(sid, "t2", 60)
    for edge_url in stack.edge_urls:
        for path in CONTENT_PATHS:
            for method in ("GET", "HEAD"):
                async with http.request(method, f"{edge_url}/t/{good}{path}", headers={"Range": "bytes=0-99"}) as r:
                    assert r.status in (200, 206), (path, r.status)
                async with http.request(method, f"{edge_url}{path}") as r:
                    assert r.status == 403, ("missing", path)
                for tok, why in ((forged, "forged"), (other_key, "forged"), (expired, "expired"), (wrong_title, "scope"), ("garbage", "malformed")):
                    async with http.request(method, f"{edge_url}/t/{tok}{path}") as r:
                        assert r.status == 403, (why, path, method)
                        if method == "GET":
                            assert (await r.json())["error"] == f"token {why}"
        trace = [{"duration_ms": 1000, "bandwidth_kbps": 1000, "latency_ms": 10}]
        for method in ("POST", "DELETE"):
            async with http.request(method, f"{edge_url}/session", json={"trace": trace}) as r:
                assert r.status == 403
            for tok in (forged, expired, "garbage"):
                async with http.request(method, f"{edge_url}/t/{tok}/session", json={"trace": trace, "speed": 20.0}) as r:
                    assert r.status == 403
            async with http.request(method, f"{edge_url}/t/{good}/session", json={"trace": trace, "speed": 20.0}) as r:
                assert r.status == 200
        # The admin API has its own key.
        async with http.get(f"{edge_url}/_admin/faults") as r:
            assert r.status == 403
        async with http.put(f"{edge_url}/_admin/faults", json={"down": True}, headers={ADMIN_KEY_HEADER: "wrong"}) as r:
            assert r.status == 403


async def raw_get(url: str, path: str) -> int:
    """Send ``path`` exactly as written (aiohttp's client would normalise it)."""
    host, port = url.split("//")[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return int(line.split()[1])


TRAVERSALS = [
    "/titles/{t}/../../../../etc/passwd",
    "/titles/{t}/v0/../../../etc/passwd",
    "/titles/%2e%2e/%2e%2e/etc/passwd",
    "/titles/{t}/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/titles/{t}/..%2f..%2fetc%2fpasswd",
    "/titles/{t}/v0/..%252f..%252fpasswd",
    "/titles/{t}/.%2e/.%2e/passwd",
    "/titles/..;/etc/passwd",
    "/titles/{t}/v0/%2e%2e",
]


async def test_traversal_is_404_on_origin_and_edges(stack, http):
    pb = await playback(http, stack)
    base_path = "/" + pb["edges"][0]["base_url"].split("/", 3)[3]
    for p in TRAVERSALS:
        p = p.format(t=TITLE)
        assert await raw_get(stack.origin_url, p) in (403, 404)  # origin: key check first
        for url in stack.edge_urls:
            assert await raw_get(url, base_path + p) == 404, p
            assert await raw_get(url, p) == 404, p
    # The origin, with its key, also answers 404.
    host = stack.origin_url
    async with http.get(host + f"/titles/{TITLE}/v0/1.m4s") as r:
        assert r.status == 403
    for p in TRAVERSALS:
        reader, writer = await asyncio.open_connection(*host.split("//")[1].split(":"))
        writer.write(f"GET {p.format(t=TITLE)} HTTP/1.1\r\nHost: x\r\nX-Abrlab-Origin-Key: {stack.origin_key}\r\nConnection: close\r\n\r\n".encode())
        line = await reader.readline()
        writer.close()
        assert int(line.split()[1]) == 404, p


async def test_oversized_bodies_get_413(stack, http):
    big = b'{"title": "' + b"x" * 100_000 + b'"}'
    async with http.post(stack.control_url + "/playback", data=big, headers={"X-API-Key": stack.api_key, "Content-Type": "application/json"}) as r:
        assert r.status == 413

    async def chunked():
        for _ in range(40):
            yield b"x" * 1024

    async with http.post(stack.control_url + "/playback", data=chunked(), headers={"X-API-Key": stack.api_key}) as r:
        assert r.status == 413
    pb = await playback(http, stack)
    huge = json.dumps({"trace": [{"duration_ms": 1000, "bandwidth_kbps": 1000}] * 40_000}).encode()
    assert len(huge) > 1024 * 1024
    async with http.post(pb["edges"][0]["session_url"], data=huge) as r:
        assert r.status == 413
    async with http.put(stack.edge_urls[0] + "/_admin/faults", data=huge, headers={ADMIN_KEY_HEADER: stack.topology.admin_key}) as r:
        assert r.status == 413


async def test_control_plane_keys_and_errors(stack, http):
    url = stack.control_url + "/playback"
    async with http.post(url, json={"title": TITLE}) as r:
        assert r.status == 401
    async with http.post(url, json={"title": TITLE}, headers={"X-API-Key": "nope"}) as r:
        assert r.status == 401
    async with http.post(url, json={"title": TITLE}, headers={"Authorization": f"Bearer {stack.api_key}"}) as r:
        assert r.status == 200
    async with http.post(url, json={"title": "missing"}, headers={"X-API-Key": stack.api_key}) as r:
        assert r.status == 404
    async with http.post(url, data=b"{not json", headers={"X-API-Key": stack.api_key}) as r:
        assert r.status == 400
    async with http.post(url, json={"title": TITLE, "device": "tv"}, headers={"X-API-Key": stack.api_key}) as r:
        assert r.status == 400
    async with http.post(stack.control_url + "/edges", json={"edge_id": "evil", "url": "http://x"}) as r:
        assert r.status == 403
    pb = await playback(http, stack)
    assert pb["abr"] == {"spec": "bola", "source": "default"}
    assert {e["edge_id"] for e in pb["edges"]} == {"edge1", "edge2"}
    for kind in ("dash", "hls", "dash_ranges", "hls_ranges", "native"):
        async with http.get(pb["edges"][0]["manifests"][kind]) as r:
            assert r.status == 200


async def test_steering_is_sticky_per_client_and_drops_dead_edges(stack, http):
    firsts = {(await playback(http, stack, client=f"c{i}"))["edges"][0]["edge_id"] for i in range(12)}
    assert firsts == {"edge1", "edge2"}  # rendezvous hashing spreads clients
    again = [(await playback(http, stack, client="c7"))["edges"][0]["edge_id"] for _ in range(3)]
    assert len(set(again)) == 1
    await stack.kill_edge(0)
    for _ in range(60):
        pb = await playback(http, stack, client="c7")
        if [e["edge_id"] for e in pb["edges"]] == ["edge2"]:
            break
        await asyncio.sleep(0.05)
    assert [e["edge_id"] for e in pb["edges"]] == ["edge2"]
    async with http.get(stack.control_url + "/edges", headers={"X-API-Key": stack.api_key}) as r:
        states = {e["edge_id"]: e["healthy"] for e in (await r.json())["edges"]}
    assert states == {"edge1": False, "edge2": True}


async def test_fault_down_takes_an_edge_out_of_steering_and_back(stack, http):
    admin = {ADMIN_KEY_HEADER: stack.topology.admin_key}
    async with http.put(stack.edge_urls[1] + "/_admin/faults", json={"down": True}, headers=admin) as r:
        assert r.status == 200
    with pytest.raises(aiohttp.ClientError):
        async with http.get(stack.edge_urls[1] + "/health") as r:
            pass
    for _ in range(60):
        ids = [e["edge_id"] for e in (await playback(http, stack))["edges"]]
        if ids == ["edge1"]:
            break
        await asyncio.sleep(0.05)
    assert ids == ["edge1"]
    async with http.put(stack.edge_urls[1] + "/_admin/faults", json={"down": False}, headers=admin) as r:
        assert r.status == 200
    for _ in range(60):
        ids = [e["edge_id"] for e in (await playback(http, stack))["edges"]]
        if len(ids) == 2:
            break
        await asyncio.sleep(0.05)
    assert sorted(ids) == ["edge1", "edge2"]


async def test_ranges_and_cache_metrics(stack, http):
    pb = await playback(http, stack)
    base = pb["edges"][0]["base_url"] + f"/titles/{TITLE}/v1/"
    edge_url = stack.edge_urls[[e.config.edge_id for e in stack.edges].index(pb["edges"][0]["edge_id"])]
    async with http.get(base + "2.m4s") as r:
        whole = await r.read()
        assert r.status == 200 and r.headers["X-Cache"] == "MISS"
        assert int(r.headers["Content-Length"]) == len(whole)
    async with http.get(base + "2.m4s", headers={"Range": "bytes=100-199"}) as r:
        assert r.status == 206 and r.headers["X-Cache"] == "HIT"
        assert r.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
        assert await r.read() == whole[100:200]
    async with http.get(base + "2.m4s", headers={"Range": "bytes=-10"}) as r:
        assert r.status == 206 and await r.read() == whole[-10:]
    async with http.get(base + "2.m4s", headers={"Range": f"bytes={len(whole)}-"}) as r:
        assert r.status == 416 and r.headers["Content-Range"] == f"bytes */{len(whole)}"
    # A range of the single-file layout is the same bytes as the segment file.
    async with http.get(base + "media-br.m3u8") as r:
        lines = (await r.text()).splitlines()
    n, off = (int(x) for x in [l for l in lines if l.startswith("#EXT-X-BYTERANGE")][1].split(":")[1].split("@"))
    for expect in ("MISS", "HIT"):
        async with http.get(base + "all.mp4", headers={"Range": f"bytes={off}-{off + n - 1}"}) as r:
            assert r.status == 206 and r.headers["X-Cache"] == expect
            assert await r.read() == whole
    async with http.get(edge_url + "/metrics") as r:
        m = await r.json()
    assert m["cache"]["hits"] >= 4 and m["cache"]["misses"] >= 2
    assert 0 < m["cache"]["hit_ratio"] < 1 and m["bytes_served"] >= 2 * len(whole)
    async with http.get(edge_url + "/metrics?format=prometheus") as r:
        text = await r.text()
    assert 'abrlab_edge_cache_hit_ratio{edge="' in text


async def test_prefill_warms_the_cache(stack, http):
    admin = {ADMIN_KEY_HEADER: stack.topology.admin_key}
    async with http.post(stack.edge_urls[0] + "/_admin/prefill", json={"title": TITLE}, headers=admin) as r:
        info = await r.json()
        assert r.status == 200 and info["fetched_bytes"] > 0
    assert stack.edges[0].cache.stats.misses > 0
    hits = stack.edges[0].cache.stats.hits
    tok = Signer(stack.topology.secret).sign("s1", TITLE, 60)
    async with http.get(f"{stack.edge_urls[0]}/t/{tok}/titles/{TITLE}/v0/3.m4s") as r:
        assert r.headers["X-Cache"] == "HIT"
    assert stack.edges[0].cache.stats.hits == hits + 1


async def test_bad_trace_registration_names_the_problem(stack, http):
    pb = await playback(http, stack)
    url = pb["edges"][0]["session_url"]
    bad = [{"duration_ms": 1000, "bandwidth_kbps": 100}, {"duration_ms": -5, "bandwidth_kbps": 100}]
    async with http.post(url, json={"trace": bad, "speed": 20.0}) as r:
        assert r.status == 400
        assert "entry 2" in (await r.json())["error"]
    async with http.post(url, json={"trace": [{"duration_ms": 1000, "bandwidth_kbps": 1}], "speed": 3}) as r:
        assert r.status == 409 and (await r.json())["speed"] == 20.0
