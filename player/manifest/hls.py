"""HLS playlists (RFC 8216 and its LL-HLS extensions) -> :class:`~player.manifest.model.Manifest`.

``m3u8`` reads the tag grammar (attribute lists, variants, renditions, I-frame streams,
LL-HLS server control, parts, preload hints, rendition reports). A line scan of our own
runs first and afterwards, because ``m3u8`` loses or breaks on things real playlists do:

- it gives no line numbers, and raises a bare ``ValueError`` on a bad number: we check
  every number ourselves and name the line;
- it drops a URI line that has no ``#EXTINF`` (we keep the segment, with the target
  duration, as video.js's m3u8-parser does) and a ``#EXT-X-STREAM-INF`` with no URI line
  (we reject it);
- it leaves ``#EXT-X-BYTERANGE:<n>`` offsets implicit (we compute them: the sub-range
  starts right after the previous segment's sub-range of the same resource);
- it does not say which ``#EXT-X-KEY`` encrypts the ``#EXT-X-MAP`` init segment (the key
  in effect at the MAP line does, RFC 8216 4.3.2.5);
- it keeps a trailing ``#EXTINF`` with no URI and the partial segment an LL-HLS playlist
  ends with as segments (neither can be fetched whole: we drop them and record the parts);
- it ignores ``#EXT-X-DEFINE``: we substitute ``{$var}`` references first (``NAME``/``VALUE``,
  ``QUERYPARAM`` from the playlist URL, ``IMPORT`` from the master when resolving).

Tolerated with a warning: comment or blank lines before ``#EXTM3U`` (and a UTF-8 BOM); a
non-integer ``#EXT-X-TARGETDURATION``; no target duration (the longest ``#EXTINF`` is
used); ``#EXTINF`` longer than the target duration; Windows paths as URIs; unknown tags
and IPTV extensions (``#EXTVLCOPT``, ``#EXTGRP``); an I-frame stream with a bad
``BANDWIDTH`` (recorded without it: I-frame streams are never played); optional
attributes with bad values (``AVERAGE-BANDWIDTH``, ``RESOLUTION``, ``FRAME-RATE``:
dropped); a variant that references an undefined ``AUDIO``/``SUBTITLES`` group; a
reference to an undefined variable (kept as written, as ExoPlayer and video.js do); a
variant with ``BANDWIDTH=0`` (listed at 0); an ``#EXT-X-DATERANGE`` without ``ID`` or with
a non-numeric duration (dropped, as hls.js drops it).

Rejected (ManifestError naming the line): binary data, no ``#EXTM3U``, master and media
tags in one playlist, a bad or negative ``#EXTINF``, a bad ``#EXT-X-MEDIA-SEQUENCE`` or
``#EXT-X-BYTERANGE``, a variant without a URI or without a valid ``BANDWIDTH``, and more
segments or lines than the :class:`~player.manifest.errors.Limits` allow.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from dataclasses import dataclass, field
from typing import Any

import m3u8

from player.manifest.errors import DEFAULT_LIMITS, MAX_BYTE_POSITION, Limits, ManifestError, Reader
from player.manifest.model import (
    AUDIO, TEXT, VIDEO, AdaptationSet, ContentProtection, ListLocator, LiveInfo, Manifest,
    PendingFetch, Period, Representation, Segments,
)
from player.manifest.urls import clean_reference, resolve, source_url
from player.presentation import SegmentRef

_ATTR = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("[^"]*"|[^,]*)\s*(?:,|$)')
_DEC = re.compile(r"^\s*[0-9]+\s*$")
_FLOAT = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$")
_BYTERANGE = re.compile(r"^\s*([0-9]+)\s*(?:@\s*([0-9]+))?\s*$")
_RES = re.compile(r'^\s*"?\s*([0-9]+)\s*[xX]\s*([0-9]+)\s*"?\s*$')
_MASTER_TAGS = ("#EXT-X-STREAM-INF", "#EXT-X-I-FRAME-STREAM-INF", "#EXT-X-MEDIA:")
_MEDIA_TAGS = ("#EXTINF", "#EXT-X-TARGETDURATION", "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-ENDLIST", "#EXT-X-BYTERANGE", "#EXT-X-PART:", "#EXT-X-MAP")
_MASTER_LINE = re.compile("^[ \t]*(?:" + "|".join(re.escape(t) for t in _MASTER_TAGS) + ")", re.M)
_MEDIA_LINE = re.compile("^[ \t]*(?:" + "|".join(re.escape(t) for t in _MEDIA_TAGS) + ")", re.M)
DEFAULT_AUDIO_BPS = 128_000  # EXT-X-MEDIA carries no bitrate; a stereo AAC-LC guess for size estimates


def daterange_problem(value: str) -> str | None:
    """Why m3u8 cannot take this ``#EXT-X-DATERANGE`` (it indexes ``ID`` and calls float()
    on the durations), or None. RFC 8216 4.3.2.7 requires ID; hls.js drops a range
    without one ("Ignoring invalid DATERANGE tag") and keeps the segments, so do we."""
    attrs = attribute_list(value)
    if not attrs.get("ID"):
        return "has no ID"
    for name in ("DURATION", "PLANNED-DURATION"):
        if name in attrs and not _FLOAT.match(attrs[name]):
            return f"{name}={attrs[name]!r} is not a number"
    return None


def attribute_list(text: str) -> dict[str, str]:
    """RFC 8216 4.2 attribute list -> {NAME: value}, quotes removed."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _ATTR.match(text, pos)
        if not m or m.end() == pos:
            break
        v = m.group(2).strip()
        out[m.group(1).upper()] = v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v
        pos = m.end()
    return out


