"""abrlab's plain CSV trace: one entry per row, SI units, a header naming the columns.

    # comment lines start with '#', anywhere
    duration_s,rate_bps,latency_s
    1.0,2500000,0.04
    0.5,0,0.04

- The header is required and is the first non-comment line. Columns are named, in any
  order: ``duration_s`` (> 0) and ``rate_bps`` (>= 0) are required, ``latency_s``
  (>= 0, default 0) is optional; any other column is an error (a typo must not pass
  silently).
- Row i holds ``rate_bps`` for ``duration_s`` seconds; a request started in it pays
  ``latency_s`` first (the same model as Sabre JSON, in seconds and bit/s).
- Numbers are written as the shortest decimal that reads back to the same float, so
  the format is lossless for everything a :class:`~traces.model.Trace` holds except a
  cooked file's start time and first-line rate.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from traces.formats._text import compact, name_of, parse_float
from traces.model import Provenance, Trace, TraceError

COLUMNS = ("duration_s", "rate_bps", "latency_s")
REQUIRED = ("duration_s", "rate_bps")


def read_csv(text: str, path: str = "<string>") -> Trace:
    rows = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    d: list[float] = []
    r: list[float] = []
    lat: list[float] = []
    lineno = 0
    for row in rows:
        lineno = rows.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in row]
        if header is None:
            header = cells
            unknown = [c for c in header if c not in COLUMNS]
            if unknown:
                raise TraceError(
                    f"unknown column {unknown[0]!r} (columns: duration_s, rate_bps[, latency_s])", path, lineno
                )
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise TraceError(f"header lacks {missing[0]!r}", path, lineno)
            if len(set(header)) != len(header):
                raise TraceError("header repeats a column", path, lineno)
            continue
        if len(cells) != len(header):
            raise TraceError(f"expected {len(header)} values, got {len(cells)}", path, lineno)
        vals = {name: parse_float(cell, path, lineno, name) for name, cell in zip(header, cells)}
        if vals["duration_s"] <= 0:
            raise TraceError(f"duration_s must be positive, got {vals['duration_s']!r}", path, lineno)
        for name, v in vals.items():
            if v < 0:
                raise TraceError(f"{name} is negative: {v!r}", path, lineno)
        d.append(vals["duration_s"])
        r.append(vals["rate_bps"])
        lat.append(vals.get("latency_s", 0.0))
    if header is None:
        raise TraceError("no header row (expected duration_s,rate_bps[,latency_s])", path)
    if not d:
        raise TraceError("trace has no entries", path, lineno or None)
    return Trace(
        np.asarray(d), np.asarray(r), np.asarray(lat), name=name_of(path), provenance=Provenance("file", str(path), "csv")
    )


def write_csv(trace: Trace) -> str:
    out = [",".join(COLUMNS)]
    out.extend(
        f"{compact(d)!r},{compact(r)!r},{compact(lat)!r}"
        for d, r, lat in zip(trace.durations_s, trace.rates_bps, trace.latencies_s)
    )
    return "\n".join(out) + "\n"
