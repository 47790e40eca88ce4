"""DASH MPD -> :class:`~player.manifest.model.Manifest`.

``mpegdash`` reads the XML tree (Periods, AdaptationSets, Representations and their
string attributes); our resolver adds what it lacks: typed numbers, booleans and
durations with located errors (:mod:`player.manifest.xml`), attribute and segment
information inheritance Period -> AdaptationSet -> Representation, BaseURL chaining
resolved against the manifest URL, SegmentTemplate/SegmentTimeline/SegmentList
expansion (:mod:`player.manifest.timeline`), SegmentBase index requests (the sidx is
fetched later by :mod:`player.manifest.resolve`), content types, roles, languages,
ContentProtection, and the dynamic-MPD fields a live client needs.

Tolerated, with a warning in ``Manifest.warnings``:

- the legacy namespace ``urn:mpeg:DASH:schema:MPD:2011`` (upper case) or none at all;
- a namespace prefix used but never declared (``yt:...``, ``scte35:Signal``): the document
  is read with namespace processing off, as ExoPlayer's parser reads it;
- whitespace before the ``<?xml`` declaration (a templating origin's blank first line): read
  as if it followed the declaration;
- an empty SegmentTimeline or SegmentList (a live Period that has no segment yet): no segments;
- lower-case duration designators (``PT1M00s``): read as upper case;
- a remote (``xlink:href``) Period: kept with its timing and no AdaptationSet
  (``Period.remote_href``) until the manifest is resolved, which fetches it and re-reads
  the MPD with it in place (``player.manifest.xlink``); a remote AdaptationSet: skipped
  until then, likewise; a
  Period with no ``@start`` after one with no ``@duration`` (ISO/IEC 23009-1 example G.11)
  is placed by counting back from the next ``@start`` or the presentation's end;
- ``@bandwidth="0"`` (schema-valid) or no ``@bandwidth`` at all (required, but every major
  player loads such MPDs): the rung is listed, its bitrate 0 / unknown (null in facts);
- a static MPD with neither ``@mediaPresentationDuration`` nor a last ``Period@duration``:
  the last Period ends where its segments end;
- attributes ``mpegdash`` would choke on but that playback does not need (a non-numeric
  ``AdaptationSet@id``, ``Event@id``...): dropped before ``mpegdash`` sees them;
- a SegmentTimeline that ends before its Period (segments as listed) or runs past it
  (clipped), gaps and overlaps between ``S`` elements (absorbed);
- a SegmentList longer than its Period: every listed SegmentURL is kept (an explicit list
  wins over the Period duration, as the INDEX of real manifests counts them);
- an AdaptationSet whose content type cannot be told (skipped), a Period with no
  AdaptationSet (kept, empty), several BaseURLs (the first is used);
- unknown elements and attributes (ignored, as the schema's extension points require).

Rejected with a ManifestError naming the element path and attribute: not XML, entity
declarations, a root that is not ``MPD``, malformed numbers, durations, dates, booleans
or byte ranges in attributes playback needs, ``timescale``/``S@d`` of 0, ``S@r < -1``,
a SegmentTemplate without ``@media`` or with neither ``@duration`` nor a SegmentTimeline,
Periods out of order, byte ranges past byte 2**53 - 1, and any expansion over the
:class:`~player.manifest.errors.Limits`.
"""

from __future__ import annotations

import re
from typing import Any, Callable
from xml.dom import minidom

from mpegdash.nodes import MPEGDASH

from player.manifest.xlink import RESOLVE_TO_ZERO
from player.manifest.codecs import media_of
from player.manifest.errors import DEFAULT_LIMITS, MAX_BYTE_POSITION, Limits, ManifestError, Reader
from player.manifest.model import (
    AUDIO, IMAGE, TEXT, VIDEO, AdaptationSet, ContentProtection, ListLocator, LiveInfo, Manifest,
    PendingFetch, Period, Representation, Segments, TemplateLocator,
)
from player.manifest.template import UrlTemplate, url_filler
from player.manifest.timeline import Timing, expand_timeline, regular_count
from player.manifest.urls import clean_reference, resolve, source_url
from player.manifest.xml import BULK_REF, AttrMap, Attrs, Bulk, child, children, load_dom, text_of
from player.presentation import SegmentRef

MPD_NAMESPACES = ("urn:mpeg:dash:schema:mpd:2011", "urn:mpeg:DASH:schema:MPD:2011")
TRICK_MODE_SCHEME = "http://dashif.org/guidelines/trickmode"
_SEGMENT_KINDS = ("SegmentTemplate", "SegmentList", "SegmentBase")

