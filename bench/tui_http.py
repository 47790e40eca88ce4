"""Does watching an HTTP session in the TUI change it?

    .venv/bin/python -m bench.tui_http [--speed 10] [--traces 4] [--fps 10] [--size 120x40]

The TUI plays an HTTP session in Textual's own event loop, so every frame it draws is
time the driver does not spend reading bytes: a transfer's last byte is noticed late by
up to one frame's work, which ``--speed k`` multiplies by k in session time (as a web
player's busy main thread delays its own measurements).

Setup: the stub in a process of its own (``abrlab serve``, one edge, a 40 x 4 s title,
prefilled, at ``--speed``), real traces from ../shared (hsdpa3g). Each trace is played
three ways with a fixed rung (no ABR feedback, so one late measurement cannot change
the next decisions and every segment compares with its twin): simulated (the
reference), headless over HTTP (``player.http.play``, the reference run in this
process), and over HTTP in the TUI (``App.run_test`` at ``--size``, frames at
``--fps``). Per segment, |transfer_s - simulated transfer_s|; printed: median and p90
per way, and the ratio TUI / headless.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402

from abr.registry import create  # noqa: E402
from bench.stubproc import SHARED, StubProcess  # noqa: E402
from player.http.play import play_title  # noqa: E402
from player.sim import simulate  # noqa: E402
from player.tui.app import AbrlabTui, TuiOptions  # noqa: E402
from player.tui.http_source import HttpSpec  # noqa: E402
from qoe.events import SegmentLoaded  # noqa: E402
from traces.formats import iter_trace_files, load_trace  # noqa: E402

ABR = "fixed:rung=3"
ADMIN_HEADER = "X-Abrlab-Admin-Key"


def transfers(session) -> list[float]:
    return [e.transfer_s for e in session.log.of_type(SegmentLoaded) if e.media == "video"]


async def tui_session(info: dict, trace: Path, fps: float, size: tuple[int, int]):
    spec = HttpSpec(title="t", control=info["control"], api_key=info["api_key"], trace=str(trace), manifest="native")
    app = AbrlabTui(TuiOptions(abr=ABR, http=spec, out_dir="/tmp"), refresh_hz=fps)
    async with app.run_test(size=size):
        while app.session_screen is None:
            await asyncio.sleep(0.05)
        screen = app.session_screen
        src = screen.sources[0]
        while not src.done:
            await asyncio.sleep(0.1)
        return src.session, screen.frames


async def run(info: dict, traces: list[Path], fps: float, size: tuple[int, int]) -> None:
    async with aiohttp.ClientSession() as http:
        for url in info["edges"].values():
            async with http.post(url + "/_admin/prefill", json={"title": "t"}, headers={ADMIN_HEADER: info["admin_key"]}) as r:
                assert r.status == 200, await r.text()
    err_head: list[float] = []
    err_tui: list[float] = []
    print(f"{'trace':36s} {'headless med/p90 ms':>20s} {'tui med/p90 ms':>16s}  frames")
    for path in traces:
        tr = load_trace(path)
        head = await play_title(info["control"], info["api_key"], "t", ABR, manifest="native", trace=tr)
        sim = simulate(head.source.title, tr, create(ABR, "default"), "default")
        tui, frames = await tui_session(info, path, fps, size)
        ref = transfers(sim)
        h = [abs(a - b) for a, b in zip(transfers(head.session), ref)]
        t = [abs(a - b) for a, b in zip(transfers(tui), ref)]
        assert len(h) == len(t) == len(ref), "a session did not complete"
        err_head += h
        err_tui += t
        print(f"{path.name[:36]:36s} {1e3 * statistics.median(h):9.1f} / {1e3 * np.percentile(h, 90):6.1f}"
              f" {1e3 * statistics.median(t):7.1f} / {1e3 * np.percentile(t, 90):6.1f}  {frames}")
    mh, mt = statistics.median(err_head), statistics.median(err_tui)
    ph, pt = np.percentile(err_head, 90), np.percentile(err_tui, 90)
    print(f"{'all segments':36s} {1e3 * mh:9.1f} / {1e3 * ph:6.1f} {1e3 * mt:7.1f} / {1e3 * pt:6.1f}")
    print(f"ratio tui / headless: median {mt / mh:.2f}, p90 {pt / ph:.2f}  (|transfer_s - simulated| per segment, session ms)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", type=float, default=10.0)
    ap.add_argument("--traces", type=int, default=4)
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--size", default="120x40")
    a = ap.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    traces = iter_trace_files(SHARED / "traces" / "hsdpa3g")[: a.traces]
    topo = (f'[stack]\nspeed = {a.speed}\napi_keys = ["bench"]\n[edges]\ncount = 1\n'
            '[[title]]\nname = "t"\nsegments = 40\nsegment_duration_s = 4.0\nseed = 2\n')
    print(f"speed {a.speed:g}, {len(traces)} hsdpa3g traces, {ABR}, TUI {w}x{h} at {a.fps:g} fps; stub in its own process")
    with StubProcess(topo) as stub:
        asyncio.run(run(stub.info, traces, a.fps, (w, h)))


if __name__ == "__main__":
    main()
