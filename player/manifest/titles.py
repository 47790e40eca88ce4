"""A parsed manifest -> :class:`player.presentation.Title` for the session core.

Tracks: one video Track, at most one audio Track, and one text Track per text
AdaptationSet (HLS: per SUBTITLES rendition with a playlist).

Choices, in the order a player makes them:

- **Video**: the first video AdaptationSet of the first Period (trick-mode sets never),
  joined by any other video AdaptationSet whose segments line up with it (same count and
  durations: they are switchable); rungs ascending by bandwidth. For HLS, the variants
  (audio-only variants, with only ``mp4a``-like codecs, are left out when video variants
  exist).
- **Audio**: the AdaptationSet with Role ``main`` (else the first), optionally the one in
  ``audio_lang``; HLS: the renditions of the first variant's AUDIO group (the default one).
- **Multiple Periods** are flattened by concatenation: each track's ladder is that of
  the first Period; in a later Period each rung maps to the Representation with the same
  ``@id``, else to the one of the same rank by bandwidth (clamped). A media type missing
  from any Period is dropped (video missing is an error), so tracks stay in step.
- **Sizes**: exact when byte ranges are known (SegmentList ``mediaRange``, sidx, HLS
  BYTERANGE), else estimated as bandwidth x duration / 8
  (:func:`player.presentation.estimated_sizes`) with ``Track(sizes_known=False)``; the
  driver reports the real size when a download ends (``Session.segment_loaded``).
- **Live** (dynamic MPD, live playlist): the segments available at ``now_s`` (see
  :mod:`player.manifest.live`); an HLS live playlist is its own window.

Every Track gets a locator (``Track.refs``) so HTTP drivers can ask
``track.segment_ref(index, rung)`` and ``track.init_ref(index, rung)`` for URLs and byte
ranges; the session core never sees them.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import numpy as np

from player.manifest.codecs import AUDIO_FOURCCS, fourcc, split_codecs
from player.manifest.errors import ManifestError
from player.manifest.live import dash_window
from player.manifest.model import AUDIO, TEXT, VIDEO, AdaptationSet, Manifest, Period, Representation, Segments
from player.presentation import ContentError, Rung, SegmentRef, Title, Track

TEXT_BITRATE_BPS = 1_000  # text Representations rarely state one; a floor for estimates


@dataclass
class _Chunk:
    """One Period's contribution to a track: per rung, its segments and first index."""

    start: int  # track index of the chunk's first segment
    segments: list[Segments]
    offsets: list[int]  # index into each Segments of the chunk's first segment (live windows)


class ManifestRefs:
    """``Track.refs`` for manifest titles: segment index + rung -> URL and byte range."""

    def __init__(self, chunks: list[_Chunk]):
        self.chunks = chunks
        self._starts = [c.start for c in chunks]

    def _find(self, index: int, rung: int) -> tuple[Segments, int]:
        c = self.chunks[bisect_right(self._starts, index) - 1]
        return c.segments[rung], c.offsets[rung] + index - c.start

    def media(self, index: int, rung: int) -> SegmentRef:
        segs, i = self._find(index, rung)
        return segs.locator.ref(i)

    def init(self, index: int, rung: int) -> SegmentRef | None:
        segs, i = self._find(index, rung)
        if segs.inits is not None and i < len(segs.inits):
            return segs.inits[i]
        return segs.init


def manifest_to_title(m: Manifest, *, now_s: float | None = None, name: str | None = None,
                      audio_lang: str | None = None, text: bool = True) -> Title:
    """The Title to play. Sub-resources must have been fetched (``resolve_manifest``) and a
    live manifest needs ``now_s`` (epoch seconds)."""
    try:
        return _build(m, now_s, name, audio_lang, text)
    except ContentError as e:
        raise ManifestError(e.problem, m.source) from None


