"""Which trace format a text is in, from its content (never from the file name).

- starts with ``[`` or ``{``: Sabre JSON;
- first significant line (not blank, not a ``#`` comment) is a header with
  ``duration_s`` or ``rate_bps`` in it: abrlab CSV;
- first significant line is one integer: Mahimahi;
- first significant line is two or more numbers: Pensieve cooked;
- anything else: an unknown format, reported on that line.

Binary junk (NUL or other control bytes) is refused before any reader sees it.
"""

from __future__ import annotations

import re

from traces.model import TraceError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INT = re.compile(r"[0-9]+")


def detect_format(text: str, path: str = "<string>") -> str:
    if not text.strip():
        raise TraceError("file is empty", path)
    junk = _CONTROL.search(text)
    if junk:
        line = text.count("\n", 0, junk.start()) + 1
        raise TraceError(f"binary data (control byte {ord(junk.group()):#04x}), not a trace", path, line)
    if text.lstrip()[0] in "[{":
        return "sabre"
    for lineno, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if "duration_s" in s or "rate_bps" in s:
            return "csv"
        tokens = s.split()
        if len(tokens) == 1 and _INT.fullmatch(tokens[0]):
            return "mahimahi"
        if len(tokens) >= 2 and all(_is_number(t) for t in tokens[:2]):
            return "cooked"
        raise TraceError(
            f"unknown trace format (line {s[:30]!r} is not Sabre JSON, a cooked 'time rate' "
            "pair, a Mahimahi timestamp or a CSV header duration_s,rate_bps[,latency_s])",
            path,
            lineno,
        )
    raise TraceError("file holds only comments", path)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
