"""The table of formats, and trace files in and out: load, save, convert, list a folder.

Every error is a :class:`~traces.model.TraceError` whose message is one line naming the
file (and line, when there is one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from traces.formats.cooked import read_cooked, write_cooked
from traces.formats.detect import detect_format
from traces.formats.mahimahi import PACKET_BYTES, read_mahimahi, write_mahimahi
from traces.formats.plain_csv import read_csv, write_csv
from traces.formats.sabre import read_sabre, write_sabre
from traces.model import Provenance, Trace, TraceError


@dataclass(frozen=True)
class TraceFormat:
    name: str
    read: Callable[[str, str], Trace]
    write: Callable[[Trace], str]
    extensions: tuple[str, ...]  # for choosing an output format from a file name
    carries_latency: bool
    exact: bool  # False: writing quantises the capacity curve
    summary: str


FORMATS: dict[str, TraceFormat] = {
    f.name: f
    for f in (
        TraceFormat("sabre", read_sabre, write_sabre, (".json",), True, True,
                    "Sabre JSON: [{duration_ms, bandwidth_kbps, latency_ms}]"),
        TraceFormat("cooked", read_cooked, write_cooked, (".cooked", ".log", ".txt"), False, True,
                    "Pensieve cooked: 'time_s rate_Mbps' per line; no latency"),
        TraceFormat("mahimahi", read_mahimahi, write_mahimahi, (".down", ".up", ".mahi", ".mahimahi"), False, False,
                    f"Mahimahi: one ms timestamp per {PACKET_BYTES}-byte delivery opportunity; no latency, quantised"),
        TraceFormat("csv", read_csv, write_csv, (".csv",), True, True,
                    "abrlab CSV: header duration_s,rate_bps[,latency_s]"),
    )
}
# Kept for callers of the first version of this module.
READERS = {name: f.read for name, f in FORMATS.items()}
WRITERS = {name: f.write for name, f in FORMATS.items()}


def get_format(name: str, path: str | None = None) -> TraceFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise TraceError(f"unknown trace format {name!r} (known: {', '.join(FORMATS)})", path) from None


def format_for_path(path: str | os.PathLike[str]) -> str:
    """The output format a file name asks for, from its extension."""
    suffix = Path(path).suffix.lower()
    for f in FORMATS.values():
        if suffix in f.extensions:
            return f.name
    known = ", ".join(f"{e} ({f.name})" for f in FORMATS.values() for e in f.extensions)
    raise TraceError(f"cannot tell the output format from extension {suffix or '(none)'!r}; use --to (extensions: {known})", str(path))


def read_trace_text(text: str, path: str = "<string>", fmt: str | None = None) -> Trace:
    fmt = fmt or detect_format(text, path)
    return get_format(fmt, path).read(text, path)


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
        text = raw.decode("utf-8-sig")  # a byte-order mark is not content
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise TraceError(f"binary data (undecodable byte at offset {e.start}), not a trace", str(p), line) from None
    return read_trace_text(text, str(p), fmt)


def save_trace(trace: Trace, path: str | os.PathLike[str], fmt: str | None = None) -> None:
    """Write ``trace`` to ``path`` in ``fmt`` (default: from the extension).

    The file is written beside its destination and renamed into place, so an error
    midway never leaves a truncated trace where a good one was.
    """
    p = Path(path)
    spec = get_format(fmt or format_for_path(p), str(p))
    text = spec.write(trace)
    tmp = p.with_name(p.name + ".partial")
    try:
        tmp.write_text(text)
        os.replace(tmp, p)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise TraceError(f"cannot write ({e.strerror})", str(p)) from None


def conversion_losses(trace: Trace, fmt: str) -> list[str]:
    """What writing ``trace`` as ``fmt`` would drop or change, in words (empty: nothing)."""
    spec = get_format(fmt)
    out: list[str] = []
    if not spec.carries_latency and np.any(trace.latencies_s > 0):
        lat = np.unique(trace.latencies_s)
        what = f"{lat[0] * 1000:g} ms" if lat.size == 1 else f"{lat.min() * 1000:g}-{lat.max() * 1000:g} ms"
        out.append(f"drops the latency ({what}): {fmt} has none")
    if fmt != "cooked" and trace.cooked_columns is not None:
        if trace.start_s != 0:
            out.append(f"drops the cooked start time ({trace.start_s!r} s): {fmt} traces start at 0")
        out.append("drops the cooked first-line rate (which Pensieve never uses)")
    if not spec.exact:
        out.append(f"quantises the capacity to whole {PACKET_BYTES}-byte packets per millisecond")
    return out


def convert(trace: Trace, fmt: str) -> Trace:
    """``trace`` as it reads back after being written in ``fmt`` (in memory).

    Its provenance says so (``derived``/``convert``), so it can be rebuilt.
    """
    spec = get_format(fmt)
    back = spec.read(spec.write(trace), f"<{fmt}>")
    return back.with_(
        name=trace.name,
        provenance=Provenance("derived", "convert", params={"format": fmt}, parent=trace.provenance),
    )


def iter_trace_files(path: str | os.PathLike[str]) -> list[Path]:
    """The trace files under ``path`` (a file, or a directory read non-recursively), sorted."""
    p = Path(path)
    if p.is_dir():
        files = sorted(
            f
            for f in p.iterdir()
            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() not in (".md", ".tsv", ".partial")
        )
        if not files:
            raise TraceError("directory holds no trace files", str(p))
        return files
    if not p.exists():
        raise TraceError("no such file or directory", str(p))
    return [p]