# Attributes mpegdash converts with int()/float() and that playback does not need: when
# a value would make it raise, the attribute is removed first (with a warning).
_MPEGDASH_NONESSENTIAL: dict[str, dict[str, type]] = {
    "AdaptationSet": {"id": int, "minBandwidth": int, "maxBandwidth": int, "minWidth": int, "maxWidth": int,
                      "minHeight": int, "maxHeight": int, "selectionPriority": int,
                      "subsegmentStartsWithSAP": int, "width": int, "height": int,
                      "maximumSAPPeriod": float, "startWithSAP": int, "maxPlayoutRate": float},
    "Representation": {"qualityRanking": int, "numChannels": int, "sampleRate": int,
                       "maximumSAPPeriod": float, "startWithSAP": int, "maxPlayoutRate": float},
    "SubRepresentation": {"level": int, "bandwidth": int, "width": int, "height": int,
                          "maximumSAPPeriod": float, "startWithSAP": int, "maxPlayoutRate": float,
                          "dependencyLevel": list},
    "ContentComponent": {"id": int},
    "Event": {"presentationTime": int, "duration": int, "id": int},
    "EventStream": {"timescale": int},
    "BaseURL": {"availabilityTimeOffset": float},
    "SegmentBase": {"availabilityTimeOffset": float},
    "SegmentTemplate": {"availabilityTimeOffset": float},
    "SegmentList": {"availabilityTimeOffset": float},
    "Subset": {"contains": list},
}
_RANGE_FAST = re.compile(r"([0-9]{1,19})-([0-9]{1,19})\Z").match  # "first-last", the common spelling
_DIGITS = re.compile(r"[0-9]+\Z").match  # ASCII digits only (str.isdigit() also takes "²")
_TYPE_NAMES = {int: "an integer", float: "a number", list: "a list of integers"}
# Attributes mpegdash converts that playback needs: checked by our strict readers, which
# raise a located error, before mpegdash sees them.
_MPEGDASH_ESSENTIAL: dict[str, tuple[str, ...]] = {
    "Representation": ("bandwidth", "width", "height"),
    "SegmentBase": ("timescale", "presentationTimeOffset"),
    "SegmentTemplate": ("timescale", "presentationTimeOffset", "duration", "startNumber", "endNumber"),
    "SegmentList": ("timescale", "presentationTimeOffset", "duration", "startNumber", "endNumber"),
    "S": ("t", "d", "r"),
}