@dataclass(slots=True)
class _Seg:
    line: int
    uri: str
    duration_s: float | None
    byte_range: tuple[int, int] | None = None
    discontinuity: bool = False
    gap: bool = False
    key: dict[str, str] | None = None
    map: dict[str, Any] | None = None
    program_date_time: str | None = None


@dataclass
class _Scan:
    lines: list[str]
    first: int  # index of the #EXTM3U line
    kind: str  # master | media
    segments: list[_Seg] = field(default_factory=list)
    target_duration_s: float | None = None
    dangling_extinf: int | None = None
    keys: list[dict[str, Any]] = field(default_factory=list)
    variants: list[tuple[int, dict[str, str], str]] = field(default_factory=list)  # (line, attrs, uri)
    iframes: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    sanitized: list[str] = field(default_factory=list)
    # Where each segment's block ends in ``sanitized`` and where the first one starts, and
    # how many segments came before the first LL-HLS part: see ``_for_m3u8``.
    seg_ends: list[int] = field(default_factory=list)
    first_seg_at: int | None = None
    segments_before_parts: int | None = None
    m3u8_skipped: int = 0  # leading segments not handed to m3u8


# m3u8 builds a Python object per segment (about 8 us each): for a long media playlist
# (grafov's 40,001-segment sample) that alone would cost a third of a second. Our own
# scan already reads every segment, so m3u8 gets the header, the playlist-level tags and
# only the last _M3U8_TAIL segments, which hold every LL-HLS part, preload hint and
# rendition report it reports on.
_M3U8_CONDENSE_AT = 2000
_M3U8_TAIL = 64
_PLAYLIST_TAGS = ("#EXT-X-TARGETDURATION", "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-DISCONTINUITY-SEQUENCE",
                  "#EXT-X-ENDLIST", "#EXT-X-PLAYLIST-TYPE", "#EXT-X-I-FRAMES-ONLY", "#EXT-X-INDEPENDENT-SEGMENTS",
                  "#EXT-X-START", "#EXT-X-VERSION", "#EXT-X-SERVER-CONTROL", "#EXT-X-PART-INF", "#EXT-X-SKIP",
                  "#EXT-X-ALLOW-CACHE", "#EXT-X-DEFINE")


def _for_m3u8(scan: _Scan) -> list[str]:
    """The sanitized playlist as m3u8 gets it (see _M3U8_CONDENSE_AT)."""
    out = scan.sanitized
    n = len(scan.seg_ends)
    if scan.kind != "media" or n <= _M3U8_CONDENSE_AT or scan.first_seg_at is None:
        return out
    drop = n - _M3U8_TAIL
    if scan.segments_before_parts is not None:
        drop = min(drop, scan.segments_before_parts)
    if drop <= 0:
        return out
    scan.m3u8_skipped = drop
    cut = scan.seg_ends[drop - 1]
    kept = [ln for ln in out[scan.first_seg_at:cut] if ln.startswith(_PLAYLIST_TAGS)]
    return out[:scan.first_seg_at] + kept + out[cut:]


def parse_m3u8(data: bytes | str, source: str, *, url: str | None = None, limits: Limits = DEFAULT_LIMITS,
               variables: dict[str, str] | None = None) -> Manifest:
    """Parse a master or media playlist. ``variables`` are the master playlist's
    ``#EXT-X-DEFINE`` variables a media playlist may ``IMPORT``."""
    text = _decode(data, source, limits)
    reader = _HlsReader(text, source, url or source_url(source), limits, variables)
    return reader.read()


