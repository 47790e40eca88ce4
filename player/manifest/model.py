"""The parsed manifest: one format-neutral model for DASH MPDs and HLS playlists.

A :class:`Manifest` has Periods (an HLS playlist is one Period), each with
AdaptationSets of one content type (``video``, ``audio``, ``text``, ``image``), each
with Representations (rungs). A Representation's :class:`Segments` say how long each
segment is and where it lives (:meth:`Segments.ref`); when that needs a network fetch
first (a DASH SegmentBase ``sidx``, an HLS variant's media playlist) the Representation
carries a :class:`PendingFetch` instead, which :mod:`player.manifest.resolve` fulfils
through an injected fetcher. Everything here is plain data: parsing never does I/O and
never reads a clock.

Times: ``Segments.start_s`` is the presentation time of the first segment relative to
its Period's start; Period ``start_s`` is relative to the presentation start (DASH
``Period@start``; for a dynamic MPD, add ``LiveInfo.availability_start_s`` to get wall
clock time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence
from urllib.parse import urljoin

from player.presentation import SegmentRef

VIDEO = "video"
AUDIO = "audio"
TEXT = "text"
IMAGE = "image"


class Locator:
    """Where segment ``i`` of one Representation lives (URL and optional byte range)."""

    def ref(self, index: int) -> SegmentRef:  # pragma: no cover - interface
        raise NotImplementedError


class ListLocator(Locator):
    """Explicit references: a SegmentList, an HLS media playlist, or a parsed sidx."""

    __slots__ = ("urls", "ranges", "url", "base")

    def __init__(self, urls: Sequence[str] | None, ranges: Sequence[tuple[int, int] | None] | None = None,
                 url: str | None = None, base: str | None = None):
        # One shared URL (sidx: every subsegment is a range of the same file) or one per segment.
        self.urls = list(urls) if urls is not None else None
        self.ranges = list(ranges) if ranges is not None else None
        self.url = url
        # With a base, ``urls`` are (already cleaned) references resolved when asked for:
        # a 40,000-segment playlist must not pay 40,000 urljoin calls to be inspected.
        self.base = base

    def ref(self, index: int) -> SegmentRef:
        url = self.urls[index] if self.urls is not None else self.url
        if self.base is not None and url is not None:
            url = urljoin(self.base, url)
        rng = self.ranges[index] if self.ranges is not None else None
        return SegmentRef(url or "", rng)


class TemplateLocator(Locator):
    """A SegmentTemplate: URLs are made on demand, so a million segments cost nothing."""

    __slots__ = ("fill", "base_url", "start_number", "times")

    def __init__(self, fill: Callable[[int, int | None], str], start_number: int, times: Sequence[int] | Callable[[int], int] | None):
        self.fill = fill  # (number, time) -> absolute URL
        self.start_number = start_number
        self.times = times  # media time ($Time$) of each segment, or a function of the index

    def ref(self, index: int) -> SegmentRef:
        t = None
        if self.times is not None:
            t = self.times(index) if callable(self.times) else self.times[index]
        return SegmentRef(self.fill(self.start_number + index, t), None)


@dataclass
class Segments:
    """The segments of one Representation in one Period."""

    durations_s: list[float]
    locator: Locator
    start_s: float = 0.0
    init: SegmentRef | None = None
    sizes_bytes: list[int] | None = None  # exact sizes when byte ranges are known
    kind: str = "template"  # template | timeline | list | sidx | single | playlist
    first_number: int = 0  # $Number$ / HLS media sequence number of the first segment
    # DASH timing kept for live windows: media times in timescale ticks.
    timescale: int = 1
    times: list[int] | None = None
    pto: int = 0
    # An open-ended live template (dynamic MPD, @duration, no Period end): durations_s is
    # empty and the live window (player.manifest.live) says which numbers exist now.
    open_duration_s: float | None = None
    # The nominal segment length inspect reports: @duration/@timescale, the longest S@d,
    # the longest #EXTINF (the last segment is often cut short; this is not).
    nominal_duration_s: float | None = None
    # HLS: the init segment (EXT-X-MAP) of each segment when it changes along the playlist.
    inits: list[SegmentRef | None] | None = None

    @property
    def count(self) -> int | None:
        return None if self.open_duration_s is not None else len(self.durations_s)

    @property
    def max_duration_s(self) -> float | None:
        if self.open_duration_s is not None:
            return self.open_duration_s
        return max(self.durations_s) if self.durations_s else None

    @property
    def total_s(self) -> float:
        return math.fsum(self.durations_s)

    def ref(self, index: int) -> SegmentRef:
        if not 0 <= index < len(self.durations_s) and self.open_duration_s is None:
            raise IndexError(f"segment {index} out of range (0..{len(self.durations_s) - 1})")
        return self.locator.ref(index)


@dataclass(frozen=True)
class PendingFetch:
    """A sub-resource a Representation needs before its segments are known."""

    url: str
    byte_range: tuple[int, int] | None  # inclusive, as in an HTTP Range header
    purpose: str  # "sidx" | "sidx-search" | "media-playlist"
    where: str  # element path or playlist line, for error messages


@dataclass(frozen=True)
class ContentProtection:
    scheme_id_uri: str
    value: str | None = None
    default_kid: str | None = None
    system: str | None = None  # "widevine", "playready", "cenc", "aes-128", ...
    license_url: str | None = None


@dataclass
class Representation:
    id: str | None
    bandwidth_bps: int
    width: int | None = None
    height: int | None = None
    codecs: str | None = None
    frame_rate: float | None = None
    mime_type: str | None = None
    average_bandwidth_bps: int | None = None
    segments: Segments | None = None
    pending: PendingFetch | None = None
    where: str = ""
    # HLS variant details
    playlist_url: str | None = None
    audio_group: str | None = None
    subtitle_group: str | None = None
    content_protection: list[ContentProtection] = field(default_factory=list)
    # DASH: what is needed to build segments once a sidx arrives.
    media_url: str | None = None
    init: SegmentRef | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class AdaptationSet:
    content_type: str  # video | audio | text | image | unknown
    representations: list[Representation]
    id: str | None = None
    mime_type: str | None = None
    lang: str | None = None
    label: str | None = None
    roles: tuple[str, ...] = ()
    content_protection: list[ContentProtection] = field(default_factory=list)
    trick_mode: bool = False
    group_id: str | None = None  # HLS EXT-X-MEDIA GROUP-ID
    default: bool = False
    where: str = ""


@dataclass
class Period:
    id: str | None
    start_s: float
    duration_s: float | None
    adaptation_sets: list[AdaptationSet]
    where: str = ""
    remote_href: str | None = None  # DASH xlink:href of a Period whose content was not fetched

    def of_type(self, content_type: str) -> list[AdaptationSet]:
        return [a for a in self.adaptation_sets if a.content_type == content_type and not a.trick_mode]


@dataclass
class LiveInfo:
    """What a live client needs besides the segments (DASH dynamic MPD or HLS live)."""

    availability_start_s: float | None = None  # epoch seconds (DASH)
    publish_time_s: float | None = None
    time_shift_buffer_depth_s: float | None = None
    minimum_update_period_s: float | None = None
    suggested_presentation_delay_s: float | None = None
    min_buffer_time_s: float | None = None
    utc_timing: list[tuple[str, str]] = field(default_factory=list)  # (scheme, value)
    # HLS
    target_duration_s: float | None = None
    part_target_s: float | None = None
    media_sequence: int | None = None
    discontinuity_sequence: int | None = None
    skipped_segments: int = 0
    can_block_reload: bool = False
    can_skip_until_s: float | None = None
    hold_back_s: float | None = None
    part_hold_back_s: float | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)  # LL-HLS parts, in order
    preload_hints: list[dict[str, Any]] = field(default_factory=list)
    rendition_reports: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Manifest:
    format: str  # "dash" | "hls"
    kind: str  # "mpd" | "master" | "media"
    source: str  # the file or URL it came from
    url: str  # absolute URL relative references were resolved against
    is_live: bool | None
    duration_s: float | None
    periods: list[Period]
    live: LiveInfo | None = None
    target_duration_s: float | None = None  # HLS
    iframe_streams: list[dict[str, Any]] = field(default_factory=list)  # HLS, recorded only
    session_keys: list[dict[str, Any]] = field(default_factory=list)  # HLS
    keys: list[dict[str, Any]] = field(default_factory=list)  # HLS EXT-X-KEY (media playlist)
    discontinuities: list[int] = field(default_factory=list)  # HLS: segment indexes after a discontinuity
    locations: list[str] = field(default_factory=list)  # DASH Location
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        if len(self.warnings) < 200:
            self.warnings.append(message)

    def representations(self) -> list[Representation]:
        return [r for p in self.periods for a in p.adaptation_sets for r in a.representations]

    def pending(self) -> list[tuple[Representation, PendingFetch]]:
        return [(r, r.pending) for r in self.representations() if r.pending is not None]