def parse_mpd(data: bytes | str, source: str, *, url: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Manifest:
    """Parse an MPD. ``source`` names it in errors; ``url`` (default: ``source`` as a URL)
    is what relative BaseURLs resolve against."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    reader = _MpdReader(data, source, url or source_url(source), limits)
    m = reader.read()
    if reader.remote_elements or any(p.remote_href for p in m.periods):
        m.extra["mpd_bytes"] = data  # for resolving them (player.manifest.xlink)
    return m


class _MpdReader(Reader):
    def __init__(self, data: bytes, source: str, url: str, limits: Limits):
        super().__init__(source, url, limits)
        self.data = data
        self.total_segments = 0
        self.n_reps = 0
        self._timelines: dict[tuple, Timing] = {}
        self.bulk = Bulk()
        self.remote_elements = False  # a remote AdaptationSet was seen (xlink:href)

    def attrs(self, el: minidom.Element, where: str) -> Attrs:
        return Attrs(el, where, self.source, self.limits, self.warn)

    # ------------------------------------------------------------------ document
    def read(self) -> Manifest:
        dom = load_dom(self.data, self.source, self.limits, self.warn, self.bulk)
        root = dom.documentElement
        if root is None or root.localName != "MPD":
            name = root.localName if root is not None else "nothing"
            raise ManifestError(f"root element is <{name}>, not <MPD>: not a DASH manifest", self.source)
        # Without namespace processing (see load_dom) namespace declarations are plain attributes.
        prefix = root.tagName.rpartition(":")[0]
        ns = root.namespaceURI or root.getAttribute(f"xmlns:{prefix}" if prefix else "xmlns") or None
        if ns not in MPD_NAMESPACES:
            self.warn(f"MPD: namespace {ns!r} is not the DASH namespace; read as DASH anyway")
        elif ns != MPD_NAMESPACES[0]:
            self.warn(f"MPD: legacy namespace {ns}")
        # SegmentTimeline and SegmentURL subtrees are read by us alone (from the DOM or the
        # pre-scan), and EventStreams not at all: mpegdash would build an object per S
        # element or Event (and our pre-check would walk them) for nothing. They are taken
        # out of the tree while mpegdash reads it and put back in place afterwards.
        detached = _detach(root, ("SegmentTimeline", "SegmentURL", "SegmentURLs", "EventStream"))
        try:
            self._prepare_for_mpegdash(root, "MPD")
            mpd = MPEGDASH()
            try:
                mpd.parse(root)
            except Exception as e:  # mpegdash gives no location; our checks above should prevent this
                raise ManifestError(f"mpegdash could not read the MPD ({type(e).__name__}: {e})", self.source) from None
        finally:
            _reattach(detached)
        return self._manifest(mpd, root)

    def _prepare_for_mpegdash(self, el: minidom.Element, where: str) -> None:
        """Check the attributes mpegdash converts; drop the unneeded ones it would choke on."""
        stack = [(el, where)]
        while stack:
            node, path = stack.pop()
            name = node.tagName.rpartition(":")[2]  # minidom's localName costs an exception a call
            for attr in _MPEGDASH_ESSENTIAL.get(name, ()):
                if node.hasAttribute(attr):
                    a = self.attrs(node, path)
                    if name == "S" and attr == "r":
                        a.int(attr)
                    else:
                        a.uint(attr)
            for attr, typ in _MPEGDASH_NONESSENTIAL.get(name, {}).items():
                if node.hasAttribute(attr):
                    v = node.getAttribute(attr)
                    try:
                        if typ is list:
                            [int(x) for x in v.replace(",", " ").split(" ") if x != ""]
                            if "" in re.split(r"[, ]", v):
                                raise ValueError
                        else:
                            typ(v)
                    except (ValueError, OverflowError):
                        self.warn(f"{path}@{attr}: {v!r} is not {_TYPE_NAMES[typ]}; read as text")
                        node.removeAttribute(attr)
                        node.setAttribute(f"x-abrlab-{attr}", v)  # mpegdash never reads it; we do
            counts: dict[str, int] = {}
            for c in node.childNodes:
                if c.nodeType == 1:
                    local = c.tagName.rpartition(":")[2]
                    counts[local] = counts.get(local, 0) + 1
                    cid = c.getAttribute("id")
                    stack.append((c, f"{path}/{local}[{counts[local]}]" + (f"(id={cid})" if cid else "")))

    def _manifest(self, mpd: MPEGDASH, root: minidom.Element) -> Manifest:
        a = self.attrs(root, "MPD")
        mpd_type = (a.str("type") or "static")
        if mpd_type not in ("static", "dynamic"):
            raise a.error("type", f"{mpd_type!r} is neither 'static' nor 'dynamic'")
        dynamic = mpd_type == "dynamic"
        mpd_duration = a.duration_s("mediaPresentationDuration")
        live = None
        if dynamic:
            live = LiveInfo(
                availability_start_s=a.datetime_s("availabilityStartTime"),
                publish_time_s=a.datetime_s("publishTime"),
                time_shift_buffer_depth_s=a.duration_s("timeShiftBufferDepth"),
                minimum_update_period_s=a.duration_s("minimumUpdatePeriod"),
                suggested_presentation_delay_s=a.duration_s("suggestedPresentationDelay"),
                min_buffer_time_s=a.duration_s("minBufferTime"),
            )
            if live.availability_start_s is None:
                self.warn("MPD: dynamic MPD without @availabilityStartTime; no live window can be computed")
            for el, node in zip(children(root, "UTCTiming"), mpd.utc_timings or []):
                live.utc_timing.append((node.scheme_id_uri or "", node.value or ""))
        base = self._base_url(root, self.url, "MPD")
        period_els = children(root, "Period")
        if len(period_els) > self.limits.max_periods:
            raise ManifestError(f"{len(period_els)} Periods (limit {self.limits.max_periods})", self.source, "MPD")
        timing = self._period_timing(period_els, mpd_duration, dynamic)
        periods = []
        for i, (pel, pnode, (start, dur)) in enumerate(zip(period_els, mpd.periods or [], timing)):
            periods.append(self._period(pel, pnode, i, start, dur, base, dynamic))
        if not dynamic and mpd_duration is None and periods and periods[-1].duration_s is None:
            self._period_end_from_segments(periods[-1])
        if mpd_duration is not None:
            duration = mpd_duration
        elif not dynamic and periods and periods[-1].duration_s is not None:
            duration = periods[-1].start_s + periods[-1].duration_s
        else:
            duration = None
        if not periods:
            raise ManifestError("MPD has no Period", self.source, "MPD")
        m = Manifest(
            format="dash", kind="mpd", source=self.source, url=self.url, is_live=dynamic,
            duration_s=duration, periods=periods, live=live, warnings=self.warnings,
            locations=[text_of(el) for el in children(root, "Location") if text_of(el)],
        )
        m.extra["profiles"] = a.str("profiles")
        m.extra["max_segment_duration_s"] = a.duration_s("maxSegmentDuration")
        m.extra["min_buffer_time_s"] = a.duration_s("minBufferTime")
        return m

    def _start_counted_back(self, period_els: list[minidom.Element], i: int, mpd_duration: float | None) -> float | None:
        """Start of Period ``i`` from what follows it: a later ``@start`` or the end of the
        presentation, minus the ``@duration`` of every Period in between (None if one is missing)."""
        between = 0.0
        for j in range(i, len(period_els)):
            a = self.attrs(period_els[j], self._period_where(period_els[j], j))
            later_start = a.duration_s("start") if j > i else None
            if later_start is not None:
                return later_start - between
            dur = a.duration_s("duration")
            if dur is None:
                return None
            between += dur
        return mpd_duration - between if mpd_duration is not None else None

    def _period_timing(self, period_els: list[minidom.Element], mpd_duration: float | None, dynamic: bool) -> list[tuple[float, float | None]]:
        """Period start and duration, ISO/IEC 23009-1 5.3.2.1."""
        starts: list[float] = []
        durs: list[float | None] = []
        for i, el in enumerate(period_els):
            a = self.attrs(el, self._period_where(el, i))
            start = a.duration_s("start")
            dur = a.duration_s("duration")
            if start is None:
                if i == 0:
                    start = 0.0
                    if dynamic:
                        self.warn(f"{a.where}: first Period of a dynamic MPD has no @start; 0 assumed")
                elif durs[-1] is not None:
                    start = starts[-1] + durs[-1]
                else:
                    # 5.3.2.1 gives no start here: the previous Period's length is unknown
                    # (an unresolved xlink Period, as in the standard's own example G.11).
                    # The later timing still pins it: count back from the next @start or
                    # from @mediaPresentationDuration over the @durations in between.
                    start = self._start_counted_back(period_els, i, mpd_duration)
                    if start is None:
                        raise ManifestError("Period has no @start and the previous Period has no @duration", self.source, a.where)
                    self.warn(f"{a.where}: no @start and the previous Period has no @duration; "
                              f"start {start:g} s counted back from the later timing")
            if starts and start < starts[-1]:
                raise ManifestError(f"Period starts at {start:g} s, before the previous Period ({starts[-1]:g} s)", self.source, a.where)
            if i > 0 and durs[-1] is None:
                durs[-1] = start - starts[-1]
            starts.append(start)
            durs.append(dur)
        if durs and durs[-1] is None and mpd_duration is not None:
            rest = mpd_duration - starts[-1]
            if rest > 0:
                durs[-1] = rest
            else:
                self.warn("MPD: the last Period starts at or after mediaPresentationDuration")
        return list(zip(starts, durs))

    def _period_end_from_segments(self, period: Period) -> None:
        """A static MPD with neither @mediaPresentationDuration nor a last Period@duration
        (ISO/IEC 23009-1 requires one of them) still lists its segments: the Period ends
        where its longest audio or video Representation ends, which is where Shaka's
        timeline ends too. dash.js refuses such an MPD; we take the segments' word for it."""
        ends = [r.segments.start_s + r.segments.total_s
                for a in period.adaptation_sets if a.content_type in (VIDEO, AUDIO)
                for r in a.representations
                if r.segments is not None and r.segments.open_duration_s is None and r.segments.durations_s]
        if not ends:
            return
        period.duration_s = max(ends)
        self.warn(f"{period.where}: static MPD with no mediaPresentationDuration and no Period@duration; "
                  f"the Period ends with its segments at {period.duration_s:g} s")

    @staticmethod
    def _period_where(el: minidom.Element, i: int) -> str:
        pid = el.getAttribute("id") if el.hasAttribute("id") else None
        return f"MPD/Period[{i + 1}]" + (f"(id={pid})" if pid else "")

    def _base_url(self, el: minidom.Element, parent: str, where: str) -> str:
        urls = [text_of(b) for b in children(el, "BaseURL")]
        urls = [u for u in urls if u]
        if not urls:
            return parent
        if len(urls) > 1:
            self.warn(f"{where}: {len(urls)} BaseURLs; the first is used")
        return resolve(parent, urls[0])

    # ------------------------------------------------------------------ period
    def _period(self, el: minidom.Element, node: Any, i: int, start: float, dur: float | None, base: str, dynamic: bool) -> Period:
        where = self._period_where(el, i)
        href = _xlink_href(el)
        if href is not None:
            # ISO/IEC 23009-1 5.5: the Period's content lives at href (resolved on load or
            # on request). We read no sub-resources while parsing: the Period is kept, with
            # its timing and no AdaptationSet, and says so.
            if href.strip() == RESOLVE_TO_ZERO:
                self.warn(f"{where}: xlink:href resolves to zero; the Period is empty")
            else:
                self.warn(f"{where}: remote Period (xlink:href={href.strip()!r}) not fetched; its content is unknown")
            return Period(id=node.id, start_s=start, duration_s=dur, adaptation_sets=[], where=where,
                          remote_href=href.strip() or None)
        pbase = self._base_url(el, base, where)
        psegs = {k: child(el, k) for k in _SEGMENT_KINDS}
        sets = []
        for j, (ael, anode) in enumerate(zip(children(el, "AdaptationSet"), node.adaptation_sets or [])):
            aset = self._adaptation_set(ael, anode, j, where, pbase, psegs, dur, dynamic)
            if aset is not None:
                sets.append(aset)
        if not sets:
            self.warn(f"{where}: Period has no usable AdaptationSet")
        return Period(id=node.id, start_s=start, duration_s=dur, adaptation_sets=sets, where=where)

    # ------------------------------------------------------------------ adaptation set
    def _adaptation_set(self, el: minidom.Element, node: Any, j: int, pwhere: str, pbase: str,
                        psegs: dict[str, minidom.Element | None], period_dur: float | None, dynamic: bool) -> AdaptationSet | None:
        aid = el.getAttribute("id") or el.getAttribute("x-abrlab-id") or None
        where = f"{pwhere}/AdaptationSet[{j + 1}]" + (f"(id={aid})" if aid else "")
        href = _xlink_href(el)
        if href is not None:
            if href.strip() != RESOLVE_TO_ZERO:
                self.remote_elements = True
                self.warn(f"{where}: remote AdaptationSet (xlink:href={href.strip()!r}) not fetched; skipped")
            return None
        rep_els = children(el, "Representation")
        ctype = self._content_type(el, node, rep_els)
        roles = tuple(r.value for r in (node.roles or []) if r.value)
        # DASH-IF IOP 3.2.9 signals a trick-mode set with an EssentialProperty; packagers
        # also use a SupplementalProperty, which ExoPlayer treats the same way
        # (DashManifestParser.parseRoleFlagsFromProperties over both, scheme compared
        # case-insensitively): never a main ladder rung.
        props = children(el, "EssentialProperty") + children(el, "SupplementalProperty")
        trick = any((d.getAttribute("schemeIdUri") or "").strip().lower() == TRICK_MODE_SCHEME for d in props)
        if ctype is None:
            self.warn(f"{where}: cannot tell the content type (no contentType, mimeType or codecs); skipped")
            return None
        abase = self._base_url(el, pbase, where)
        asegs = {k: child(el, k) for k in _SEGMENT_KINDS}
        aprot = self._protection(node.content_protections, el)
        reps = []
        for k, (rel, rnode) in enumerate(zip(rep_els, node.representations or [])):
            self.n_reps += 1
            if self.n_reps > self.limits.max_representations:
                raise ManifestError(f"more than {self.limits.max_representations} Representations", self.source, where)
            reps.append(self._representation(rel, rnode, k, where, el, node, ctype, abase, psegs, asegs, period_dur, dynamic, aprot))
        if not reps:
            self.warn(f"{where}: AdaptationSet has no Representation")
        a = self.attrs(el, where)
        return AdaptationSet(
            content_type=ctype, representations=reps, id=aid, mime_type=node.mime_type,
            lang=node.lang, label=node.label or (text_of(child(el, "Label")) if child(el, "Label") else None),
            roles=roles, content_protection=aprot, trick_mode=trick, where=where,
            group_id=a.str("group") or a.str("x-abrlab-group"),
        )

    def _content_type(self, el: minidom.Element, node: Any, rep_els: list[minidom.Element]) -> str | None:
        """video/audio/text/image, from @contentType, then @mimeType, ContentComponent,
        @codecs and Role, at the AdaptationSet then its first Representation (the order
        dash.js's and Shaka's own guessing follows)."""
        ct = (node.content_type or "").strip().lower()
        if ct in (VIDEO, AUDIO, TEXT, IMAGE):
            return ct
        rep = rep_els[0] if rep_els else None

        def attr(name: str) -> str:
            v = el.getAttribute(name) if el.hasAttribute(name) else ""
            if not v and rep is not None and rep.hasAttribute(name):
                v = rep.getAttribute(name)
            return v.strip().lower()

        mime = attr("mimeType")
        codecs = attr("codecs")
        major = mime.split("/")[0] if mime else ""
        if major in (VIDEO, AUDIO, TEXT, IMAGE):
            return major
        if mime in ("application/ttml+xml", "application/x-sami", "application/x-subrip", "application/x-rawcc"):
            return TEXT  # x-rawcc: raw CEA-608/708 caption samples (ExoPlayer's MimeTypes)
        if any(c in codecs for c in ("wvtt", "stpp", "ttml", "tx3g", "vtt", "cea608", "cea708")):
            return TEXT
        comps = [c.getAttribute("contentType").strip().lower() for c in children(el, "ContentComponent") if c.hasAttribute("contentType")]
        if VIDEO in comps:
            return VIDEO
        if AUDIO in comps:
            return AUDIO
        if TEXT in comps:
            return TEXT
        by_codec = media_of(codecs)  # a muxed "mp4a...,avc1..." list is video
        if by_codec in (VIDEO, AUDIO):
            return by_codec
        for role in children(el, "Role"):
            if role.getAttribute("value") in ("subtitle", "caption", "forced-subtitle"):
                return TEXT
        return None

    def _protection(self, nodes: Any, el: minidom.Element) -> list[ContentProtection]:
        out = []
        for cel, cp in zip(children(el, "ContentProtection"), nodes or []):
            scheme = (cp.scheme_id_uri or "").strip()
            kid = cp.cenc_default_kid or cp.default_key_id
            if kid is None:
                for name in list(cel.attributes.keys()):
                    if name.split(":")[-1] == "default_KID":
                        kid = cel.getAttribute(name)
            lic = None
            for c in cel.childNodes:
                if c.nodeType == c.ELEMENT_NODE and c.localName in ("Laurl", "laURL", "LA_URL"):
                    lic = text_of(c) or c.getAttribute("licenseUrl") or None
            out.append(ContentProtection(scheme, cp.value, kid, _drm_system(scheme, cp.value), lic))
        return out

    # ------------------------------------------------------------------ representation
    def _representation(self, el: minidom.Element, node: Any, k: int, awhere: str, ael: minidom.Element,
                        anode: Any, ctype: str, abase: str, psegs: dict, asegs: dict,
                        period_dur: float | None, dynamic: bool, aprot: list[ContentProtection]) -> Representation:
        rid = node.id
        where = f"{awhere}/Representation[{k + 1}]" + (f"(id={rid})" if rid else "")
        a = self.attrs(el, where)
        aa = self.attrs(ael, awhere)
        bandwidth = a.uint("bandwidth", maximum=10**12)
        missing_bandwidth = bandwidth is None
        if bandwidth is None:
            # Required by the schema, yet ExoPlayer, Shaka and dash.js all load such an MPD
            # (ExoPlayer's own test MPDs omit it): the rung is listed with an unknown
            # bitrate (null in inspect's JSON), and playback sizes it from its segments
            # when they are known, else says it cannot.
            if ctype in (VIDEO, AUDIO):
                self.warn(f"{where}: no @bandwidth (required); the rung's bitrate is unknown")
            bandwidth = 0
        elif bandwidth == 0 and ctype in (VIDEO, AUDIO):
            # Schema-valid (xs:unsignedInt) and seen in ExoPlayer's test MPDs.
            self.warn(f"{where}@bandwidth: 0; the rung's bitrate is unknown")
        width = a.uint("width", maximum=100_000)
        height = a.uint("height", maximum=100_000)
        if width is None:
            width = aa.uint("width", maximum=100_000) if ael.hasAttribute("width") and _is_uint(ael.getAttribute("width")) else None
        if height is None:
            height = aa.uint("height", maximum=100_000) if ael.hasAttribute("height") and _is_uint(ael.getAttribute("height")) else None
        frame_rate = a.frame_rate("frameRate", self.warn)
        if frame_rate is None and ael.hasAttribute("frameRate"):
            frame_rate = aa.frame_rate("frameRate", self.warn)
        rep = Representation(
            id=rid, bandwidth_bps=bandwidth, width=width, height=height,
            codecs=node.codecs or anode.codecs, frame_rate=frame_rate,
            mime_type=node.mime_type or anode.mime_type, where=where,
            content_protection=aprot + self._protection(node.content_protections, el),
        )
        if missing_bandwidth:
            rep.extra["bandwidth_missing"] = True
        base = self._base_url(el, abase, where)
        rsegs = {kd: child(el, kd) for kd in _SEGMENT_KINDS}
        self._segments(rep, base, (psegs, asegs, rsegs), (f"{awhere.rsplit('/', 1)[0]}", awhere, where), ctype, period_dur, dynamic)
        if rep.segments is not None:
            self.total_segments += len(rep.segments.durations_s)
            if self.total_segments > self.limits.max_total_segments:
                raise ManifestError(f"the MPD expands to more than {self.limits.max_total_segments} segments", self.source, where)
        return rep

    # ------------------------------------------------------------------ segment information
    def _segments(self, rep: Representation, base: str, levels: tuple[dict, dict, dict], wheres: tuple[str, str, str],
                  ctype: str, period_dur: float | None, dynamic: bool) -> None:
        # The most specific level that has any segment information decides its kind;
        # elements of that kind at higher levels supply inherited attributes and children.
        kind = None
        for lv in reversed(levels):
            for kd in _SEGMENT_KINDS:
                if lv.get(kd) is not None:
                    kind = kd
                    break
            if kind:
                break
        chain = [(lv[kind], f"{w}/{kind}") for lv, w in zip(levels, wheres) if kind and lv.get(kind) is not None]
        if kind is None:
            self._single_or_search(rep, base, None, ctype, period_dur, wheres[2])
            return
        where = chain[-1][1]
        merged: dict[str, tuple[str, str]] = {}  # attribute -> (value, where)
        kids: dict[str, list[tuple[minidom.Element, str]]] = {}
        for el, w in chain:
            for name, value in el.attributes.items():
                merged[name] = (value, w)
            for cname in ("SegmentTimeline", "Initialization", "RepresentationIndex", "SegmentURL"):
                found = self._segment_urls(el) if cname == "SegmentURL" else children(el, cname)
                if found:
                    # (element, path) pairs; a SegmentList's URLs keep (element, list path, index)
                    # so that 100,000 of them do not cost 100,000 path strings up front.
                    kids[cname] = ([(c, w, i) for i, c in enumerate(found)] if cname == "SegmentURL"
                                   else [(c, f"{w}/{cname}[{i + 1}]") for i, c in enumerate(found)])
        # One view carrying all the merged attributes, so typed reads name the right place.
        view = AttrMap({name: value for name, (value, _w) in merged.items()})
        a = Attrs(view, where, self.source, self.limits, self.warn)  # type: ignore[arg-type]
        timescale = a.uint("timescale", positive=True) or 1
        pto = a.uint("presentationTimeOffset") or 0
        init = self._init_ref(kids, base, rep, a, kind)
        rep.init = init
        if kind == "SegmentBase":
            self._segment_base(rep, base, a, kids, init, ctype, period_dur, where)
        elif kind == "SegmentList":
            self._segment_list(rep, base, a, kids, init, timescale, pto, period_dur, where)
        else:
            self._segment_template(rep, base, a, kids, init, timescale, pto, period_dur, dynamic, where)

    def _init_ref(self, kids: dict, base: str, rep: Representation, a: Attrs, kind: str) -> SegmentRef | None:
        if kind == "SegmentTemplate" and a.raw("initialization") is not None:
            t = UrlTemplate(a.raw("initialization") or "", a.where + "@initialization", self.source, self.warn)
            if t.uses_number or t.uses_time:
                self.warn(f"{a.where}@initialization: uses $Number$/$Time$; filled with 0")
            return SegmentRef(resolve(base, t.fill(rep.id, rep.bandwidth_bps, 0, 0)), None)
        if "Initialization" in kids:
            el, w = kids["Initialization"][0]
            ia = self.attrs(el, w)
            src = ia.str("sourceURL")
            return SegmentRef(resolve(base, src) if src else base, ia.byte_range("range"))
        return None

    def _timeline(self, kids: dict, timescale: int, pto: int, period_dur: float | None) -> Timing | None:
        if "SegmentTimeline" not in kids:
            return None
        tl, w = kids["SegmentTimeline"][0]
        # A timeline at AdaptationSet or Period level is shared by every Representation
        # under it: expand it once per (element, timing) and hand out copies.
        key = (id(tl), timescale, pto, period_dur)
        cached = self._timelines.get(key)
        if cached is not None:
            return Timing(list(cached.times), list(cached.durations), cached.nominal_max, cached.open_ended)
        entries = []
        ref = tl.getAttribute(BULK_REF)
        s_elements = [AttrMap(a) for a in self.bulk.timelines[int(ref)]] if ref else children(tl, "S")
        if len(s_elements) > self.limits.max_timeline_entries:
            raise ManifestError(f"{len(s_elements)} S elements (limit {self.limits.max_timeline_entries})", self.source, w)
        for i, s in enumerate(s_elements):
            # The common case (plain unsigned t/d, small r) without the per-attribute
            # machinery; anything unusual goes through Attrs for a located error.
            t, d, r = s.getAttribute("t"), s.getAttribute("d"), s.getAttribute("r")
            if _DIGITS(d) and (not t or _DIGITS(t)) and (not r or r == "-1" or _DIGITS(r)) and len(r) < 12:
                entries.append((int(t) if t else None, int(d), int(r) if r else 0, w, i))
                continue
            sw = f"{w}/S[{i + 1}]"
            sa = self.attrs(s, sw)
            dv = sa.uint("d")
            if dv is None:
                raise ManifestError("S has no @d (required)", self.source, sw)
            entries.append((sa.uint("t"), dv, sa.int("r", minimum=-(2**31), maximum=2**63) or 0, w, i))
        tm = expand_timeline(entries, timescale, pto, period_dur, self.limits, self.source, self.warn, w)
        self._timelines[key] = tm
        return Timing(list(tm.times), list(tm.durations), tm.nominal_max, tm.open_ended)

    def _segment_urls(self, seg_list: minidom.Element) -> list:
        """A SegmentList's SegmentURLs: from the pre-scan (see xml.Bulk) or the DOM."""
        holder = child(seg_list, "SegmentURLs")
        if holder is not None and holder.getAttribute(BULK_REF):
            return [AttrMap(a) for a in self.bulk.segment_urls[int(holder.getAttribute(BULK_REF))]]
        return children(seg_list, "SegmentURL")

    def _segment_template(self, rep: Representation, base: str, a: Attrs, kids: dict, init: SegmentRef | None,
                          timescale: int, pto: int, period_dur: float | None, dynamic: bool, where: str) -> None:
        media = a.raw("media")
        if media is None:
            raise ManifestError("SegmentTemplate has no @media", self.source, where)
        tmpl = UrlTemplate(media, where + "@media", self.source, self.warn)
        start_number = a.uint("startNumber")
        start_number = 1 if start_number is None else start_number
        end_number = a.uint("endNumber")
        fill = url_filler(tmpl, base, rep.id, rep.bandwidth_bps)
        tm = self._timeline(kids, timescale, pto, period_dur)
        if tm is not None:
            if tm.open_ended:
                self.warn(f"{where}: SegmentTimeline repeats (r=-1) into an open Period; the live window extends it")
            segs = Segments(
                durations_s=[d / timescale for d in tm.durations], locator=TemplateLocator(fill, start_number, tm.times),
                start_s=(tm.times[0] - pto) / timescale if tm.times else 0.0, init=init, kind="timeline",
                first_number=start_number, timescale=timescale, times=tm.times, pto=pto,
            )
            segs.nominal_duration_s = tm.nominal_max / timescale if tm.nominal_max else None
            if tm.open_ended:
                segs.open_duration_s = tm.durations[-1] / timescale if tm.durations else None
            rep.segments = segs
            return
        duration = a.uint("duration", positive=True)
        if duration is None:
            raise ManifestError("SegmentTemplate has neither @duration nor a SegmentTimeline", self.source, where)
        seg_s = duration / timescale

        def times(i: int, d: int = duration, p: int = pto) -> int:
            return i * d + p

        locator = TemplateLocator(fill, start_number, times)
        if period_dur is None:
            if not dynamic:
                self.warn(f"{where}: static MPD without a Period or MPD duration; segment count unknown")
            segs = Segments([], locator, init=init, kind="template", first_number=start_number,
                            timescale=timescale, pto=pto, open_duration_s=seg_s)
        else:
            n = regular_count(duration, timescale, period_dur, start_number, end_number, self.limits, self.source, where)
            durs = [seg_s] * n
            if n and n * seg_s > period_dur:
                durs[-1] = max(period_dur - (n - 1) * seg_s, 1e-6)  # the last one ends with the Period
            segs = Segments(durs, locator, init=init, kind="template", first_number=start_number,
                            timescale=timescale, pto=pto)
        segs.nominal_duration_s = seg_s
        rep.segments = segs

    def _segment_list(self, rep: Representation, base: str, a: Attrs, kids: dict, init: SegmentRef | None,
                      timescale: int, pto: int, period_dur: float | None, where: str) -> None:
        urls_els = kids.get("SegmentURL", [])
        if len(urls_els) > self.limits.max_segments:
            raise ManifestError(f"SegmentList has {len(urls_els)} SegmentURLs (limit {self.limits.max_segments})", self.source, where)
        urls, ranges = [], []
        for el, lw, i in urls_els:
            media = el.getAttribute("media").strip()
            urls.append(clean_reference(media)[0] if media else "")  # resolved against base on demand
            mr = el.getAttribute("mediaRange")
            m = _RANGE_FAST(mr) if mr else None
            if m and int(m.group(1)) <= int(m.group(2)) <= MAX_BYTE_POSITION:
                ranges.append((int(m.group(1)), int(m.group(2))))
            else:  # absent, or to be refused with its place named
                ranges.append(self.attrs(el, f"{lw}/SegmentURL[{i + 1}]").byte_range("mediaRange"))
        n = len(urls)
        start_number = a.uint("startNumber")
        start_number = 1 if start_number is None else start_number
        tm = self._timeline(kids, timescale, pto, period_dur)
        if tm is not None:
            if tm.open_ended:
                tm.durations = tm.durations[:n]
            if len(tm.durations) != n:
                self.warn(f"{where}: SegmentTimeline has {len(tm.durations)} segments, SegmentURLs {n}; using {min(n, len(tm.durations))}")
            n = min(n, len(tm.durations))
            durs = [d / timescale for d in tm.durations[:n]]
            nominal = max(tm.durations[:n]) / timescale if n else None
            kind = "timeline"
        else:
            duration = a.uint("duration", positive=True)
            if duration is None:
                if n == 1 and period_dur is not None:
                    duration_s = period_dur
                elif n == 0:
                    duration_s = 0.0  # an empty list: no segments, no duration needed (warned below)
                else:
                    raise ManifestError("SegmentList has neither @duration nor a SegmentTimeline", self.source, where)
            else:
                duration_s = duration / timescale
            durs = [duration_s] * n
            nominal = duration_s or None
            kind = "list"
            if period_dur is not None and n * duration_s > period_dur + 1e-6 and n > 1:
                self.warn(f"{where}: {n} segments of {duration_s:g} s run past the {period_dur:g} s Period; all kept")
        if n == 0:
            self.warn(f"{where}: SegmentList has no SegmentURL")
        sizes = None
        if n and all(r is not None for r in ranges[:n]):
            sizes = [r[1] - r[0] + 1 for r in ranges[:n]]  # type: ignore[index]
        segs = Segments(durs, ListLocator(urls[:n], ranges[:n], base=base), init=init, kind=kind, sizes_bytes=sizes,
                        first_number=start_number, timescale=timescale,
                        times=tm.times[:n] if tm is not None else None, pto=pto)
        segs.nominal_duration_s = nominal
        rep.segments = segs

    def _segment_base(self, rep: Representation, base: str, a: Attrs, kids: dict, init: SegmentRef | None,
                      ctype: str, period_dur: float | None, where: str) -> None:
        index_range = a.byte_range("indexRange")
        rep.media_url = base
        if "RepresentationIndex" in kids:
            el, w = kids["RepresentationIndex"][0]
            ia = self.attrs(el, w)
            src = ia.str("sourceURL")
            rep.pending = PendingFetch(resolve(base, src) if src else base, ia.byte_range("range"), "sidx", w)
            return
        if index_range is not None:
            rep.pending = PendingFetch(base, index_range, "sidx", where + "@indexRange")
            return
        self._single_or_search(rep, base, init, ctype, period_dur, where)

    def _single_or_search(self, rep: Representation, base: str, init: SegmentRef | None, ctype: str,
                          period_dur: float | None, where: str) -> None:
        """No index given: text is one file for the whole Period; media needs the file's head
        searched for a sidx (dash.js does the same), else it is one segment."""
        rep.media_url = base
        if ctype == TEXT or ctype == IMAGE:
            if period_dur is None:
                self.warn(f"{where}: single-file {ctype} track in a Period of unknown length")
                return
            segs = Segments([period_dur], ListLocator(None, None, url=base), init=init, kind="single")
            segs.nominal_duration_s = period_dur
            rep.segments = segs
            return
        rep.pending = PendingFetch(base, (0, 64 * 1024 - 1), "sidx-search", where)


def _detach(root: minidom.Element, names: tuple[str, ...]) -> list[tuple[minidom.Node, int, minidom.Node]]:
    """Remove every element named in ``names`` (with its subtree) from the tree; return
    what :func:`_reattach` needs to put each back at its place."""
    removed = []
    stack = [root]
    while stack:
        node = stack.pop()
        for idx in range(len(node.childNodes) - 1, -1, -1):  # backwards: indexes stay valid
            c = node.childNodes[idx]
            if c.nodeType != c.ELEMENT_NODE:
                continue
            if c.tagName.rpartition(":")[2] in names:
                node.removeChild(c)
                removed.append((node, idx, c))
            else:
                stack.append(c)
    return removed


def _reattach(removed: list[tuple[minidom.Node, int, minidom.Node]]) -> None:
    for parent, idx, node in reversed(removed):
        ref = parent.childNodes[idx] if idx < len(parent.childNodes) else None
        parent.insertBefore(node, ref)


def _xlink_href(el: minidom.Element) -> str | None:
    """``xlink:href`` whatever prefix the document bound the XLink namespace to."""
    for name, value in el.attributes.items():
        if name == "href" or name.endswith(":href"):
            return value
    return None


def _is_uint(v: str) -> bool:
    return v.strip().isdigit()


def _drm_system(scheme: str, value: str | None) -> str | None:
    s = scheme.lower()
    known = {
        "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed": "widevine",
        "urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95": "playready",
        "urn:uuid:79f0049a-4098-8642-ab92-e65be0885f95": "playready",
        "urn:uuid:94ce86fb-07ff-4f43-adb8-93d2fa968ca2": "fairplay",
        "urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b": "clearkey",
        "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e": "clearkey",
        "urn:uuid:5e629af5-38da-4063-8977-97ffbd9902d4": "marlin",
        "urn:uuid:9a27dd82-fde2-4725-8cbc-4234aa06ec09": "verimatrix",
    }
    if s in known:
        return known[s]
    if s == "urn:mpeg:dash:mp4protection:2011":
        return (value or "cenc").lower()
    return None