_VAR_REF = re.compile(r"\{\$([A-Za-z0-9_-]+)\}")
_QUOTED = re.compile(r'"[^"]*"')


def substitute_variables(lines: list[str], url: str, imported: dict[str, str] | None,
                         warn: Any) -> tuple[list[str], dict[str, str]]:
    """RFC 8216bis 4.3 variable substitution, line for line (line numbers are kept).

    ``#EXT-X-DEFINE`` defines ``NAME``/``VALUE``, ``IMPORT``s a variable of the master
    playlist, or takes ``QUERYPARAM`` from the playlist URL's query. ``{$name}`` is then
    replaced in URI lines and in quoted attribute values. The RFC has a client fail on a
    reference to an undefined variable; like ExoPlayer and video.js's m3u8-parser we keep
    the reference as written and warn instead (a local copy of a playlist that takes its
    token from the URL query can still be inspected; fetching such a URI will fail).
    """
    variables: dict[str, str] = {}
    out: list[str] = []
    from urllib.parse import parse_qs, urlsplit

    def sub(text: str, i: int) -> str:
        def one(m: re.Match) -> str:
            name = m.group(1)
            if name in variables:
                return variables[name]
            warn(f"line {i + 1}: variable {{${name}}} is not defined by an #EXT-X-DEFINE; kept as written")
            return m.group(0)
        return _VAR_REF.sub(one, text)

    for i, ln in enumerate(lines):
        s = ln.strip()
        if s.startswith("#EXT-X-DEFINE:"):
            attrs = attribute_list(s.partition(":")[2])
            if "NAME" in attrs:
                variables[attrs["NAME"]] = attrs.get("VALUE", "")
            elif "IMPORT" in attrs:
                name = attrs["IMPORT"]
                if imported is not None and name in imported:
                    variables[name] = imported[name]
                else:
                    warn(f"line {i + 1}: IMPORT of {name!r}, which no master playlist defines here")
            elif "QUERYPARAM" in attrs:
                name = attrs["QUERYPARAM"]
                values = parse_qs(urlsplit(url).query, keep_blank_values=True).get(name)
                if values:
                    variables[name] = values[0]
                else:
                    warn(f"line {i + 1}: QUERYPARAM {name!r} is not in the playlist URL's query")
            out.append(ln)
        elif "{$" not in ln:
            out.append(ln)
        elif s.startswith("#"):
            out.append(_QUOTED.sub(lambda m: sub(m.group(0), i), ln))
        else:
            out.append(sub(ln, i))
    return out, variables


def _decode(data: bytes | str, source: str, limits: Limits) -> str:
    if isinstance(data, str):
        raw = data.encode("utf-8", "surrogatepass")
        text = data
    else:
        raw = data
        text = None
    if len(raw) > limits.max_bytes:
        raise ManifestError(f"playlist is {len(raw)} bytes, over the {limits.max_bytes}-byte limit", source)
    if b"\x00" in raw[:4096]:
        raise ManifestError("binary data, not a text playlist", source)
    if text is None:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ManifestError(f"not UTF-8 text (byte {e.start}); RFC 8216 playlists are UTF-8", source) from None
    return text.lstrip("\ufeff")