def _build(m: Manifest, now_s: float | None, name: str | None, audio_lang: str | None, text: bool) -> Title:
    if m.format == "dash" and m.is_live:
        if now_s is None:
            raise ManifestError("a dynamic MPD needs the current time (now_s) to know its segments", m.source)
        if m.live is None or m.live.availability_start_s is None:
            raise ManifestError("dynamic MPD without availabilityStartTime: no live window", m.source, "MPD@availabilityStartTime")
    periods = [p for p in m.periods if p.adaptation_sets]
    if not periods:
        raise ManifestError("no playable AdaptationSet in any Period", m.source)
    if m.format == "dash" and m.is_live:
        periods = [p for p in periods if m.live and m.live.availability_start_s is not None
                   and m.live.availability_start_s + p.start_s <= now_s]  # type: ignore[operator]
        if not periods:
            raise ManifestError("no Period has started yet at the given time", m.source)
    if m.format == "hls" and m.kind == "master":
        _drop_audio_only(m, periods[0])
    video_sets = [_video_sets(p) for p in periods]
    if not all(video_sets):
        missing = next(p for p, v in zip(periods, video_sets) if not v)
        raise ManifestError("no video AdaptationSet to play", m.source, missing.where or None)
    video = _track(m, "video", periods, video_sets, now_s)
    audio = None
    audio_sets = [_audio_sets(p, audio_lang, m) for p in periods]
    if all(audio_sets):
        audio = _track(m, "audio", periods, audio_sets, now_s, lang=audio_sets[0][0].lang, roles=audio_sets[0][0].roles)
    elif any(audio_sets):
        m.warn("audio is missing from some Period; the title plays without a separate audio track")
    texts: list[Track] = []
    if text:
        first_texts = [a for a in periods[0].of_type(TEXT) if all(r.segments is not None for r in a.representations) and a.representations]
        for k, a in enumerate(first_texts):
            per = []
            for p in periods:
                cands = [b for b in p.of_type(TEXT) if b.lang == a.lang and b.representations and all(r.segments is not None for r in b.representations)]
                per.append([cands[0]] if cands else [])
            if all(per):
                try:
                    texts.append(_track(m, "text", periods, per, now_s, lang=a.lang, roles=a.roles))
                except ManifestError as e:
                    m.warn(f"text track {a.lang or k} skipped: {e.problem}")
    stem = name or PurePosixPath(urlsplit(m.source).path).stem or "manifest"
    return Title(
        name=stem, video=video, audio=audio, text=tuple(texts), source=m.source,
        source_format=m.format,
        meta={"kind": m.kind, "is_live": m.is_live, "periods": len(periods), "warnings": list(m.warnings)},
    )


def _drop_audio_only(m: Manifest, p: Period) -> None:
    for a in p.of_type(VIDEO):
        def audio_only(r: Representation) -> bool:
            cs = split_codecs(r.codecs)
            return bool(cs) and all(fourcc(c) in AUDIO_FOURCCS for c in cs)
        keep = [r for r in a.representations if not audio_only(r)]
        if keep and len(keep) < len(a.representations):
            m.warn(f"{len(a.representations) - len(keep)} audio-only variant(s) left out of the video ladder")
            a.representations = keep


def _video_sets(p: Period) -> list[AdaptationSet]:
    sets = [a for a in p.of_type(VIDEO) if a.representations]
    if not sets:
        return []
    first = sets[0]
    out = [first]
    ref = _durations(first.representations[0])
    for a in sets[1:]:
        if ref is not None and all(_durations(r) == ref for r in a.representations):
            out.append(a)
    return out


def _durations(r: Representation) -> tuple[float, ...] | None:
    if r.segments is None:
        return None
    return tuple(round(d, 6) for d in r.segments.durations_s)


def _audio_sets(p: Period, lang: str | None, m: Manifest) -> list[AdaptationSet]:
    sets = [a for a in p.of_type(AUDIO) if a.representations]
    if m.format == "hls":
        sets = [a for a in sets if all(r.segments is not None for r in a.representations)]
        variants = p.of_type(VIDEO)
        group = variants[0].representations[0].audio_group if variants and variants[0].representations else None
        in_group = [a for a in sets if a.group_id == group]
        sets = in_group or sets
        defaults = [a for a in sets if a.default]
        return (defaults or sets)[:1]
    if lang is not None:
        sets = [a for a in sets if (a.lang or "").lower().startswith(lang.lower())] or sets
    mains = [a for a in sets if "main" in a.roles]
    return (mains or sets)[:1]


