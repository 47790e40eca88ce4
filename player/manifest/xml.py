"""Safe XML loading and typed attribute access for MPDs.

``mpegdash`` parses with ``xml.dom.minidom`` and converts attributes with bare ``int()``,
``float()`` and ``bool()`` (so ``bool("false")`` is True, ``int("1_0")`` is 10 and a
bad value raises with no hint of where). We therefore:

- pre-scan the document with expat, rejecting entity declarations (no "billion laughs",
  no external entities: an MPD never needs a DTD) and bounding element count and depth;
- read every number, boolean and duration ourselves with strict XML Schema lexical
  rules, so an error names the element path and the attribute.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Callable
from xml.dom import expatbuilder, minidom
from xml.parsers import expat

from player.manifest.errors import Limits, ManifestError
from player.manifest.isotime import parse_datetime_epoch_s, parse_duration_s

_UINT = re.compile(r"^\s*\+?[0-9]+\s*$")
_INT = re.compile(r"^\s*[+-]?[0-9]+\s*$")
_DOUBLE = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$")
_FRAME_RATE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s*(?:/\s*([0-9]+)\s*)?$")
_RANGE = re.compile(r"^\s*([0-9]+)\s*-\s*([0-9]+)\s*$")

MAX_UINT64 = 2**64 - 1


class _Stop(Exception):
    pass


def load_dom(data: bytes, source: str, limits: Limits, warn: Callable[[str], None] | None = None) -> minidom.Document:
    """Parse ``data`` into a DOM after a bounded, entity-free pre-scan.

    A namespace prefix used but never declared (``yt:earliestMediaSequence``, a
    ``scte35:Signal`` inside an Event: both in ExoPlayer's test MPDs, and common in
    captures of real origins) makes the document well-formed XML but not namespace-
    well-formed. ExoPlayer's non-namespace-aware pull parser reads such MPDs, so with a
    ``warn`` callback we do the same: a warning, and the document read with namespace
    processing off (element names keep their prefix; ``localName`` drops it).
    """
    if len(data) > limits.max_bytes:
        raise ManifestError(f"manifest is {len(data)} bytes, over the {limits.max_bytes}-byte limit", source)
    state = {"depth": 0, "count": 0}
    scanner = expat.ParserCreate()

    def start(_name: str, _attrs: dict) -> None:
        state["depth"] += 1
        state["count"] += 1
        if state["depth"] > limits.max_depth:
            raise _Stop(f"elements nest deeper than {limits.max_depth} levels")
        if state["count"] > limits.max_elements:
            raise _Stop(f"more than {limits.max_elements} XML elements")

    def end(_name: str) -> None:
        state["depth"] -= 1

    def entity(*_args: object) -> None:
        raise _Stop("the document declares XML entities (DTD entities are not allowed in an MPD)")

    scanner.StartElementHandler = start
    scanner.EndElementHandler = end
    scanner.EntityDeclHandler = entity
    scanner.UnparsedEntityDeclHandler = entity
    scanner.ExternalEntityRefHandler = lambda *a: 0  # never fetch anything
    try:
        scanner.Parse(data, True)
    except _Stop as e:
        raise ManifestError(str(e), source, f"line {scanner.CurrentLineNumber}") from None
    except (LookupError, UnicodeError) as e:
        raise ManifestError(f"cannot decode the XML ({e})", source, "line 1") from None
    except expat.ExpatError as e:
        msg = expat.errors.messages.get(e.code, str(e))
        raise ManifestError(f"not well-formed XML ({msg})", source, f"line {e.lineno}, column {e.offset}") from None
    try:
        return minidom.parseString(data)
    except expat.ExpatError as e:
        msg = expat.errors.messages.get(e.code, str(e))
        if msg != expat.errors.XML_ERROR_UNBOUND_PREFIX or warn is None:
            raise ManifestError(f"not namespace-well-formed XML ({msg})", source, f"line {e.lineno}, column {e.offset}") from None
        warn(f"line {e.lineno}, column {e.offset}: undeclared namespace prefix; read without namespace processing")
    return expatbuilder.parseString(data, namespaces=False)


def children(el: minidom.Element, name: str) -> list[minidom.Element]:
    """Child elements with local name ``name``, in document order (as mpegdash finds them)."""
    return [n for n in el.childNodes if n.nodeType == n.ELEMENT_NODE and (n.localName == name or n.nodeName == name)]


def child(el: minidom.Element, name: str) -> minidom.Element | None:
    found = children(el, name)
    return found[0] if found else None


def text_of(el: minidom.Element) -> str:
    return "".join(n.data for n in el.childNodes if n.nodeType in (n.TEXT_NODE, n.CDATA_SECTION_NODE)).strip()


class Attrs:
    """Typed, located reads of one element's attributes."""

    __slots__ = ("el", "where", "source", "limits", "warn")

    def __init__(self, el: minidom.Element, where: str, source: str, limits: Limits,
                 warn: Callable[[str], None] | None = None):
        self.el = el
        self.where = where
        self.source = source
        self.limits = limits
        self.warn = warn  # tolerated spellings are reported here

    def raw(self, name: str) -> str | None:
        return self.el.getAttribute(name) if self.el.hasAttribute(name) else None

    def error(self, name: str, problem: str) -> ManifestError:
        return ManifestError(problem, self.source, f"{self.where}@{name}")

    def str(self, name: str) -> str | None:
        v = self.raw(name)
        return v.strip() if v is not None else None

    def uint(self, name: str, *, maximum: int = MAX_UINT64, positive: bool = False) -> int | None:
        v = self.raw(name)
        if v is None:
            return None
        if not _UINT.match(v):
            raise self.error(name, f"{v!r} is not an unsigned integer")
        n = int(v)
        if n > maximum:
            raise self.error(name, f"{n} is out of range (at most {maximum})")
        if positive and n == 0:
            raise self.error(name, "must be positive, not 0")
        return n

    def int(self, name: str, *, minimum: int = -MAX_UINT64, maximum: int = MAX_UINT64) -> int | None:
        v = self.raw(name)
        if v is None:
            return None
        if not _INT.match(v):
            raise self.error(name, f"{v!r} is not an integer")
        n = int(v)
        if not minimum <= n <= maximum:
            raise self.error(name, f"{n} is out of range ({minimum}..{maximum})")
        return n

    def double(self, name: str) -> float | None:
        v = self.raw(name)
        if v is None:
            return None
        if not _DOUBLE.match(v):
            raise self.error(name, f"{v!r} is not a number")
        x = float(v)
        if not math.isfinite(x):
            raise self.error(name, f"{v!r} is out of range")
        return x

    def bool(self, name: str, default: bool = False) -> bool:
        v = self.raw(name)
        if v is None:
            return default
        s = v.strip()
        if s in ("true", "1"):
            return True
        if s in ("false", "0"):
            return False
        raise self.error(name, f"{v!r} is not a boolean (true/false)")

    def duration_s(self, name: str) -> float | None:
        v = self.raw(name)
        if v is None:
            return None
        return parse_duration_s(v, f"{self.where}@{name}", self.source, self.limits.max_duration_s, self.warn)

    def datetime_s(self, name: str) -> float | None:
        v = self.raw(name)
        if v is None:
            return None
        return parse_datetime_epoch_s(v, f"{self.where}@{name}", self.source)

    def frame_rate(self, name: str, warn: Callable[[str], None]) -> float | None:
        """``30``, ``29.97`` or ``30000/1001``; a bad one is dropped with a warning (not needed to play)."""
        v = self.raw(name)
        if v is None:
            return None
        m = _FRAME_RATE.match(v)
        if not m or (m.group(2) is not None and int(m.group(2)) == 0):
            warn(f"{self.where}@{name}: {v!r} is not a frame rate; ignored")
            return None
        num = Fraction(m.group(1))
        return float(num / int(m.group(2))) if m.group(2) else float(num)

    def byte_range(self, name: str) -> tuple[int, int] | None:
        v = self.raw(name)
        if v is None:
            return None
        m = _RANGE.match(v)
        if not m:
            raise self.error(name, f"{v!r} is not a byte range 'first-last'")
        a, b = int(m.group(1)), int(m.group(2))
        if b < a:
            raise self.error(name, f"byte range {v!r} ends before it starts")
        if b > MAX_UINT64:
            raise self.error(name, f"byte range {v!r} is out of range")
        return a, b
