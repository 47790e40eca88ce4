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
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable
from xml.dom import expatbuilder, minidom
from xml.parsers import expat

from player.manifest.errors import MAX_BYTE_POSITION, Limits, ManifestError
from player.manifest.isotime import parse_datetime_epoch_s, parse_duration_s

_UINT = re.compile(r"^\s*\+?[0-9]+\s*$")
_INT = re.compile(r"^\s*[+-]?[0-9]+\s*$")
_DOUBLE = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$")
_FRAME_RATE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s*(?:/\s*([0-9]+)\s*)?$")
_RANGE = re.compile(r"^\s*([0-9]+)\s*-\s*([0-9]+)\s*$")

MAX_UINT64 = 2**64 - 1


class _Stop(Exception):
    pass


@dataclass
class Bulk:
    """What makes an MPD big, read by the pre-scan and kept out of the DOM.

    A long SegmentTimeline or SegmentList is tens of thousands of ``S`` / ``SegmentURL``
    elements; minidom costs ~10 us per element (2 s for a 200,000-S timeline) where the
    expat pre-scan costs ~0.3 us. So the pre-scan keeps each one's attributes here and
    the DOM gets a placeholder in its place: ``<SegmentTimeline x-abrlab-ref="k"/>``
    (index into ``timelines``) and, for a SegmentList, one ``<SegmentURLs
    x-abrlab-ref="j"/>`` where its first SegmentURL was (index into ``segment_urls``).
    Line breaks are kept, so line numbers in later messages stay right.
    """

    timelines: list[list[dict[str, str]]] = field(default_factory=list)
    segment_urls: list[list[dict[str, str]]] = field(default_factory=list)


BULK_REF = "x-abrlab-ref"


class AttrMap:
    """A captured element's attributes with the minidom calls :class:`Attrs` makes."""

    __slots__ = ("attrs",)

    def __init__(self, attrs: dict[str, str]):
        self.attrs = attrs

    def hasAttribute(self, name: str) -> bool:  # noqa: N802 - minidom's spelling
        return name in self.attrs

    def getAttribute(self, name: str) -> str:  # noqa: N802
        return self.attrs.get(name, "")


_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")


def _tag_end(data: bytes, i: int) -> int:
    """Index just past the tag starting at ``data[i]`` (quotes may hold a '>')."""
    m = _TAG.match(data, i)
    if m:
        return m.end()
    quote = 0  # an end tag, or a tag the pattern does not know: walk it
    n = len(data)
    while i < n:
        c = data[i]
        if quote:
            if c == quote:
                quote = 0
        elif c in (0x22, 0x27):  # " '
            quote = c
        elif c == 0x3E:  # >
            return i + 1
        i += 1
    return n


def _start_tag(data: bytes, i: int) -> tuple[int, bool]:
    """End of the start tag at ``data[i]``, and whether it is an empty-element tag (``/>``):
    then the element ends there, which expat's position in the end handler (just past
    the tag, where an end tag may follow) cannot tell apart from an end tag."""
    e = _tag_end(data, i)
    return e, data[e - 2:e] == b"/>"


def _declaration_first(data: bytes, warn: Callable[[str], None] | None) -> bytes:
    """Whitespace before ``<?xml ...?>`` (a blank line a templating origin prints first)
    makes the document not well-formed (XML 1.0 section 2.8: the declaration comes first),
    yet nothing in it is ambiguous. As with blank lines before an HLS ``#EXTM3U``, it is
    read with a warning: the whitespace moves to just after the declaration, so every
    later line keeps its number in error messages."""
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    body = data[len(bom):]
    stripped = body.lstrip(b" \t\r\n")
    if len(stripped) == len(body) or not stripped.startswith(b"<?xml") or stripped[5:6] not in (b" ", b"\t", b"\r", b"\n"):
        return data
    end = stripped.find(b"?>")
    if end < 0:
        return data
    ws = body[: len(body) - len(stripped)]
    if warn is not None:
        line = ws.count(b"\n") + 1
        warn(f"line {line}: whitespace before the XML declaration; read as if it came after it")
    return bom + stripped[: end + 2] + ws + stripped[end + 2:]