def _track(m: Manifest, media: str, periods: list[Period], sets_per_period: list[list[AdaptationSet]],
           now_s: float | None, lang: str | None = None, roles: tuple[str, ...] = ()) -> Track:
    first_reps = sorted((r for a in sets_per_period[0] for r in a.representations), key=lambda r: r.bandwidth_bps)
    for r in first_reps:
        if r.pending is not None:
            raise ManifestError(f"segments of {media} Representation {r.id or ''} need a fetch first ({r.pending.purpose}: "
                                f"{r.pending.url}); resolve the manifest", m.source, r.where)
        if r.segments is None:
            raise ManifestError(f"{media} Representation has no segments", m.source, r.where)
    rates = [_bitrate(m, r, media) for r in first_reps]
    rungs = tuple(Rung(bitrate_bps=b, width=r.width, height=r.height, codecs=r.codecs, id=r.id, frame_rate=r.frame_rate)
                  for b, r in zip(rates, first_reps))
    all_durs: list[float] = []
    size_blocks: list[np.ndarray] = []
    known = True
    chunks: list[_Chunk] = []
    for p, sets in zip(periods, sets_per_period):
        reps = sorted((r for a in sets for r in a.representations), key=lambda r: r.bandwidth_bps)
        mapped = [_map_rung(r0, k, reps) for k, r0 in enumerate(first_reps)]
        for r in mapped:
            if r.segments is None:
                raise ManifestError(f"{media} Representation has no segments (fetch pending?)", m.source, r.where)
        windows = [_window(m, p, r, now_s) for r in mapped]
        counts = [len(w[1]) for w in windows]
        n = min(counts)
        if max(counts) != n:
            m.warn(f"{p.where or 'period'}: {media} rungs have {min(counts)}..{max(counts)} segments; using {n}")
        if n == 0:
            continue
        durs = list(windows[0][1][:n])
        if any(d <= 0 for d in durs):
            k = next(i for i, d in enumerate(durs) if d <= 0)
            raise ManifestError(f"{media} segment {k + 1} has zero duration: cannot be played", m.source, mapped[0].where)
        block = np.empty((n, len(mapped)), dtype=np.int64)
        for j, (r, (off, _d)) in enumerate(zip(mapped, windows)):
            sizes = r.segments.sizes_bytes  # type: ignore[union-attr]
            if sizes is not None:
                block[:, j] = sizes[off:off + n]
            else:
                known = False
                bps = r.bandwidth_bps or rates[j]
                block[:, j] = np.maximum(1, np.rint(np.asarray(durs) * bps / 8.0)).astype(np.int64)
        chunks.append(_Chunk(len(all_durs), [r.segments for r in mapped], [w[0] for w in windows]))  # type: ignore[misc]
        all_durs.extend(durs)
        size_blocks.append(block)
    if not all_durs:
        raise ManifestError(f"no {media} segments available" + (" in the live window" if m.is_live else ""), m.source)
    return Track(media=media, rungs=rungs, segment_durations_s=np.asarray(all_durs),
                 sizes_bytes=np.vstack(size_blocks), sizes_known=known, language=lang, roles=tuple(roles),
                 refs=ManifestRefs(chunks))


def _bitrate(m: Manifest, r: Representation, media: str) -> int:
    if r.bandwidth_bps > 0:
        return r.bandwidth_bps
    segs = r.segments
    if segs is not None and segs.sizes_bytes and sum(segs.durations_s) > 0:
        return max(1, int(round(8 * sum(segs.sizes_bytes) / sum(segs.durations_s))))
    if media == TEXT:
        return TEXT_BITRATE_BPS
    raise ManifestError(f"{media} Representation states no bandwidth and its sizes are unknown "
                        "(a lone media playlist: play its master playlist instead)", m.source, r.where)


def _map_rung(r0: Representation, k: int, reps: list[Representation]) -> Representation:
    for r in reps:
        if r0.id is not None and r.id == r0.id:
            return r
    return reps[min(k, len(reps) - 1)]


def _window(m: Manifest, p: Period, r: Representation, now_s: float | None) -> tuple[int, list[float]]:
    segs = r.segments
    assert segs is not None
    if m.format == "dash" and m.is_live:
        w = dash_window(m, p, r, now_s)  # type: ignore[arg-type]
        return w.first_index, list(w.durations_s)
    if segs.open_duration_s is not None and not segs.durations_s:
        raise ManifestError("segment count unknown (no Period or MPD duration)", m.source, r.where)
    return 0, list(segs.durations_s)
