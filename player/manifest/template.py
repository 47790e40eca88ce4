"""DASH SegmentTemplate URL templates (ISO/IEC 23009-1 section 5.3.9.4.4).

Identifiers ``$RepresentationID$``, ``$Number$``, ``$Bandwidth$``, ``$Time$`` and
``$SubNumber$``, an optional printf width tag ``%0<width>d`` (Shaka also accepts the
``i o u x X`` conversions, and so do we), and ``$$`` for a literal dollar. A ``$`` that
starts none of these is kept literally, as dash.js does, with a warning.
"""

from __future__ import annotations

import re
from typing import Callable

from player.manifest.errors import ManifestError
from player.manifest.urls import resolve

_TOKEN = re.compile(r"\$(RepresentationID|Number|Bandwidth|Time|SubNumber)(?:%0?(\d+)([diouxX]))?\$|\$\$")
MAX_WIDTH = 32

_CONVERSIONS = {"d": "d", "i": "d", "u": "d", "o": "o", "x": "x", "X": "X"}


class UrlTemplate:
    """A compiled template; :meth:`fill` makes one URL."""

    __slots__ = ("text", "parts", "uses_number", "uses_time")

    def __init__(self, text: str, where: str, source: str | None = None, warn: Callable[[str], None] | None = None):
        self.text = text
        parts: list[tuple[str, str | None, str]] = []  # (literal, identifier, format spec)
        pos = 0
        stray = False
        for m in _TOKEN.finditer(text):
            lit = text[pos:m.start()]
            stray = stray or "$" in lit
            if m.group(0) == "$$":
                parts.append((lit + "$", None, ""))
            else:
                ident, width, conv = m.group(1), m.group(2), m.group(3)
                spec = ""
                if width is not None:
                    if int(width) > MAX_WIDTH:
                        raise ManifestError(f"template width %0{width} exceeds {MAX_WIDTH}", source, where)
                    if ident != "RepresentationID":  # the spec forbids a width on it; ignore one
                        spec = f"0{int(width)}{_CONVERSIONS[conv]}"
                parts.append((lit, ident, spec))
            pos = m.end()
        tail = text[pos:]
        if (stray or "$" in tail) and warn is not None:
            warn(f"{where}: template {text!r} has a '$' that starts no identifier; kept literally")
        parts.append((tail, None, ""))
        self.parts = parts
        self.uses_number = any(p[1] in ("Number", "SubNumber") for p in parts)
        self.uses_time = any(p[1] == "Time" for p in parts)

    def fill(self, rep_id: str | None, bandwidth: int | None, number: int | None = None, time: int | None = None) -> str:
        out = []
        for lit, ident, spec in self.parts:
            out.append(lit)
            if ident is None:
                continue
            if ident == "RepresentationID":
                out.append(rep_id or "")
                continue
            value = {"Number": number, "Bandwidth": bandwidth, "Time": time, "SubNumber": 1}[ident]
            if value is None:
                value = 0
            out.append(format(value, spec or "d"))
        return "".join(out)


def url_filler(template: UrlTemplate, base_url: str | None, rep_id: str | None, bandwidth: int | None) -> Callable[[int, int | None], str]:
    """(number, time) -> absolute URL for one Representation."""

    def fill(number: int, time: int | None) -> str:
        return resolve(base_url, template.fill(rep_id, bandwidth, number, time))

    return fill