class _HlsReader(Reader):
    def __init__(self, text: str, source: str, url: str, limits: Limits, imported: dict[str, str] | None = None):
        super().__init__(source, url, limits)
        self.text = text
        self.imported = imported
        self.variables: dict[str, str] = {}

    def err(self, line: int, problem: str) -> ManifestError:
        return ManifestError(problem, self.source, f"line {line + 1}")

    # ------------------------------------------------------------------ scan
    def read(self) -> Manifest:
        lines = self.text.splitlines()
        if len(lines) > self.limits.max_lines:
            raise ManifestError(f"{len(lines)} lines (limit {self.limits.max_lines})", self.source)
        first = None
        for i, ln in enumerate(lines):
            s = ln.strip()
            if not s:
                continue
            if s.startswith("#EXTM3U"):
                first = i
                break
            if s.startswith("#") and not s.startswith("#EXT"):
                continue  # a plain comment
            raise self.err(i, f"not an HLS playlist: expected #EXTM3U first, found {s[:40]!r}")
        if first is None:
            raise ManifestError("not an HLS playlist: no #EXTM3U line", self.source)
        if first > 0:
            self.warn(f"line {first + 1}: comment or blank lines before #EXTM3U; skipped")
        if "#EXT-X-DEFINE:" in self.text:
            lines, self.variables = substitute_variables(lines, self.url, self.imported, self.warn)
        # Searched in the text at C speed: a 100,000-segment playlist has 200,000 lines.
        body = "\n".join(lines[first:])  # joined on \n whatever the line ends were (CR-only too)
        has_master = _MASTER_LINE.search(body) is not None
        has_media = _MEDIA_LINE.search(body) is not None
        if has_master and has_media:
            raise ManifestError("playlist mixes master tags (#EXT-X-STREAM-INF...) and media tags (#EXTINF...)", self.source)
        scan = _Scan(lines=lines, first=first, kind="master" if has_master else "media")
        if scan.kind == "media":
            self._scan_media(scan)
        else:
            self._scan_master(scan)
        try:
            parsed = m3u8.loads("\n".join(_for_m3u8(scan)) + "\n", uri=None)
        except Exception as e:  # our scan checks what m3u8 converts; this is a last resort
            raise ManifestError(f"m3u8 could not read the playlist ({type(e).__name__}: {e})", self.source) from None
        if scan.kind == "media":
            return self._media_manifest(scan, parsed)
        return self._master_manifest(scan, parsed)

    def _scan_media(self, scan: _Scan) -> None:
        out = scan.sanitized
        pending_dur: float | None = None
        pending_line: int | None = None
        pending_range: tuple[int, int | None] | None = None
        discontinuity = gap = False
        key: dict[str, str] | None = None
        cur_map: dict[str, Any] | None = None
        pdt: str | None = None
        last_end: dict[str, int] = {}  # resource -> first byte after its previous sub-range
        for i in range(scan.first, len(scan.lines)):
            s = scan.lines[i].strip()
            if not s:
                continue
            if not s.startswith("#"):
                if pending_dur is None:
                    td = scan.target_duration_s
                    if td is None:
                        raise self.err(i, "URI line without #EXTINF and no #EXT-X-TARGETDURATION to assume")
                    self.warn(f"line {i + 1}: URI without #EXTINF; the target duration {td:g} s is assumed")
                uri, fixed = clean_reference(s)
                if fixed:
                    self.warn(f"line {i + 1}: URI {s!r} is not a valid URI reference; read as {uri!r}")
                rng = None
                if pending_range is not None:
                    length, off = pending_range
                    if off is None:
                        if uri not in last_end:
                            self.warn(f"line {i + 1}: #EXT-X-BYTERANGE without offset and no previous sub-range of {uri}; offset 0 assumed")
                        off = last_end.get(uri, 0)
                    rng = (off, off + length - 1)
                    if rng[1] > MAX_BYTE_POSITION:
                        raise self.err(i, f"the byte range of this segment ends past byte {MAX_BYTE_POSITION}")
                    last_end[uri] = off + length
                scan.segments.append(_Seg(i, uri, pending_dur, rng, discontinuity, gap, key, cur_map, pdt))
                if len(scan.segments) > self.limits.max_segments:
                    raise self.err(i, f"more than {self.limits.max_segments} segments")
                if pending_dur is None:
                    if scan.first_seg_at is None:
                        scan.first_seg_at = len(out)
                    out.append(f"#EXTINF:{scan.target_duration_s},")
                out.append(uri)
                scan.seg_ends.append(len(out))
                pending_dur = pending_line = pending_range = None
                discontinuity = gap = False
                pdt = None
                continue
            tag, _, value = s.partition(":")
            if tag == "#EXTINF":
                dur_text = value.split(",", 1)[0].strip()
                if not _FLOAT.match(dur_text):
                    raise self.err(i, f"#EXTINF duration {dur_text!r} is not a number")
                d = float(dur_text)
                if not math.isfinite(d) or d < 0 or d > self.limits.max_duration_s:
                    raise self.err(i, f"#EXTINF duration {dur_text} is out of range")
                if pending_dur is not None:
                    self.warn(f"line {i + 1}: #EXTINF follows #EXTINF (line {pending_line + 1}) with no URI; the first is ignored")
                pending_dur, pending_line = d, i
                if scan.first_seg_at is None:
                    scan.first_seg_at = len(out)
                out.append(f"#EXTINF:{d!r},{value.split(',', 1)[1] if ',' in value else ''}")
                continue
            if tag == "#EXT-X-TARGETDURATION":
                if not _FLOAT.match(value) or float(value) < 0 or not math.isfinite(float(value)):
                    raise self.err(i, f"#EXT-X-TARGETDURATION {value!r} is not a non-negative number")
                td = float(value)
                if td > self.limits.max_duration_s:
                    raise self.err(i, f"#EXT-X-TARGETDURATION {value} is out of range")
                if not _DEC.match(value):
                    self.warn(f"line {i + 1}: #EXT-X-TARGETDURATION {value!r} is not an integer; used as is")
                scan.target_duration_s = td
                out.append(f"#EXT-X-TARGETDURATION:{math.ceil(td)}")
                continue
            if tag in ("#EXT-X-MEDIA-SEQUENCE", "#EXT-X-DISCONTINUITY-SEQUENCE"):
                if not _DEC.match(value) or int(value) > 2**63:
                    raise self.err(i, f"{tag} {value!r} is not an unsigned integer")
                out.append(f"{tag}:{int(value)}")
                continue
            if tag == "#EXT-X-BYTERANGE":
                pending_range = self._byterange(value, i, "#EXT-X-BYTERANGE")
                out.append(s)
                continue
            if tag == "#EXT-X-PART" and scan.segments_before_parts is None:
                scan.segments_before_parts = len(scan.segments)
            if tag == "#EXT-X-DISCONTINUITY":
                discontinuity = True
            elif tag == "#EXT-X-GAP":
                gap = True
            elif tag == "#EXT-X-PROGRAM-DATE-TIME":
                pdt = value.strip()
            elif tag == "#EXT-X-DATERANGE" and self._bad_daterange(value, i):
                continue  # not handed to m3u8: it would raise
            elif tag == "#EXT-X-KEY":
                attrs = attribute_list(value)
                method = attrs.get("METHOD", "")
                if not method:
                    raise self.err(i, "#EXT-X-KEY has no METHOD")
                key = None if method == "NONE" else attrs
                if key is not None:
                    if "URI" in key:
                        key = dict(key, URI=resolve(self.url, key["URI"]))
                    scan.keys.append(dict(key, line=i + 1))
            elif tag == "#EXT-X-MAP":
                attrs = attribute_list(value)
                if "URI" not in attrs:
                    raise self.err(i, "#EXT-X-MAP has no URI")
                rng = None
                if "BYTERANGE" in attrs:
                    length, off = self._byterange(attrs["BYTERANGE"], i, "#EXT-X-MAP BYTERANGE")
                    off = off or 0
                    rng = (off, off + length - 1)
                cur_map = {"uri": resolve(self.url, attrs["URI"]), "byte_range": rng, "key": key}
            out.append(s)
        if pending_dur is not None:
            scan.dangling_extinf = pending_line
            self.warn(f"line {pending_line + 1}: #EXTINF with no URI after it (playlist cut short); ignored")

    def _byterange(self, value: str, i: int, what: str) -> tuple[int, int | None]:
        """``<length>[@<offset>]`` (RFC 8216 4.3.2.2), bounded so sizes stay exact."""
        m = _BYTERANGE.match(value)
        if not m or int(m.group(1)) == 0:
            raise self.err(i, f"{what} {value!r} is not <length>[@<offset>]")
        length = int(m.group(1))
        off = int(m.group(2)) if m.group(2) is not None else None
        if (off or 0) + length - 1 > MAX_BYTE_POSITION:
            raise self.err(i, f"{what} {value!r} ends past byte {MAX_BYTE_POSITION}")
        return length, off

    def _scan_master(self, scan: _Scan) -> None:
        out = scan.sanitized
        lines = scan.lines
        i = scan.first
        while i < len(lines):
            s = lines[i].strip()
            if s.startswith("#EXT-X-STREAM-INF"):
                attrs = attribute_list(s.partition(":")[2])
                bw = attrs.get("BANDWIDTH")
                if bw is None:
                    raise self.err(i, "#EXT-X-STREAM-INF has no BANDWIDTH (required)")
                if not _FLOAT.match(bw) or float(bw) < 0 or float(bw) > 1e12:
                    raise self.err(i, f"#EXT-X-STREAM-INF BANDWIDTH {bw!r} is not a non-negative integer")
                if float(bw) < 1:
                    # 0 is a decimal-integer (RFC 8216 4.2), only a useless peak rate: hls.js,
                    # Shaka and ExoPlayer all load such a variant, as we load @bandwidth="0".
                    self.warn(f"line {i + 1}: #EXT-X-STREAM-INF BANDWIDTH {bw}; listed with a bitrate of 0")
                if not _DEC.match(bw):
                    self.warn(f"line {i + 1}: BANDWIDTH {bw!r} is not an integer; truncated")
                clean = self._clean_variant_attrs(attrs, i)
                j = i + 1
                while j < len(lines) and (not lines[j].strip() or (lines[j].strip().startswith("#") and not lines[j].strip().startswith("#EXT"))):
                    j += 1
                if j >= len(lines) or lines[j].strip().startswith("#"):
                    raise self.err(i, "#EXT-X-STREAM-INF is not followed by a URI line")
                uri, fixed = clean_reference(lines[j].strip())
                if fixed:
                    self.warn(f"line {j + 1}: URI {lines[j].strip()!r} is not a valid URI reference; read as {uri!r}")
                scan.variants.append((i, clean, uri))
                if len(scan.variants) > self.limits.max_representations:
                    raise self.err(i, f"more than {self.limits.max_representations} variants")
                out.append("#EXT-X-STREAM-INF:" + _attr_text(clean))
                out.append(uri)
                i = j + 1
                continue
            if s.startswith("#EXT-X-I-FRAME-STREAM-INF"):
                attrs = attribute_list(s.partition(":")[2])
                bw = attrs.get("BANDWIDTH")
                if bw is None or not _DEC.match(bw):
                    self.warn(f"line {i + 1}: I-frame stream with BANDWIDTH {bw!r}; recorded without a bandwidth")
                    attrs.pop("BANDWIDTH", None)
                scan.iframes.append((i, self._clean_variant_attrs(attrs, i)))
                i += 1
                continue  # recorded by us, not handed to m3u8 (it raises on a bad BANDWIDTH)
            if s.startswith("#EXT-X-MEDIA:"):
                attrs = attribute_list(s.partition(":")[2])
                for req in ("TYPE", "GROUP-ID", "NAME"):
                    if req not in attrs:
                        raise self.err(i, f"#EXT-X-MEDIA has no {req} (required)")
            if s.startswith("#EXT-X-DATERANGE:") and self._bad_daterange(s.partition(":")[2], i):
                i += 1
                continue
            if s:
                out.append(s)
            i += 1

    def _bad_daterange(self, value: str, i: int) -> bool:
        """A DATERANGE m3u8 cannot take on line ``i``: warned about, to be left out."""
        problem = daterange_problem(value)
        if problem is not None:
            self.warn(f"line {i + 1}: #EXT-X-DATERANGE {problem}; ignored")
        return problem is not None

    def _clean_variant_attrs(self, attrs: dict[str, str], i: int) -> dict[str, str]:
        clean = dict(attrs)
        if "BANDWIDTH" in clean:
            # Truncated, as m3u8 (int(float(x))) and hls.js (parseInt) read it: 7680000.6 -> 7680000.
            clean["BANDWIDTH"] = str(int(float(clean["BANDWIDTH"])))
        for name, ok in (("AVERAGE-BANDWIDTH", lambda v: bool(_DEC.match(v))),
                         ("RESOLUTION", lambda v: bool(_RES.match(v))),
                         ("FRAME-RATE", lambda v: bool(_FLOAT.match(v)) and 0 < float(v) < 1e4)):
            if name in clean and not ok(clean[name]):
                self.warn(f"line {i + 1}: {name}={clean[name]!r} is invalid; ignored")
                del clean[name]
        if "RESOLUTION" in clean:
            m = _RES.match(clean["RESOLUTION"])
            clean["RESOLUTION"] = f"{m.group(1)}x{m.group(2)}"  # type: ignore[union-attr]
        return clean

    # ------------------------------------------------------------------ media playlist
    def _media_manifest(self, scan: _Scan, p: Any) -> Manifest:
        segs = scan.segments
        with_uri = [s for s in p.segments if s.uri]
        ours_with_extinf = [s for s in segs[scan.m3u8_skipped:] if s.duration_s is not None]
        if len(with_uri) != len(ours_with_extinf):
            self.warn(f"m3u8 found {len(with_uri)} segments, our scan {len(ours_with_extinf)}; our scan is used")
        td = scan.target_duration_s
        durations = [s.duration_s if s.duration_s is not None else (td or 0.0) for s in segs]
        if td is None:
            self.warn("no #EXT-X-TARGETDURATION; the longest #EXTINF stands in for it")
            td = max(durations) if durations else None
        elif durations and max(durations) > td + 0.5:
            # RFC 8216 4.3.3.1: EXTINF rounded to the nearest integer must not exceed it.
            self.warn(f"a segment lasts {max(durations):g} s, longer than the target duration {td:g} s")
        endlist = bool(p.is_endlist)
        ptype = (p.playlist_type or "").upper() or None
        is_live = not endlist and ptype != "VOD"
        skipped = int(_num(getattr(p.skip, 'skipped_segments', None)) or 0)
        media_sequence = int(p.media_sequence or 0)
        ranges = [s.byte_range for s in segs]
        sizes = [r[1] - r[0] + 1 for r in ranges] if segs and all(r is not None for r in ranges) else None  # type: ignore[index]
        init = None
        if segs and segs[0].map is not None:
            init = SegmentRef(segs[0].map["uri"], segs[0].map["byte_range"])
        segments = Segments(
            durations_s=durations,
            locator=ListLocator([s.uri for s in segs], ranges, base=self.url),  # URIs cleaned by the scan
            init=init, kind="playlist", sizes_bytes=sizes, first_number=media_sequence + skipped,
        )
        segments.nominal_duration_s = max(durations) if durations else None
        if len({(s.map or {}).get("uri") for s in segs}) > 1 or any(s.map and s.map.get("byte_range") != segs[0].map.get("byte_range") for s in segs if segs[0].map):  # type: ignore[union-attr]
            segments.inits = [SegmentRef(s.map["uri"], s.map["byte_range"]) if s.map else None for s in segs]
        rep = Representation(id=None, bandwidth_bps=0, segments=segments, where="playlist")
        rep.extra["hls_segments"] = segs
        protection = [_key_protection(k) for k in scan.keys]
        total = _decimal_sum(durations)
        period = Period(id=None, start_s=0.0, duration_s=total if not is_live else None,
                        adaptation_sets=[AdaptationSet(VIDEO, [rep], content_protection=protection, where="playlist")])
        live = LiveInfo(target_duration_s=td, media_sequence=media_sequence,
                        discontinuity_sequence=int(p.discontinuity_sequence or 0), skipped_segments=skipped)
        sc = p.server_control
        if sc is not None and not isinstance(sc, dict):
            live.can_block_reload = str(sc.can_block_reload or "").upper() == "YES"
            live.can_skip_until_s = _num(sc.can_skip_until)
            live.hold_back_s = _num(sc.hold_back)
            live.part_hold_back_s = _num(sc.part_hold_back)
        live.part_target_s = _num(getattr(p.part_inf, "part_target", None))
        msn = media_sequence + skipped + scan.m3u8_skipped
        for seg in p.segments:
            for part in seg.parts or []:
                live.parts.append({"msn": msn, "uri": resolve(self.url, part.uri) if part.uri else None,
                                   "duration_s": _num(part.duration), "independent": part.independent == "YES",
                                   "byterange": part.byterange, "gap": part.gap == "YES"})
            if seg.uri:
                msn += 1
        if p.preload_hint is not None and not isinstance(p.preload_hint, dict):
            h = p.preload_hint
            live.preload_hints.append({"type": h.hint_type, "uri": resolve(self.url, h.uri) if h.uri else None,
                                       "byterange_start": h.byterange_start, "byterange_length": h.byterange_length})
        for r in p.rendition_reports or []:
            live.rendition_reports.append({"uri": resolve(self.url, r.uri) if r.uri else None,
                                           "last_msn": r.last_msn, "last_part": r.last_part})
        m = Manifest(
            format="hls", kind="media", source=self.source, url=self.url, is_live=is_live,
            duration_s=total if not is_live else None, periods=[period], live=live,
            target_duration_s=td, warnings=self.warnings, keys=scan.keys,
            discontinuities=[k for k, s in enumerate(segs) if s.discontinuity],
        )
        m.extra["playlist_type"] = ptype
        m.extra["endlist"] = endlist
        m.extra["version"] = p.version
        m.extra["window_s"] = total
        return m

    # ------------------------------------------------------------------ master playlist
    def _master_manifest(self, scan: _Scan, p: Any) -> Manifest:
        if len(p.playlists) != len(scan.variants):
            raise ManifestError(f"m3u8 read {len(p.playlists)} variants where our scan found {len(scan.variants)}", self.source)
        media_by_group: dict[tuple[str, str], list[Any]] = {}
        for med in p.media:
            media_by_group.setdefault(((med.type or "").upper(), med.group_id or ""), []).append(med)
        variants = []
        for (line, attrs, uri), pl in zip(scan.variants, p.playlists):
            si = pl.stream_info
            res = si.resolution
            rep = Representation(
                id=uri, bandwidth_bps=int(si.bandwidth), width=res[0] if res else None, height=res[1] if res else None,
                codecs=si.codecs, frame_rate=_num(si.frame_rate),
                average_bandwidth_bps=int(si.average_bandwidth) if si.average_bandwidth else None,
                where=f"line {line + 1}", playlist_url=resolve(self.url, uri), audio_group=si.audio,
                subtitle_group=si.subtitles,
            )
            rep.pending = PendingFetch(rep.playlist_url, None, "media-playlist", rep.where)  # type: ignore[arg-type]
            rep.extra["video_range"] = si.video_range
            rep.extra["hdcp_level"] = si.hdcp_level
            rep.extra["closed_captions"] = si.closed_captions
            cc = (si.closed_captions or "").strip('"') or None
            for gtype, gname in (("AUDIO", si.audio), ("SUBTITLES", si.subtitles), ("VIDEO", si.video),
                                 ("CLOSED-CAPTIONS", cc if cc != "NONE" else None)):
                if gname and (gtype, gname) not in media_by_group:
                    self.warn(f"line {line + 1}: {gtype} group {gname!r} is not defined by any #EXT-X-MEDIA; ignored")
            variants.append(rep)
        sets = [AdaptationSet(VIDEO, variants, where="variants")]
        for (gtype, gid), members in media_by_group.items():
            ctype = {"AUDIO": AUDIO, "SUBTITLES": TEXT}.get(gtype)
            if ctype is None:
                continue  # VIDEO renditions and CLOSED-CAPTIONS: recorded in extra only
            for med in members:
                rep = Representation(id=med.name, bandwidth_bps=DEFAULT_AUDIO_BPS if ctype == AUDIO else 256,
                                     codecs=None, where=f"EXT-X-MEDIA {gid}/{med.name}")
                if med.uri:
                    rep.playlist_url = resolve(self.url, med.uri)
                    rep.pending = PendingFetch(rep.playlist_url, None, "media-playlist", rep.where)
                else:
                    rep.extra["muxed"] = True  # carried in the variant's own stream
                rep.extra["channels"] = med.channels
                sets.append(AdaptationSet(
                    ctype, [rep], id=f"{gid}/{med.name}", lang=med.language, label=med.name,
                    roles=tuple(x for x in ("main" if med.default == "YES" else "", "forced" if med.forced == "YES" else "") if x),
                    group_id=gid, default=med.default == "YES", where=rep.where,
                ))
        iframes = []
        for line, attrs in scan.iframes:
            iframes.append({
                "line": line + 1, "uri": resolve(self.url, attrs["URI"]) if "URI" in attrs else None,
                "bandwidth_bps": int(attrs["BANDWIDTH"]) if "BANDWIDTH" in attrs else None,
                "codecs": attrs.get("CODECS"), "resolution": attrs.get("RESOLUTION"),
            })
        session_keys = [{"method": k.method, "uri": resolve(self.url, k.uri) if k.uri else None, "keyformat": k.keyformat}
                        for k in (p.session_keys or []) if k is not None]
        m = Manifest(
            format="hls", kind="master", source=self.source, url=self.url, is_live=None, duration_s=None,
            periods=[Period(id=None, start_s=0.0, duration_s=None, adaptation_sets=sets, where="master")],
            iframe_streams=iframes, session_keys=session_keys, warnings=self.warnings,
        )
        m.extra["media"] = [{"type": med.type, "group_id": med.group_id, "name": med.name, "language": med.language,
                             "uri": resolve(self.url, med.uri) if med.uri else None, "default": med.default == "YES"}
                            for med in p.media]
        m.extra["variables"] = dict(self.variables)  # what its media playlists may IMPORT
        return m


