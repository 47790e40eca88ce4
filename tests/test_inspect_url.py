"""``abrlab inspect URL`` against a real aiohttp server on loopback (manifest, then the
sidx index range fetched with an HTTP Range request)."""

import asyncio
import json
import struct
import sys

import pytest
from aiohttp import web

pytestmark = pytest.mark.asyncio

MPD = """<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT5S">
 <Period><AdaptationSet mimeType="video/mp4">
  <Representation id="lo" bandwidth="300000" width="640" height="360" codecs="avc1.4d401e"><BaseURL>lo.mp4</BaseURL>
   <SegmentBase indexRange="16-83"><Initialization range="0-15"/></SegmentBase></Representation>
  <Representation id="hi" bandwidth="900000" width="1280" height="720" codecs="avc1.4d401f"><BaseURL>hi.mp4</BaseURL>
   <SegmentBase indexRange="16-83"><Initialization range="0-15"/></SegmentBase></Representation>
 </AdaptationSet></Period></MPD>"""


def _media() -> bytes:
    body = bytes(4) + struct.pack(">II", 1, 1000) + struct.pack(">II", 0, 0) + struct.pack(">HH", 0, 3)
    for size, dur in ((100, 2000), (100, 2000), (50, 1000)):
        body += struct.pack(">III", size, dur, 0x90000000)
    sidx = struct.pack(">I", 8 + len(body)) + b"sidx" + body
    assert len(sidx) == 68
    return struct.pack(">I", 16) + b"ftyp" + b"isomisom" + sidx + bytes(250)


async def _run(*args):
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "player", "inspect", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_inspect_url_with_sidx_fetched_over_http(aiohttp_server):
    media = _media()
    ranges = []

    async def manifest(request):
        return web.Response(text=MPD, content_type="application/dash+xml")

    async def mp4(request):
        rng = request.http_range
        ranges.append((request.path, rng.start, rng.stop))
        return web.Response(body=media[rng], status=206 if request.headers.get("Range") else 200)

    app = web.Application()
    app.router.add_get("/v/stream.mpd", manifest)
    app.router.add_get("/v/{name}.mp4", mp4)
    server = await aiohttp_server(app)
    url = str(server.make_url("/v/stream.mpd"))

    code, out, err = await _run("--json", url)
    assert code == 0, err
    f = json.loads(out)
    assert f["format"] == "dash" and f["source"] == url
    assert [(v["bandwidth_bps"], v["width"]) for v in f["video"]] == [(300000, 640), (900000, 1280)]
    assert f["first_video_segments"] is None  # SegmentBase: needs the sidx
    assert ranges == []

    code, out, err = await _run("--json", "--resolve", url)
    assert code == 0, err
    f = json.loads(out)
    assert f["first_video_segments"] == 3 and f["segment_duration_s"] == 2.0
    assert sorted(ranges) == [("/v/hi.mp4", 16, 84), ("/v/lo.mp4", 16, 84)]  # Range: bytes=16-83


async def test_inspect_url_errors_are_one_line(aiohttp_server):
    async def broken(request):
        return web.Response(text="<MPD><Period>", content_type="application/dash+xml")

    app = web.Application()
    app.router.add_get("/bad.mpd", broken)
    server = await aiohttp_server(app)
    code, out, err = await _run(str(server.make_url("/bad.mpd")))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "/bad.mpd" in err and "XML" in err
    code, out, err = await _run(str(server.make_url("/missing.mpd")))
    assert code == 2 and "HTTP 404" in err and len(err.strip().splitlines()) == 1
