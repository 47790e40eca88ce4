"""Pensieve "cooked" traces: ``time_s rate_Mbps`` per line (whitespace separated).

Pensieve's simulator (Mao et al., SIGCOMM 2017; ``sim/load_trace.py``, ``fixed_env.py``)
reads two columns; the rate on line i holds from t(i-1) to t(i), so line 0's rate is
never used. Pensieve's Mbps are 10^6 bit/s.

Carries: the capacity curve exactly, plus the file's own start time and first-line rate
(kept on the ``Trace`` so a rewrite reproduces the file, and ``cooked_columns`` keeps the
very floats so Pensieve's arithmetic replays bit for bit). Cannot carry: latency (a
cooked file has none; Pensieve adds a flat 80 ms per chunk itself).
"""

from __future__ import annotations

import numpy as np

from traces.formats._text import name_of, parse_float
from traces.model import Provenance, Trace, TraceError


def read_cooked(text: str, path: str = "<string>") -> Trace:
    times: list[float] = []
    rates: list[float] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if len(parts) < 2:
            raise TraceError(f"expected 'time_s rate_Mbps', got {s[:40]!r}", path, lineno)
        t = parse_float(parts[0], path, lineno, "time")
        bw = parse_float(parts[1], path, lineno, "rate")
        if bw < 0:
            raise TraceError(f"negative rate {parts[1]}", path, lineno)
        if times and t < times[-1]:
            raise TraceError(f"times must not decrease (t={parts[0]} after {times[-1]!r})", path, lineno)
        times.append(t)
        rates.append(bw)
    if len(times) < 2:
        raise TraceError("a cooked trace needs at least two lines", path)
    t_arr = np.asarray(times)
    bw_arr = np.asarray(rates) * 1e6
    # A repeated time is a zero-length interval: Pensieve steps over it (it carries no
    # bytes), so it is accepted; the capacity curve simply has no such entry, while
    # ``cooked_columns`` keeps the lines as written for Pensieve's own arithmetic.
    d = np.diff(t_arr)
    keep = d > 0
    if not keep.any():
        raise TraceError("a cooked trace needs at least two distinct times", path)
    return Trace(
        durations_s=d[keep],
        rates_bps=bw_arr[1:][keep],
        latencies_s=np.zeros(int(keep.sum())),
        name=name_of(path),
        provenance=Provenance("file", str(path), "cooked"),
        start_s=float(t_arr[0]),
        head_rate_bps=float(bw_arr[0]),
        cooked_columns=(tuple(times), tuple(rates)),
    )


def cooked_arrays(trace: Trace) -> tuple[list[float], list[float]]:
    """The (cooked_time, cooked_bw) lists Pensieve's simulator would load for ``trace``.

    For a trace read from a cooked file these are the file's own numbers; for any other
    trace, time 0 comes first and entry i's rate sits on line i+1 (it holds from the
    previous line's time to its own), so Pensieve plays the entries as they are.
    """
    if trace.cooked_columns is not None:
        return list(trace.cooked_columns[0]), list(trace.cooked_columns[1])
    ends = trace.start_s + np.cumsum(trace.durations_s)
    times = [float(trace.start_s)] + [float(x) for x in ends]
    head = trace.head_rate_bps if trace.head_rate_bps is not None else trace.rates_bps[0]
    bws = [float(head) / 1e6] + [float(x) / 1e6 for x in trace.rates_bps]
    return times, bws


def write_cooked(trace: Trace) -> str:
    times, bws = cooked_arrays(trace)
    return "".join(f"{t!r}\t{b!r}\n" for t, b in zip(times, bws))
