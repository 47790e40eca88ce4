"""Simulation versus HTTP: the same traces and algorithms, QoE_lin compared per session.

Each (trace, algorithm) pair is played twice with ``--mode default`` on Pensieve's
Envivio title (../shared/content/envivio.json):

- in simulation, ``player.sim.simulate`` over ``player.link.TraceLink``;
- over HTTP, ``player.http.play.play_title`` through the stub's control plane and an
  edge shaping the session by the same trace (the stub in its own process, edges
  pre-filled so no request pays an origin fill the simulator does not model).

Both runs score the session with the same code (``player.results.result_row``). The
title is read over HTTP once (the byte-range DASH manifest, so sizes are exact) and
that very Title is what the simulator plays. Reported per algorithm: the median over
traces of |QoE_http - QoE_sim| / |QoE_sim|.

    python -m bench.fidelity                # 10 traces x 6 algorithms, real time (~4 min)
    python -m bench.fidelity --speed 10     # the same, 10x faster, less exact
    python -m bench.fidelity --quick        # 3 traces x 2 algorithms

Why real time by default: a session's ABR decisions are discrete, and buffer-based
algorithms are chaotic in the simulator itself: adding 1 ms to every request's latency
moves BBA's QoE_lin by up to ~25 % on some of these traces. Over HTTP each request
carries some host overhead (delivering the last bytes, the client's own processing:
~0.3 ms of wall time); at ``--speed k`` that is k times more session time. At speed 1
it is well under the sensitivity; at speed 10 it is not, and single sessions drift.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import aiohttp

from abr.registry import create
from bench.stubproc import SHARED, StubProcess, prefill
from player.http.driver import HttpDriver
from player.http.edges import EdgeSet
from player.http.play import play_title, request_playback
from player.results import result_row
from player.sim import simulate
from traces.formats import load_trace

# A spread of real networks: 3G commutes, LTE, and FCC broadband (low then high phase).
TRACES = (
    "hsdpa3g/report.2010-09-13_1003CEST.json",
    "hsdpa3g/report.2010-09-21_0742CEST.json",
    "hsdpa3g/report.2010-12-16_1100CET.json",
    "hsdpa3g/report.2011-01-31_1045CET.json",
    "hsdpa3g/report.2011-02-14_2032CET.json",
    "belgium4g/report_bus_0009.json",
    "belgium4g/report_car_0008.json",
    "fcc_sd/trace0000.json",
    "fcc_sd/trace0250.json",
    "fcc_sd/trace0500.json",
)
ALGORITHMS = ("bba", "bola", "throughput", "robustmpc", "dashjs", "hlsjs")
TITLE = "envivio"
TOPOLOGY = """
[stack]
speed = {speed}
[edges]
count = 2
cache_mb = 512
[control]
health_interval_s = 1.0
[[title]]
name = "envivio"
sabre_movie = "{movie}"
"""


async def load_title(info: dict, manifest: str):
    async with aiohttp.ClientSession() as http:
        pb = await request_playback(info["control"], info["api_key"], TITLE, http=http)
    d = HttpDriver(None, EdgeSet.for_url(pb["edges"][0]["manifests"][manifest]))
    try:
        src = await d.load(pb["edges"][0]["manifests"][manifest])
    finally:
        await d.close()
    return src.title


async def run_http(info: dict, pairs: list[tuple[str, str]], traces: dict, speed: float, manifest: str, batch: int) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    sem = asyncio.Semaphore(batch)

    async def one(path: str, algo: str) -> None:
        async with sem:
            res = await play_title(info["control"], info["api_key"], TITLE, algo, manifest=manifest, trace=traces[path], speed=speed, client_id=f"{algo}-{path}")
            if res.session.end_reason != "completed":
                raise RuntimeError(f"{algo} on {path}: session ended {res.session.end_reason}")
            out[(path, algo)] = result_row(res.session, traces[path], algo, TITLE)["qoe_lin"]

    await asyncio.gather(*(one(p, a) for p, a in pairs))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--speed", type=float, default=1.0, help="emulation speed (1 = real time, the faithful mode; see the module doc)")
    ap.add_argument("--abr", default=",".join(ALGORITHMS), help="comma-separated algorithm names")
    ap.add_argument("--manifest", default="dash_ranges", help="dash_ranges, hls_ranges, native, dash or hls")
    ap.add_argument("--batch", type=int, default=0, help="HTTP sessions at once (default: all at speed <= 2, else 12)")
    ap.add_argument("--limit", type=float, default=0.05, help="pass if every algorithm's median |dQoE| is at most this")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every session")
    args = ap.parse_args(argv)
    movie = SHARED / "content" / "envivio.json"
    if not movie.exists():
        print(f"bench.fidelity: {movie} not found", file=sys.stderr)
        return 2
    algos = [a.strip() for a in args.abr.split(",") if a.strip()]
    paths = list(TRACES)
    if args.quick:
        algos, paths = algos[:2], paths[:3]
    traces = {p: load_trace(SHARED / "traces" / p) for p in paths}
    pairs = [(p, a) for a in algos for p in paths]
    batch = args.batch or (len(pairs) if args.speed <= 2 else 12)
    t0 = time.monotonic()
    with StubProcess(TOPOLOGY.format(speed=args.speed, movie=movie)) as stub:

        async def prep():
            async with aiohttp.ClientSession() as http:
                await prefill(http, stub.info, TITLE, "ranges" if args.manifest.endswith("ranges") else "files")
            return await load_title(stub.info, args.manifest)

        title = asyncio.run(prep())
        sim = {}
        for p, a in pairs:
            s = simulate(title, traces[p], create(a, "default"), "default")
            sim[(p, a)] = result_row(s, traces[p], a, TITLE)["qoe_lin"]
        http = asyncio.run(run_http(stub.info, pairs, traces, args.speed, args.manifest, batch))
    print(f"{len(paths)} traces x {len(algos)} algorithms, mode default, {TITLE}, speed {args.speed:g}, manifest {args.manifest}")
    print(f"{'algorithm':<12} {'median |dQoE|/|QoE_sim|':>24} {'max':>8} {'mean QoE sim':>13} {'mean QoE http':>14}")
    ok = True
    for a in algos:
        rel = []
        for p in paths:
            s, h = sim[(p, a)], http[(p, a)]
            rel.append(abs(h - s) / max(abs(s), 1e-9))
            if args.verbose:
                print(f"    {a:<10} {p:<45} sim {s:9.3f} http {h:9.3f} ({100 * rel[-1]:.2f} %)")
        med = statistics.median(rel)
        ok &= med <= args.limit
        ms = statistics.mean(sim[(p, a)] for p in paths)
        mh = statistics.mean(http[(p, a)] for p in paths)
        print(f"{a:<12} {100 * med:23.2f}% {100 * max(rel):7.2f}% {ms:13.2f} {mh:14.2f}")
    print(f"bench.fidelity: {'PASS' if ok else 'FAIL'} (limit {100 * args.limit:g} %) in {time.monotonic() - t0:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