def load_dom(data: bytes, source: str, limits: Limits, warn: Callable[[str], None] | None = None,
             bulk: Bulk | None = None) -> minidom.Document:
    """Parse ``data`` into a DOM after a bounded, entity-free pre-scan.

    With ``bulk``, timelines and segment lists go there instead of into the DOM (see
    :class:`Bulk`; not for UTF-16/32 documents, whose byte offsets we do not rewrite).

    A namespace prefix used but never declared (``yt:earliestMediaSequence``, a
    ``scte35:Signal`` inside an Event: both in ExoPlayer's test MPDs, and common in
    captures of real origins) makes the document well-formed XML but not namespace-
    well-formed. ExoPlayer's non-namespace-aware pull parser reads such MPDs, so with a
    ``warn`` callback we do the same: a warning, and the document read with namespace
    processing off (element names keep their prefix; ``localName`` drops it).
    """
    if len(data) > limits.max_bytes:
        raise ManifestError(f"manifest is {len(data)} bytes, over the {limits.max_bytes}-byte limit", source)
    data = _declaration_first(data, warn)
    head = data[:4]
    if bulk is not None and (head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head):
        bulk = None  # not an ASCII-compatible encoding: no byte surgery
    depth = 0
    count = 0
    dom_count = 0
    reps = [0]
    scanner = expat.ParserCreate()
    parents: list[str] = []  # local names of the open elements
    spans: list[tuple[int, int, bytes]] = []  # (start, end, replacement) in data
    # [depth, start, qname, index, end if an empty-element tag] of the SegmentTimeline
    # being captured; [depth, start, replacement, end if empty] of the SegmentURL.
    timeline: list = []
    url_open: list = []
    list_urls: dict[int, int] = {}  # depth of an open SegmentList -> its index in bulk.segment_urls

    def start(name: str, attrs: dict) -> None:
        nonlocal depth, count, dom_count
        depth += 1
        count += 1
        if depth > limits.max_depth:
            raise _Stop(f"elements nest deeper than {limits.max_depth} levels")
        if count > limits.max_elements:
            raise _Stop(f"more than {limits.max_elements} XML elements")
        local = name.rpartition(":")[2]
        parents.append(local)
        if bulk is not None:
            if timeline:
                if local == "S" and depth == timeline[0] + 1:
                    entries = bulk.timelines[timeline[3]]
                    entries.append(attrs)
                    if len(entries) > limits.max_timeline_entries:
                        raise _Stop(f"a SegmentTimeline has more than {limits.max_timeline_entries} S elements")
                return  # kept out of the DOM with its timeline
            if url_open:
                return  # inside a SegmentURL (no children by the schema): dropped with it
            if local == "SegmentTimeline":
                i = scanner.CurrentByteIndex
                e, empty = _start_tag(data, i)
                timeline[:] = [depth, i, name, len(bulk.timelines), e if empty else 0]
                bulk.timelines.append([])
            elif local == "SegmentURL" and len(parents) > 1 and parents[-2] == "SegmentList":
                j = list_urls.get(depth - 1)
                if j is None:  # the list's first SegmentURL: the placeholder goes here
                    j = list_urls[depth - 1] = len(bulk.segment_urls)
                    bulk.segment_urls.append([])
                    prefix = name[: len(name) - len(local)]
                    repl = f'<{prefix}SegmentURLs {BULK_REF}="{j}"'.encode()
                else:
                    repl = b""
                urls = bulk.segment_urls[j]
                urls.append(attrs)
                if len(urls) > limits.max_segments:
                    raise _Stop(f"a SegmentList has more than {limits.max_segments} SegmentURLs")
                i = scanner.CurrentByteIndex
                e, empty = _start_tag(data, i)
                url_open[:] = [depth, i, repl, e if empty else 0]
                return
        dom_count += 1
        if dom_count > limits.max_dom_elements:
            raise _Stop(f"more than {limits.max_dom_elements} XML elements besides S and SegmentURL")
        if local == "Representation":
            reps[0] += 1
            if reps[0] > limits.max_representations:
                raise _Stop(f"more than {limits.max_representations} Representations")

    def end(_name: str) -> None:
        nonlocal depth
        if timeline and depth == timeline[0]:
            s0, e0 = timeline[1], timeline[4] or _tag_end(data, scanner.CurrentByteIndex)
            nl = b"\n" * data.count(b"\n", s0, e0)
            spans.append((s0, e0, f'<{timeline[2]} {BULK_REF}="{timeline[3]}"'.encode() + nl + b"/>"))
            timeline.clear()
        elif url_open and depth == url_open[0]:
            s0, e0 = url_open[1], url_open[3] or _tag_end(data, scanner.CurrentByteIndex)
            nl = b"\n" * data.count(b"\n", s0, e0)
            spans.append((s0, e0, url_open[2] + nl + b"/>" if url_open[2] else nl or b" "))
            url_open.clear()
        if parents and parents[-1] == "SegmentList":
            list_urls.pop(depth, None)
        parents.pop()
        depth -= 1

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
    if spans:
        pieces, pos = [], 0
        for s0, e0, repl in spans:
            pieces += [data[pos:s0], repl]
            pos = e0
        pieces.append(data[pos:])
        data = b"".join(pieces)
    try:
        return minidom.parseString(data)
    except expat.ExpatError as e:
        msg = expat.errors.messages.get(e.code, str(e))
        if msg != expat.errors.XML_ERROR_UNBOUND_PREFIX or warn is None:
            raise ManifestError(f"not namespace-well-formed XML ({msg})", source, f"line {e.lineno}, column {e.offset}") from None
        warn(f"line {e.lineno}, column {e.offset}: undeclared namespace prefix; read without namespace processing")
    return expatbuilder.parseString(data, namespaces=False)


def children(el: minidom.Element, name: str) -> list[minidom.Element]:
    """Child elements with local name ``name``, in document order (as mpegdash finds them).

    Compares tag names rather than minidom's ``localName`` property, which costs an
    exception per call when namespace processing did not set it (most of the time on a
    200,000-element timeline)."""
    suffix = ":" + name
    return [n for n in el.childNodes if n.nodeType == 1 and (n.tagName == name or n.tagName.endswith(suffix))]


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
        if b > MAX_BYTE_POSITION:
            raise self.error(name, f"byte range {v!r} is out of range (past byte {MAX_BYTE_POSITION})")
        return a, b