def _attr_text(attrs: dict[str, str]) -> str:
    quoted = {"CODECS", "AUDIO", "VIDEO", "SUBTITLES", "URI", "NAME", "GROUP-ID", "LANGUAGE", "CHARACTERISTICS", "CHANNELS", "PATHWAY-ID", "STABLE-VARIANT-ID"}
    parts = []
    for k, v in attrs.items():
        if k == "CLOSED-CAPTIONS" and v != "NONE":
            parts.append(f'{k}="{v}"')
        elif k in quoted:
            parts.append(f'{k}="{v}"')
        else:
            parts.append(f"{k}={v}")
    return ",".join(parts)


def _decimal_sum(values: list[float]) -> float:
    """The sum of #EXTINF durations as the decimals they were written as: six segments
    of 2.002 s last 12.012 s (a float sum gives 12.011999999999997)."""
    return float(sum((Decimal(repr(v)) for v in values), Decimal(0)))


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _key_protection(key: dict[str, Any]) -> ContentProtection:
    method = key.get("METHOD", "")
    fmt = key.get("KEYFORMAT", "identity")
    system = {"com.apple.streamingkeydelivery": "fairplay",
              "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed": "widevine",
              "com.microsoft.playready": "playready"}.get(fmt, method.lower())
    return ContentProtection(scheme_id_uri=f"hls:{method}", value=fmt, system=system, license_url=key.get("URI"))
