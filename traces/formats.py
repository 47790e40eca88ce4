"""Readers and writers for trace file formats, and detection by content.

Formats:
- ``sabre``: Sabre JSON, a list of ``{"duration_ms", "bandwidth_kbps", "latency_ms"}``.
- ``cooked``: Pensieve "cooked" text, ``time_s rate_Mbps`` per line; the rate on line i
  holds from t(i-1) to t(i), so line 0's rate is never used by Pensieve.

Every reader raises :class:`traces.model.TraceError` naming the file and line.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from traces.model import Provenance, Trace, TraceError

FORMATS = ("sabre", "cooked")


def _name_of(path: Path) -> str:
    name = path.name
    for ext in (".json", ".txt", ".log", ".csv", ".down", ".up"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _number(value: object, path: str, line: int | None, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TraceError(f"{what} is not a number: {value!r}", path, line)
    v = float(value)
    if not math.isfinite(v):
        raise TraceError(f"{what} is not a finite number: {value!r}", path, line)
    if v < 0:
        raise TraceError(f"{what} is negative: {value!r}", path, line)
    return v


# ----------------------------------------------------------------------------- sabre
def read_sabre(text: str, path: str = "<string>") -> Trace:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceError(f"not valid JSON ({e.msg})", path, e.lineno) from None
    if not isinstance(data, list):
        raise TraceError("Sabre JSON trace must be a list of entries", path)
    if not data:
        raise TraceError("trace has no entries", path)
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
        d[i] = _number(e["duration_ms"], path, line, "duration_ms") / 1000.0
        if d[i] <= 0:
            raise TraceError(f"duration_ms must be positive, got {e['duration_ms']!r}", path, line)
        r[i] = _number(e["bandwidth_kbps"], path, line, "bandwidth_kbps") * 1000.0
        lat[i] = _number(e.get("latency_ms", 0), path, line, "latency_ms") / 1000.0
    p = Path(path)
    return Trace(d, r, lat, name=_name_of(p), provenance=Provenance("file", str(path), "sabre"))


def _entry_lines(text: str) -> list[int]:
    """1-based line number where each top-level list entry starts (best effort)."""
    lines: list[int] = []
    depth = 0
    line = 1
    in_str = False
    esc = False
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
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if ch == "{" and depth == 2:
                lines.append(line)
        elif ch in "]}":
            depth -= 1
    return lines


def write_sabre(trace: Trace) -> str:
    rows = [
        "    " + json.dumps(
            {
                "duration_ms": _compact(d * 1000.0),
                "bandwidth_kbps": _compact(r / 1000.0),
                "latency_ms": _compact(lat * 1000.0),
            }
        )
        for d, r, lat in zip(trace.durations_s, trace.rates_bps, trace.latencies_s)
    ]
    return "[\n" + ",\n".join(rows) + "\n]\n"


def _compact(x: float) -> float | int:
    """An int when the value is integral (keeps files readable), else the exact float."""
    xf = float(x)
    if xf.is_integer() and abs(xf) < 2**53:
        return int(xf)
    return xf


# ----------------------------------------------------------------------------- cooked
def read_cooked(text: str, path: str = "<string>") -> Trace:
    times: list[float] = []
    rates: list[float] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if len(parts) < 2:
            raise TraceError("expected 'time_s rate_Mbps'", path, lineno)
        try:
            t = float(parts[0])
            bw = float(parts[1])
        except ValueError:
            raise TraceError(f"not numbers: {s[:40]!r}", path, lineno) from None
        if not (math.isfinite(t) and math.isfinite(bw)):
            raise TraceError("time or rate is not a finite number", path, lineno)
        if bw < 0:
            raise TraceError(f"negative rate {parts[1]}", path, lineno)
        if times and t <= times[-1]:
            raise TraceError(
                f"times must increase (t={parts[0]} after {times[-1]!r})", path, lineno
            )
        times.append(t)
        rates.append(bw)
    if len(times) < 2:
        raise TraceError("a cooked trace needs at least two lines", path)
    t_arr = np.asarray(times)
    bw_arr = np.asarray(rates) * 1e6
    return Trace(
        durations_s=np.diff(t_arr),
        rates_bps=bw_arr[1:],
        latencies_s=np.zeros(len(times) - 1),
        name=_name_of(Path(path)),
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


# ----------------------------------------------------------------------------- detection
READERS: dict[str, Callable[[str, str], Trace]] = {"sabre": read_sabre, "cooked": read_cooked}
WRITERS: dict[str, Callable[[Trace], str]] = {"sabre": write_sabre, "cooked": write_cooked}


def detect_format(text: str, path: str = "<string>") -> str:
    s = text.lstrip()
    if not s:
        raise TraceError("file is empty", path)
    if s[0] in "[{":
        return "sabre"
    first = s.splitlines()[0].split()
    if len(first) >= 2:
        return "cooked"
    raise TraceError("unknown trace format (not Sabre JSON or cooked 'time rate' lines)", path, 1)


def read_trace_text(text: str, path: str = "<string>", fmt: str | None = None) -> Trace:
    fmt = fmt or detect_format(text, path)
    try:
        reader = READERS[fmt]
    except KeyError:
        raise TraceError(f"unknown trace format {fmt!r} (known: {', '.join(READERS)})", path) from None
    return reader(text, path)


def load_trace(path: str | os.PathLike[str], fmt: str | None = None) -> Trace:
    """Read one trace file, detecting its format by content unless ``fmt`` is given."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise TraceError("no such file", str(p)) from None
    except IsADirectoryError:
        raise TraceError("is a directory, not a trace file", str(p)) from None
    except OSError as e:
        raise TraceError(f"cannot read ({e.strerror})", str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TraceError(f"not a text file (undecodable byte at offset {e.start})", str(p)) from None
    return read_trace_text(text, str(p), fmt)


def save_trace(trace: Trace, path: str | os.PathLike[str], fmt: str) -> None:
    try:
        writer = WRITERS[fmt]
    except KeyError:
        raise TraceError(f"unknown trace format {fmt!r} (known: {', '.join(WRITERS)})", str(path)) from None
    Path(path).write_text(writer(trace))


def iter_trace_files(path: str | os.PathLike[str]) -> list[Path]:
    """The trace files under ``path`` (a file, or a directory read non-recursively), sorted."""
    p = Path(path)
    if p.is_dir():
        files = sorted(
            f for f in p.iterdir() if f.is_file() and not f.name.startswith(".") and f.suffix.lower() not in (".md", ".tsv")
        )
        if not files:
            raise TraceError("directory holds no trace files", str(p))
        return files
    if not p.exists():
        raise TraceError("no such file or directory", str(p))
    return [p]
