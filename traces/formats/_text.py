"""Small helpers shared by the format readers: trace names and checked numbers."""

from __future__ import annotations

import math
from pathlib import Path

from traces.model import TraceError

# Extensions stripped to make a trace's name (the name is only a label; the format is
# always detected from the content).
_NAME_EXTENSIONS = (".json", ".txt", ".log", ".csv", ".down", ".up", ".mahi", ".cooked")


def name_of(path: str | Path) -> str:
    name = Path(path).name
    for ext in _NAME_EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def checked_number(value: object, path: str, line: int | None, what: str) -> float:
    """A finite, non-negative number from parsed JSON, or a one-line TraceError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TraceError(f"{what} is not a number: {value!r}", path, line)
    v = float(value)
    if not math.isfinite(v):
        raise TraceError(f"{what} is not a finite number: {value!r}", path, line)
    if v < 0:
        raise TraceError(f"{what} is negative: {value!r}", path, line)
    return v


def parse_float(token: str, path: str, line: int, what: str) -> float:
    """A finite float from a text token, or a one-line TraceError naming the line."""
    try:
        v = float(token)
    except ValueError:
        raise TraceError(f"{what} is not a number: {token[:40]!r}", path, line) from None
    if not math.isfinite(v):
        raise TraceError(f"{what} is not a finite number: {token!r}", path, line)
    return v


def compact(x: float) -> float | int:
    """An int when the value is integral (keeps files readable), else the exact float."""
    xf = float(x)
    if xf.is_integer() and abs(xf) < 2**53:
        return int(xf)
    return xf
