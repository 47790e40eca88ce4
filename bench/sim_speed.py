"""Simulator speed: sessions per second in ``--mode pensieve`` on Envivio over the
HSDPA 3G traces, with the full event log kept, against a plain Python loop of
Pensieve's own simulator + BB (bench/reference/pensieve_bb.py) run in the same process.

Also measures peak memory over a 10,000-session batch streamed to a Parquet file, to
show it stays flat (results are written as they come, not held).

    python bench/sim_speed.py [--shared ../shared] [--repeat 5] [--batch 10000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from abr import create  # noqa: E402
from bench.reference.pensieve_bb import run_bb  # noqa: E402
from player.presentation import load_title  # noqa: E402
from player.results import ResultWriter, result_row  # noqa: E402
from player.sim import simulate  # noqa: E402
from traces import load_trace  # noqa: E402
from traces.formats import cooked_arrays  # noqa: E402

ALGORITHMS = ["bba", "throughput", "bola", "fixed"]


def reference_rate(traces, title, repeat: int) -> float:
    cols = [cooked_arrays(t) for t in traces]
    times = [c[0] for c in cols]
    bws = [c[1] for c in cols]
    video_size = {q: [int(x) for x in title.video.sizes_bytes[:, q]] for q in range(6)}
    run_bb(times, bws, video_size)  # warm up
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        run_bb(times, bws, video_size)
        best = max(best, len(traces) / (time.perf_counter() - t0))
    return best


def our_rate(traces, title, spec: str, repeat: int) -> tuple[float, int]:
    algo = create(spec, mode="pensieve")
    events = 0
    for tr in traces:  # warm up (and prepare per-trace link arrays, as a batch would)
        simulate(title, tr, algo, mode="pensieve", keep_events=True)
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        events = 0
        for tr in traces:
            s = simulate(title, tr, algo, mode="pensieve", keep_events=True)
            events += len(s.log)
        best = max(best, len(traces) / (time.perf_counter() - t0))
    return best, events


def batch_peak_memory(traces, title, n_sessions: int) -> tuple[float, float, float]:
    """Peak traced memory (MB) after 10 % and after 100 % of a streamed batch."""
    algo = create("bba", mode="pensieve")
    # Warm up: pyarrow's first table and writer import and cache a lot once; that is
    # not per-session memory.
    with tempfile.TemporaryDirectory() as d:
        with ResultWriter(os.path.join(d, "warm.parquet")) as w:
            s = simulate(title, traces[0], algo, mode="pensieve")
            w.write(result_row(s, traces[0], "bba", "envivio"))
    gc.collect()
    tracemalloc.start()
    peak_early = 0.0
    with tempfile.TemporaryDirectory() as d:
        with ResultWriter(os.path.join(d, "batch.parquet")) as w:
            for i in range(n_sessions):
                tr = traces[i % len(traces)]
                s = simulate(title, tr, algo, mode="pensieve", keep_events=True)
                w.write(result_row(s, tr, "bba", "envivio"))
                if i + 1 == n_sessions // 10:
                    peak_early = tracemalloc.get_traced_memory()[1] / 1e6
        current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak_early, peak / 1e6, current / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batch", type=int, default=10_000)
    args = ap.parse_args()
    shared = Path(args.shared)
    title = load_title(shared / "content" / "envivio.json")
    files = sorted((shared / "traces" / "hsdpa3g").glob("*.json"))
    traces = [load_trace(f) for f in files]
    print(f"pensieve mode, envivio, {len(traces)} hsdpa3g traces, best of {args.repeat}")
    ref = reference_rate(traces, title, args.repeat)
    print(f"  reference (Pensieve fixed_env + bb.py, plain loop): {ref:8.0f} sessions/s")
    for spec in ALGORITHMS:
        rate, events = our_rate(traces, title, spec, args.repeat)
        print(
            f"  abrlab {spec:<11} (event log kept, {events / len(traces):.0f} events/session): "
            f"{rate:8.0f} sessions/s  = {rate / ref:5.2f}x reference"
        )
    early, peak, current = batch_peak_memory(traces, title, args.batch)
    print(
        f"memory over a {args.batch}-session batch streamed to Parquet: peak {early:.1f} MB after "
        f"{args.batch // 10} sessions, {peak:.1f} MB after {args.batch} (growth {peak - early:+.1f} MB)"
    )


if __name__ == "__main__":
    main()
