"""Sabre JSON traces: a list of ``{"duration_ms", "bandwidth_kbps", "latency_ms"}``.

This is the format of the Sabre simulator (Spiteri et al., MMSys 2018,
``example/mmsys18/*.json``): entry i holds ``bandwidth_kbps`` for ``duration_ms`` and a
request started during it pays ``latency_ms`` first. Sabre's kbps are 1000 bit/s.

Carries: the capacity curve and per-entry latency, exactly (numbers are written as the
shortest decimal that reads back to the same float). Cannot carry: a cooked file's
start time and first-line rate (see ``traces.formats.cooked``).
"""

from __future__ import annotations

import json

import numpy as np

from traces.formats._text import checked_number, compact, name_of
from traces.model import Provenance, Trace, TraceError


def read_sabre(text: str, path: str = "<string>") -> Trace:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceError(f"not valid JSON ({e.msg})", path, e.lineno) from None
    if not isinstance(data, list):
        raise TraceError("Sabre JSON trace must be a list of entries", path, 1)
    if not data:
        raise TraceError("trace has no entries", path, 1)
    line_of = _entry_lines(text)
    d = np.empty(len(data))
    r = np.empty(len(data))
    lat = np.empty(len(data))
    for i, e in enumerate(data):
        line = line_of[i] if i < len(line_of) else None
        if not isinstance(e, dict):
            raise TraceError(f"entry {i + 1} is not an object", path, line)
        for key in ("duration_ms", "bandwidth_kbps"):
            if key not in e:
                raise TraceError(f"entry {i + 1} has no {key!r}", path, line)
        d[i] = checked_number(e["duration_ms"], path, line, "duration_ms") / 1000.0
        if d[i] <= 0:
            raise TraceError(f"duration_ms must be positive, got {e['duration_ms']!r}", path, line)
        r[i] = checked_number(e["bandwidth_kbps"], path, line, "bandwidth_kbps") * 1000.0
        lat[i] = checked_number(e.get("latency_ms", 0), path, line, "latency_ms") / 1000.0
    return Trace(d, r, lat, name=name_of(path), provenance=Provenance("file", str(path), "sabre"))


def _entry_lines(text: str) -> list[int]:
    """1-based line number where each top-level list entry starts (any JSON value)."""
    lines: list[int] = []
    depth = 0
    line = 1
    in_str = False
    esc = False
    expecting = False  # inside the top-level list, before the next entry's first char
    for ch in text:
        if ch == "\n":
            line += 1
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if depth == 1 and expecting and not ch.isspace() and ch not in ",]":
            lines.append(line)
            expecting = False
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth == 1:
                expecting = True
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 1:
            expecting = True
    return lines


def write_sabre(trace: Trace) -> str:
    rows = [
        "    "
        + json.dumps(
            {
                "duration_ms": compact(d * 1000.0),
                "bandwidth_kbps": compact(r / 1000.0),
                "latency_ms": compact(lat * 1000.0),
            }
        )
        for d, r, lat in zip(trace.durations_s, trace.rates_bps, trace.latencies_s)
    ]
    return "[\n" + ",\n".join(rows) + "\n]\n"
