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

from traces.formats._text import checked_number, name_of
from traces.model import Provenance, Trace, TraceError


_NUMBER = (int, float)  # exact types: JSON true/false must not pass as 1/0


def read_sabre(text: str, path: str = "<string>") -> Trace:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceError(f"not valid JSON ({e.msg})", path, e.lineno) from None
    if not isinstance(data, list):
        raise TraceError("Sabre JSON trace must be a list of entries", path, 1)
    if not data:
        raise TraceError("trace has no entries", path, 1)
    d = np.empty(len(data))
    r = np.empty(len(data))
    lat = np.empty(len(data))
    for i, e in enumerate(data):
        if not isinstance(e, dict) or "duration_ms" not in e or "bandwidth_kbps" not in e:
            _entry_error(text, path, i, e)
        dv, bv, lv = e["duration_ms"], e["bandwidth_kbps"], e.get("latency_ms", 0)
        if type(dv) not in _NUMBER or type(bv) not in _NUMBER or type(lv) not in _NUMBER:
            _entry_error(text, path, i, e)  # a string, a bool, null...
        try:
            d[i] = dv / 1000.0
            r[i] = bv * 1000.0
            lat[i] = lv / 1000.0
        except OverflowError:
            _entry_error(text, path, i, e)
    # One vectorised validity check; the slow per-entry diagnosis only runs on a failure.
    bad = np.flatnonzero(~(np.isfinite(d) & np.isfinite(r) & np.isfinite(lat)) | (d <= 0) | (r < 0) | (lat < 0))
    if bad.size:
        _entry_error(text, path, int(bad[0]), data[int(bad[0])])
    return Trace(d, r, lat, name=name_of(path), provenance=Provenance("file", str(path), "sabre"))


def _entry_error(text: str, path: str, i: int, e: object) -> None:
    """Raise the one-line error for entry ``i``, naming the line it starts on."""
    lines = _entry_lines(text)
    line = lines[i] if i < len(lines) else None
    if not isinstance(e, dict):
        raise TraceError(f"entry {i + 1} is not an object", path, line)
    for key in ("duration_ms", "bandwidth_kbps"):
        if key not in e:
            raise TraceError(f"entry {i + 1} has no {key!r}", path, line)
    duration = checked_number(e["duration_ms"], path, line, "duration_ms")
    if duration <= 0:
        raise TraceError(f"duration_ms must be positive, got {e['duration_ms']!r}", path, line)
    checked_number(e["bandwidth_kbps"], path, line, "bandwidth_kbps")
    checked_number(e.get("latency_ms", 0), path, line, "latency_ms")
    raise TraceError(f"entry {i + 1} is not a valid entry", path, line)  # pragma: no cover


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


def _numbers(file_values: np.ndarray, values: np.ndarray, read_back: np.ndarray) -> list[str]:
    """JSON numbers for ``file_values``: the whole number when it reads back (as the reader
    computes it, ``read_back``) to exactly ``values`` (the usual case: ms, kbps), else the
    shortest float repr."""
    exact = (read_back == values) & (np.abs(file_values) < 2**53)
    whole = np.round(file_values)
    return [str(int(w)) if ok else repr(v) for w, v, ok in zip(whole.tolist(), file_values.tolist(), exact.tolist())]


def _ms(seconds: np.ndarray) -> list[str]:
    return _numbers(seconds * 1000.0, seconds, np.round(seconds * 1000.0) / 1000.0)


def _kbps(bps: np.ndarray) -> list[str]:
    return _numbers(bps / 1000.0, bps, np.round(bps / 1000.0) * 1000.0)


def write_sabre(trace: Trace) -> str:
    rows = [
        f'    {{"duration_ms": {d}, "bandwidth_kbps": {r}, "latency_ms": {lat}}}'
        for d, r, lat in zip(
            _ms(trace.durations_s), _kbps(trace.rates_bps), _ms(trace.latencies_s)
        )
    ]
    return "[\n" + ",\n".join(rows) + "\n]\n"
