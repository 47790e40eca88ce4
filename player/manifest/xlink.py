"""Remote Periods and AdaptationSets: DASH XLink resolution (ISO/IEC 23009-1 5.5).

A Period may live elsewhere: ``<Period xlink:href="ad-break.xml" xlink:actuate="onLoad"/>``
says "fetch this and put what it holds here" (server-side ad insertion and multi-source
live events write MPDs this way). ``parse_mpd`` reads no sub-resources, so it keeps such
a Period with its timing and no content and says so; resolving the manifest
(:func:`player.manifest.resolve.resolve_manifest`, which a player does before playing)
fetches each remote Period and re-reads the MPD with the fetched content in its place.

What the standard says and what we do:

- Periods and AdaptationSets may be remote (the two elements 5.5 allows xlink on that
  carry media). The remote resource is a fragment of zero or more elements of the same
  kind (5.5.3); zero is how a server removes one (like ``urn:mpeg:dash:resolve-to-zero:2013``). Its elements
  replace the referring element; they inherit the MPD's namespaces, which a textual
  splice gives them for free (a fragment usually declares none).
- ``xlink:actuate`` is ``onLoad`` (resolve when the MPD is loaded) or ``onRequest`` (the
  default: when the Period is needed). We play whole presentations, so both are
  resolved when the manifest is resolved; dash.js resolves ``onLoad`` at load too.
- A relative href resolves against the MPD's URL.
- Fetched Periods may refer further; we follow at most ``MAX_DEPTH`` levels (the
  standard leaves the bound to the client) and the manifest's fetch limit.
- A fetch that fails, or a fragment that is not Periods, leaves the Period as it was
  (unresolved, with a warning): the rest of the presentation still plays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin
from xml.parsers import expat

MAX_DEPTH = 3
RESOLVE_TO_ZERO = "urn:mpeg:dash:resolve-to-zero:2013"
_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
_LEADING_COMMENTS = re.compile(rb"^(\s*<!--.*?-->)*\s*", re.S)


# Where each kind of remote element may stand: its depth below the document (MPD = 0).
REMOTE_KINDS = {"Period": 1, "AdaptationSet": 2}


@dataclass(frozen=True)
class RemoteElement:
    """A remote element (a Period, or an AdaptationSet: ``kind``) in the MPD's bytes."""

    start: int  # byte offsets of the element in the MPD, end exclusive
    end: int
    href: str  # as written
    url: str  # resolved against the MPD URL
    kind: str = "Period"


def remote_elements(data: bytes, mpd_url: str) -> list[RemoteElement]:
    """The MPD's Periods and AdaptationSets with an ``xlink:href`` (other than
    resolve-to-zero); an AdaptationSet inside a remote Period waits for its Period."""
    out: list[RemoteElement] = []
    stack: list[tuple[str, int, str | None]] = []  # (local name, start offset, href)
    parser = expat.ParserCreate()

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1]
        href = None
        # Inside a remote element nothing else is: its content is replaced as a whole.
        if REMOTE_KINDS.get(local) == len(stack) and not any(h for _, _, h in stack):
            for k, v in attrs.items():
                if k == "href" or k.endswith(":href"):
                    href = v.strip()
        stack.append((local, parser.CurrentByteIndex, href))

    def end(name: str) -> None:
        local, begin, href = stack.pop()
        if href is None or href == RESOLVE_TO_ZERO:
            return
        m = _TAG.match(data, begin)
        if m is None:  # pragma: no cover - expat accepted the tag
            return
        if m.group(1):  # <Period .../>
            stop = m.end()
        else:  # ... </Period>: the end event is at the end tag
            close = data.find(b">", parser.CurrentByteIndex)
            stop = close + 1
        out.append(RemoteElement(begin, stop, href, urljoin(mpd_url, href), local))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        return []  # parse_mpd already accepted (or rejected) the document
    return out


def fragment_problem(body: bytes, kind: str = "Period") -> str | None:
    """Why ``body`` cannot stand in for a ``kind`` element, or None."""
    text = _LEADING_COMMENTS.sub(b"", _XML_DECL.sub(b"", body.lstrip(b"\xef\xbb\xbf")))
    if not text.strip():
        return None  # zero Periods: the Period is removed
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        return "declares a DTD or entities"
    first = _TAG.match(text)
    if first is None or first.group(0)[1:].split(maxsplit=1)[0].rsplit(b":", 1)[-1].rstrip(b"/>") != kind.encode():
        return f"does not start with an {kind} element" if kind[0] in "AEIOU" else f"does not start with a {kind} element"
    return None


def splice(data: bytes, fetched: dict[RemoteElement, bytes]) -> bytes:
    """``data`` with each remote Period replaced by its fetched fragment."""
    out = []
    at = 0
    for rp in sorted(fetched, key=lambda r: r.start):
        body = _XML_DECL.sub(b"", fetched[rp].lstrip(b"\xef\xbb\xbf"))
        # Keep the line count of the replaced element, so later messages about the
        # rest of the MPD still name the right lines.
        lines = data.count(b"\n", rp.start, rp.end)
        out += [data[at:rp.start], body.strip(), b"\n" * lines]
        at = rp.end
    out.append(data[at:])
    return b"".join(out)
