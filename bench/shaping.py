"""Shaping accuracy of the edge: goodput a player receives versus the trace's capacity.

For each session: register a real trace from ../shared with the edge, keep the link
busy (``--loops`` back-to-back segment requests in parallel on separate connections,
so a request's latency never leaves the link idle), and timestamp every chunk the
client reads. Per 1 s window of trace time, compare the bytes received with the bytes
the trace's capacity curve allows in that window:

    error(w) = |received(w) - capacity(w)| / capacity(w)

Windows are the trace's own seconds, from the first whole second after the session's
first byte (the first request's latency is not link time) to one window before the end;
windows whose capacity is under 5 % of the trace's mean (outages) are left out and
counted. Bytes are counted when the client reads them, no interpolation. The client is
a minimal asyncio HTTP/1.1 reader (a measuring instrument must cost less than what it
measures) and tells the edge where trace time 0 is as a Unix time.

Phases:
1. accuracy at speed 1 and at speed 10: traces from hsdpa3g, belgium4g and fcc_sd;
2. capacity at speed 10: N concurrent sessions on hsdpa3g traces, N growing until the
   median error passes 5 %; the stub is one process (``abrlab serve``, one edge), the
   clients run in this process.

    python -m bench.shaping            # the full run (a few minutes)
    python -m bench.shaping --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass, field

import aiohttp
import numpy as np

from bench.stubproc import SHARED, StubProcess, playback, prefill
from server_stub.shaping import CapacityCurve
from traces.formats import load_trace, write_sabre
from traces.model import Trace

TITLE = "bench"
# One 8 Mbps rendition (4 MB segments): big requests, fully cached after a prefill.
TOPOLOGY = """
[stack]
speed = {speed}
[edges]
count = 1
cache_mb = 512
tick_s = {tick}
[control]
health_interval_s = 2.0
[[title]]
name = "bench"
complexity = 1.0
ladder = "fixed"
segments = 6
variability = 0.0
"""
TOP_RID = "v9"  # 5.8 Mbps, 1080p on the fixed ladder
SEGMENTS = 6
OUTAGE_FRACTION = 0.05


@dataclass
class Recording:
    trace: Trace
    t0: float = 0.0  # loop time at which the session's trace time was 0
    times: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: int = 0


class _BodyClock(asyncio.Protocol):
    """A minimal keep-alive HTTP/1.1 GET client that timestamps every read.

    The measuring instrument has to be cheaper than the thing it measures: aiohttp's
    stream reader costs ~20 us per read, which at a 1 ms shaping tick and dozens of
    sessions would make the client, not the edge, the bottleneck. Here a read costs an
    append."""

    def __init__(self, rec: "Recording") -> None:
        self.rec = rec
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.left = -1  # body bytes still to come; -1 while reading headers
        self.done: asyncio.Future[int] | None = None
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get(self, host: str, path: str) -> "asyncio.Future[int]":
        self.done = asyncio.get_running_loop().create_future()
        self.head, self.left = b"", -1
        assert self.transport is not None
        self.transport.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        return self.done

    def data_received(self, data: bytes) -> None:
        if self.left < 0:
            self.head += data
            i = self.head.find(b"\r\n\r\n")
            if i < 0:
                return
            head, data = self.head[:i], self.head[i + 4 :]
            lines = head.split(b"\r\n")
            self.status = int(lines[0].split()[1])
            self.left = 0
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    self.left = int(v)
            if not data:
                self._maybe_done()
                return
        n = len(data)
        self.rec.times.append(time.monotonic())
        self.rec.sizes.append(n)
        self.left -= n
        self._maybe_done()

    def _maybe_done(self) -> None:
        if self.left <= 0 and self.done is not None and not self.done.done():
            self.done.set_result(self.status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionResetError("closed"))


async def run_session(http: aiohttp.ClientSession, info: dict, trace: Trace, speed: float, duration_s: float, loops: int, client: str) -> Recording:
    pb = await playback(http, info, TITLE, client)
    edge = pb["edges"][0]
    base_url = edge["base_url"]
    hostport = base_url.split("/")[2]
    host, port = hostport.rsplit(":", 1)
    path = "/" + base_url.split("/", 3)[3] + f"/titles/{TITLE}/{TOP_RID}/"
    rec = Recording(trace)
    loop = asyncio.get_running_loop()
    conns = [await loop.create_connection(lambda: _BodyClock(rec), host, int(port)) for _ in range(loops)]
    # Trace time 0 is now, as a Unix time the edge shares (see server_stub.shaping).
    rec.t0 = time.monotonic()
    origin = time.time()
    body = {"trace": json.loads(write_sabre(trace)), "name": trace.name, "origin_unix_s": origin, "speed": speed}
    async with http.post(edge["session_url"], json=body) as r:
        if r.status != 200:
            raise RuntimeError(f"register: HTTP {r.status} {await r.text()}")
    end = rec.t0 + duration_s / speed

    async def fetch_loop(k: int) -> None:
        proto = conns[k][1]
        n = k
        while (left := end - time.monotonic()) > 0:
            try:
                # The session ends at ``end`` even in the middle of a response.
                status = await asyncio.wait_for(proto.get(hostport, path + f"{n % SEGMENTS + 1}.m4s"), left)
            except asyncio.TimeoutError:
                return
            except ConnectionResetError:
                rec.errors += 1
                return
            if status != 200:
                rec.errors += 1
            n += loops

    await asyncio.gather(*(fetch_loop(k) for k in range(loops)))
    for tr, _ in conns:
        tr.close()
    return rec


def window_errors(rec: Recording, speed: float, duration_s: float, window_s: float = 1.0) -> tuple[list[float], int]:
    """Per-window relative errors (trace-time windows) and the number of outage windows skipped."""
    if not rec.times:
        return [], 0
    curve = CapacityCurve(rec.trace)
    t = (np.asarray(rec.times) - rec.t0) * speed
    cum = np.cumsum(np.asarray(rec.sizes, dtype=np.float64))
    mean_bps = rec.trace.mean_rate_bps
    errs: list[float] = []
    skipped = 0
    # Windows on the trace's own second grid, from the first whole second after the
    # first byte (the first request's latency is not link time).
    a = math.ceil(float(t[0]) / window_s) * window_s
    while a + 2 * window_s <= duration_s:
        b = a + window_s
        cap = (curve.bits_at(b) - curve.bits_at(a)) / 8.0
        got = _bytes_by(t, cum, b) - _bytes_by(t, cum, a)
        if cap < OUTAGE_FRACTION * mean_bps * window_s / 8.0:
            skipped += 1
        else:
            errs.append(abs(got - cap) / cap)
        a = b
    return errs, skipped


def _bytes_by(t: np.ndarray, cum: np.ndarray, x: float) -> float:
    """Bytes read by trace time ``x`` (chunks counted when read)."""
    i = int(np.searchsorted(t, x, side="right"))
    return float(cum[i - 1]) if i else 0.0


def pick_traces(per_set: int, sets: tuple[str, ...]) -> list[Trace]:
    out = []
    for s in sets:
        files = sorted((SHARED / "traces" / s).glob("*.json"))
        if not files:
            continue
        step = max(1, len(files) // per_set)
        out += [load_trace(f) for f in files[::step][:per_set]]
    return out


async def phase(info: dict, traces: list[Trace], speed: float, duration_s: float, loops: int, tag: str) -> dict:
    conn = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=None, sock_read=60)) as http:
        recs = await asyncio.gather(*(run_session(http, info, tr, speed, duration_s, loops, f"{tag}-{i}") for i, tr in enumerate(traces)))
    per_session = []
    pooled: list[float] = []
    skipped = 0
    for rec in recs:
        e, s = window_errors(rec, speed, duration_s)
        pooled += e
        skipped += s
        per_session.append((rec.trace.name, statistics.median(e) if e else math.nan, rec.errors))
    return {
        "sessions": len(recs),
        "windows": len(pooled),
        "skipped_outage_windows": skipped,
        "median_error": statistics.median(pooled) if pooled else math.nan,
        "p90_error": float(np.percentile(pooled, 90)) if pooled else math.nan,
        "per_session": per_session,
        "request_errors": sum(r.errors for r in recs),
        "errors": pooled,
    }


def run_accuracy(speed: float, traces: list[Trace], duration_s: float, loops: int, tick: float, batch: int) -> dict:
    """Sessions in batches (each batch concurrent) so heavy 4G traces do not starve each other."""
    results = []
    with StubProcess(TOPOLOGY.format(speed=speed, tick=tick)) as stub:
        asyncio.run(_prefill(stub.info))
        for i in range(0, len(traces), batch):
            results.append(asyncio.run(phase(stub.info, traces[i : i + batch], speed, duration_s, loops, f"acc{speed:g}-{i}")))
    pooled = [e for res in results for e in res["errors"]]
    return {
        "speed": speed,
        "sessions": sum(r["sessions"] for r in results),
        "windows": len(pooled),
        "skipped_outage_windows": sum(r["skipped_outage_windows"] for r in results),
        "per_session": [p for r in results for p in r["per_session"]],
        "request_errors": sum(r["request_errors"] for r in results),
        "median_error": statistics.median(pooled) if pooled else math.nan,
        "p90_error": float(np.percentile(pooled, 90)) if pooled else math.nan,
    }


async def _prefill(info: dict) -> None:
    async with aiohttp.ClientSession() as http:
        await prefill(http, info, TITLE)


def run_capacity(levels: list[int], duration_s: float, loops: int, tick: float, limit: float) -> list[dict]:
    pool = pick_traces(43, ("hsdpa3g",))
    out = []
    with StubProcess(TOPOLOGY.format(speed=10.0, tick=tick)) as stub:
        asyncio.run(_prefill(stub.info))
        for n in levels:
            traces = [pool[i % len(pool)] for i in range(n)]
            cpu0, w0 = stub.cpu_seconds(), time.monotonic()
            res = asyncio.run(phase(stub.info, traces, 10.0, duration_s, loops, f"cap{n}"))
            res["stub_cpu_share"] = (stub.cpu_seconds() - cpu0) / (time.monotonic() - w0)
            res["n"] = n
            out.append(res)
            print(f"  {n:4d} sessions: median error {100 * res['median_error']:.2f} %, p90 {100 * res['p90_error']:.2f} %, stub CPU {100 * res['stub_cpu_share']:.0f} % of a core, request errors {res['request_errors']}", flush=True)
            if not res["median_error"] <= limit:
                break
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short smoke run")
    ap.add_argument("--per-set", type=int, default=4, help="traces per trace set in the accuracy phases")
    ap.add_argument("--duration-1", type=float, default=40.0, help="trace seconds per session at speed 1")
    ap.add_argument("--duration-10", type=float, default=150.0, help="trace seconds per session at speed 10")
    ap.add_argument("--cap-duration", type=float, default=60.0, help="trace seconds per session in the capacity phase")
    ap.add_argument("--levels", default="25,50,75,100,125,150,200", help="concurrent sessions to try at speed 10")
    ap.add_argument("--loops", type=int, default=3, help="parallel requests per session")
    ap.add_argument("--tick", type=float, default=0.01, help="edge shaping tick, trace seconds")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-capacity", action="store_true")
    args = ap.parse_args(argv)
    if not (SHARED / "traces").exists():
        print(f"bench.shaping: {SHARED / 'traces'} not found", file=sys.stderr)
        return 2
    if args.quick:
        args.per_set, args.duration_1, args.duration_10, args.cap_duration, args.levels = 1, 10.0, 40.0, 30.0, "10,50"
    sets = ("hsdpa3g", "belgium4g", "fcc_sd")
    ok = True
    t_start = time.monotonic()
    if not args.skip_accuracy:
        traces = pick_traces(args.per_set, sets)
        for speed, dur, batch in ((1.0, args.duration_1, len(traces)), (10.0, args.duration_10, 4)):
            r = run_accuracy(speed, traces, dur, args.loops, args.tick, batch)
            print(f"speed {speed:g}: {r['sessions']} sessions, {r['windows']} windows of 1 s (trace time), "
                  f"median error {100 * r['median_error']:.2f} %, p90 {100 * r['p90_error']:.2f} % "
                  f"({r['skipped_outage_windows']} outage windows skipped, {r['request_errors']} request errors)", flush=True)
            for name, med, errs in r["per_session"]:
                print(f"    {name:<40} median {100 * med:6.2f} %")
            ok &= r["median_error"] <= 0.03
    if not args.skip_capacity:
        print("capacity at speed 10 (hsdpa3g traces, one stub process, one edge):", flush=True)
        levels = [int(x) for x in args.levels.split(",")]
        res = run_capacity(levels, args.cap_duration, args.loops, args.tick, 0.05)
        # The largest level before the first one that failed.
        best = 0
        for r in res:
            if not r["median_error"] <= 0.05:
                break
            best = r["n"]
        print(f"sustained: {best} concurrent sessions at speed 10 with median error <= 5 %"
              + (" (the largest level tried)" if best == levels[-1] else ""))
        ok &= best >= 50
    print(f"bench.shaping: {'PASS' if ok else 'FAIL'} in {time.monotonic() - t_start:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
