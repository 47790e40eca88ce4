"""Simulator speed: sessions per second in ``--mode pensieve`` on Envivio over the
HSDPA 3G traces, with the full event log kept, against a plain Python loop of
Pensieve's own simulator + BB (bench/reference/pensieve_bb.py) run in the same process;
and ``--mode sabre`` BOLA-BASIC on Big Buck Bunny against a transliteration of Sabre's
loop (bench/reference/sabre_sim.py).

Rounds interleave the reference and every algorithm, time each on this process's CPU
clock and keep each one's best round, so load from other processes biases no side. Also measures peak memory over a
10,000-session batch streamed to a Parquet file, to show it stays flat (results are
written as they come, not held).

    python bench/sim_speed.py [--shared ../shared] [--rounds 7] [--batch 10000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from abr import create  # noqa: E402
from bench.reference.pensieve_bb import run_bb  # noqa: E402
from bench.reference.sabre_sim import BolaBasicAbr, SabreSim  # noqa: E402
from player.presentation import load_title  # noqa: E402
from player.results import ResultWriter, result_row  # noqa: E402
from player.sim import simulate  # noqa: E402
from traces import load_trace  # noqa: E402
from traces.formats import cooked_arrays  # noqa: E402

ALGORITHMS = ["bba", "throughput", "bola", "fixed"]


def interleaved(contenders: dict[str, Callable[[], int]], rounds: int) -> dict[str, float]:
    """Best sessions/s of each contender over ``rounds`` interleaved rounds."""
    for run in contenders.values():  # warm up (per-trace link arrays, imports)
        run()
    best = {name: 0.0 for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            # CPU time of this process: other processes on the machine steal wall time
            # from whichever contender happens to be running, not CPU time.
            t0 = time.process_time()
            n = run()
            best[name] = max(best[name], n / (time.process_time() - t0))
    return best


def pensieve_contenders(traces, title) -> dict[str, Callable[[], int]]:
    cols = [cooked_arrays(t) for t in traces]
    times = [c[0] for c in cols]
    bws = [c[1] for c in cols]
    video_size = {q: [int(x) for x in title.video.sizes_bytes[:, q]] for q in range(6)}

    def reference() -> int:
        run_bb(times, bws, video_size)
        return len(traces)

    out: dict[str, Callable[[], int]] = {"reference": reference}
    for spec in ALGORITHMS:
        algo = create(spec, mode="pensieve")

        def ours(algo=algo) -> int:
            for tr in traces:
                simulate(title, tr, algo, mode="pensieve", keep_events=True)
            return len(traces)

        out[spec] = ours
    return out


def sabre_contenders(shared: Path, traces) -> dict[str, Callable[[], int]]:
    movie = json.loads((shared / "content" / "bbb.json").read_text())
    title = load_title(shared / "content" / "bbb.json")
    raw = [[(d * 1000, r / 1000, lat * 1000) for d, r, lat in zip(t.durations_s, t.rates_bps, t.latencies_s)] for t in traces]

    def reference() -> int:
        for tr in raw:
            sim = SabreSim(movie["segment_duration_ms"], movie["bitrates_kbps"], movie["segment_sizes_bits"], tr)
            sim.run(BolaBasicAbr(movie["bitrates_kbps"], movie["segment_duration_ms"], 25000, 5))
        return len(raw)

    algo = create("bola", mode="sabre")

    def ours() -> int:
        for tr in traces:
            simulate(title, tr, algo, mode="sabre", keep_events=True)
        return len(traces)

    return {"reference": reference, "bola": ours}


def batch_peak_memory(traces, title, n_sessions: int) -> list[tuple[int, float]]:
    """Peak traced memory (MB) at 10 %, 50 % and 100 % of a batch streamed to Parquet."""
    algo = create("bba", mode="pensieve")
    # Warm up: pyarrow's first table and writer import and cache a lot once; that is
    # not per-session memory.
    with tempfile.TemporaryDirectory() as d:
        with ResultWriter(os.path.join(d, "warm.parquet")) as w:
            s = simulate(title, traces[0], algo, mode="pensieve")
            w.write(result_row(s, traces[0], "bba", "envivio"))
    gc.collect()
    tracemalloc.start()
    marks = {n_sessions // 10, n_sessions // 2, n_sessions}
    points = []
    with tempfile.TemporaryDirectory() as d:
        with ResultWriter(os.path.join(d, "batch.parquet")) as w:
            for i in range(n_sessions):
                tr = traces[i % len(traces)]
                s = simulate(title, tr, algo, mode="pensieve", keep_events=True)
                w.write(result_row(s, tr, "bba", "envivio"))
                if i + 1 in marks:
                    points.append((i + 1, tracemalloc.get_traced_memory()[1] / 1e6))
    tracemalloc.stop()
    return points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--batch", type=int, default=10_000)
    args = ap.parse_args()
    shared = Path(args.shared)
    title = load_title(shared / "content" / "envivio.json")
    files = sorted((shared / "traces" / "hsdpa3g").glob("*.json"))
    traces = [load_trace(f) for f in files]

    rates = interleaved(pensieve_contenders(traces, title), args.rounds)
    ref = rates.pop("reference")
    print(f"pensieve mode, envivio, {len(traces)} hsdpa3g traces, best of {args.rounds} interleaved rounds")
    print(f"  reference (Pensieve fixed_env + bb.py, plain loop): {ref:8.0f} sessions/s")
    for spec, rate in rates.items():
        print(f"  abrlab {spec:<11} (full event log kept):        {rate:8.0f} sessions/s = {rate / ref:5.2f}x reference")

    rates = interleaved(sabre_contenders(shared, traces), args.rounds)
    print(f"sabre mode, bbb (199 segments), {len(traces)} hsdpa3g traces, BOLA-BASIC")
    print(f"  reference (Sabre's loop, transliterated):           {rates['reference']:8.0f} sessions/s")
    print(f"  abrlab bola (full event log kept):                  {rates['bola']:8.0f} sessions/s = "
          f"{rates['bola'] / rates['reference']:5.2f}x reference")

    points = batch_peak_memory(traces, title, args.batch)
    desc = ", ".join(f"{mb:.1f} MB after {n}" for n, mb in points)
    print(f"peak memory over a {args.batch}-session batch streamed to Parquet: {desc} "
          f"(growth {points[-1][1] - points[0][1]:+.1f} MB from 10 % to 100 %)")


if __name__ == "__main__":
    main()
