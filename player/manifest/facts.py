"""The facts ``abrlab inspect`` reports about a parsed manifest.

Conventions (they match the INDEX of real manifests in ../shared/manifests):

- ``video``: the video Representations of the *first* Period (the first whose content is
  in the MPD: not an unfetched xlink Period) (all video AdaptationSets,
  trick-mode sets excluded), ascending by bandwidth; for an HLS master, every
  ``#EXT-X-STREAM-INF`` variant (audio-only ones included, as the master lists them); for
  an HLS media playlist, none (a media playlist has no ladder). A rung's ``codecs`` is
  the attribute exactly as the manifest gives it (``@codecs``, or an HLS variant's whole
  ``CODECS`` list, which also names the audio codec); ``video_codec`` is the video part
  of it (``avc1.64001f`` of ``CODECS="mp4a.40.2,avc1.64001f"``), the whole list when none
  of it is video (an audio-only variant).
- ``segment_duration_s`` and ``first_video_segments`` describe the lowest video rung of
  the first Period (with no video, the first audio Representation); for an HLS media
  playlist, the playlist itself. ``segment_duration_s`` is the nominal segment length:
  ``@duration / @timescale`` for a template or list, the longest ``S@d`` of a timeline, the
  longest ``#EXTINF`` of a playlist. Either is null when it needs a network fetch (a
  SegmentBase index, an HLS master's media playlists) or a clock (an open-ended live
  template).
- ``duration_s``: ``@mediaPresentationDuration``, else the end of the last Period of a
  static MPD; the sum of ``#EXTINF`` of an ended (VOD) playlist; null for live.
- ``periods``: the number of Periods of an MPD; null for HLS (it has none).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from player.manifest.codecs import video_codecs
from player.manifest.errors import ManifestError
from player.manifest.live import dash_window, hls_target_s, next_refresh_s
from player.manifest.model import AUDIO, TEXT, VIDEO, Manifest, Period, Representation


def _rung(r: Representation, media: str = VIDEO) -> dict[str, Any]:
    return {
        "bandwidth_bps": None if r.extra.get("bandwidth_missing") else r.bandwidth_bps,
        "average_bandwidth_bps": r.average_bandwidth_bps,
        "width": r.width,
        "height": r.height,
        # As written: the manifest's own string is the least surprising fact to report.
        "codecs": r.codecs,
        # The video part of it: "avc1.64001f" of "mp4a.40.2,avc1.64001f".
        "video_codec": video_codecs(r.codecs) if media == VIDEO else r.codecs,
        "frame_rate": r.frame_rate,
        "id": r.id,
    }


def first_period(m: Manifest) -> Period | None:
    """The Period the ladder facts describe: the first one whose content is in the
    manifest (a remote xlink Period that was not fetched says nothing about the ladder)."""
    local = [p for p in m.periods if p.remote_href is None]
    return (local or m.periods or [None])[0]


def reference_rung(m: Manifest) -> tuple[Representation | None, str | None]:
    """The Representation whose segments ``inspect`` describes, and its media type."""
    p = first_period(m)
    if p is None:
        return None, None
    if m.format == "hls" and m.kind == "media":
        return p.adaptation_sets[0].representations[0], VIDEO
    videos = [r for a in p.of_type(VIDEO) for r in a.representations]
    if videos:
        return min(videos, key=lambda r: r.bandwidth_bps), VIDEO  # min() keeps document order on ties
    audios = [r for a in p.of_type(AUDIO) for r in a.representations]
    if audios:
        return audios[0], AUDIO
    return None, None


def manifest_facts(m: Manifest, now_s: float | None = None) -> dict[str, Any]:
    """One JSON-ready dict; ``now_s`` (epoch seconds) adds the live window when live."""
    p0 = first_period(m)
    videos: list[Representation] = []
    if p0 is not None and not (m.format == "hls" and m.kind == "media"):
        videos = sorted((r for a in p0.of_type(VIDEO) for r in a.representations), key=lambda r: r.bandwidth_bps)
    ref, ref_media = reference_rung(m)
    seg_dur = first_count = None
    if ref is not None and ref.segments is not None:
        seg_dur = ref.segments.nominal_duration_s or ref.segments.max_duration_s
        first_count = ref.segments.count
    out: dict[str, Any] = {
        "format": m.format,
        "kind": m.kind,
        "source": m.source,
        "is_live": m.is_live,
        "periods": len(m.periods) if m.format == "dash" else None,
        "duration_s": m.duration_s,
        "segment_duration_s": seg_dur,
        "first_video_segments": first_count,
        "first_video_segments_media": ref_media if first_count is not None else None,
        "target_duration_s": m.target_duration_s,
        "video": [_rung(r) for r in videos],
        "audio": [],
        "text": [],
        "adaptation_sets": [],
        "iframe_streams": m.iframe_streams,
        "warnings": list(m.warnings),
    }
    if p0 is not None:
        for a in p0.adaptation_sets:
            entry = {"content_type": a.content_type, "id": a.id, "lang": a.lang, "label": a.label,
                     "roles": list(a.roles), "trick_mode": a.trick_mode, "group_id": a.group_id,
                     "representations": len(a.representations),
                     "content_protection": sorted({c.system or c.scheme_id_uri for c in a.content_protection})}
            out["adaptation_sets"].append(entry)
            if a.content_type == AUDIO:
                out["audio"].extend(dict(_rung(r, AUDIO), lang=a.lang) for r in a.representations)
            elif a.content_type == TEXT:
                out["text"].extend({"id": r.id, "lang": a.lang, "roles": list(a.roles), "codecs": r.codecs,
                                    "mime_type": r.mime_type or a.mime_type} for r in a.representations)
    out["periods_detail"] = [
        {"id": p.id, "start_s": p.start_s, "duration_s": p.duration_s,
         "video_rungs": sum(len(a.representations) for a in p.of_type(VIDEO))} for p in m.periods
    ] if m.format == "dash" else []
    out["live"] = _live_facts(m, now_s) if m.is_live else None
    return out


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _live_facts(m: Manifest, now_s: float | None) -> dict[str, Any]:
    live = m.live
    if live is None:
        return {}
    if m.format == "hls":
        return {
            "target_duration_s": live.target_duration_s,
            "media_sequence": live.media_sequence,
            "skipped_segments": live.skipped_segments,
            "window_s": m.extra.get("window_s"),
            "playback_target_s": hls_target_s(m),
            "reload_after_s": (next_refresh_s(m, 0.0) if m.is_live else None),
            "part_target_s": live.part_target_s,
            "parts": len(live.parts),
            "preload_hints": live.preload_hints,
            "rendition_reports": len(live.rendition_reports),
            "can_block_reload": live.can_block_reload,
        }
    out: dict[str, Any] = {
        "availability_start_time": _iso(live.availability_start_s),
        "publish_time": _iso(live.publish_time_s),
        "time_shift_buffer_depth_s": live.time_shift_buffer_depth_s,
        "minimum_update_period_s": live.minimum_update_period_s,
        "suggested_presentation_delay_s": live.suggested_presentation_delay_s,
        "utc_timing": [{"scheme": s, "value": v} for s, v in live.utc_timing],
        "window": None,
    }
    if now_s is not None and live.availability_start_s is not None:
        # The window of the reference rung in the Period that contains now.
        ref, _ = reference_rung(m)
        period = m.periods[0]
        for p in m.periods:
            if live.availability_start_s + p.start_s <= now_s:
                period = p
        rep = ref
        if period is not m.periods[0]:
            cands = [r for a in period.of_type(VIDEO) + period.of_type(AUDIO) for r in a.representations]
            rep = min(cands, key=lambda r: r.bandwidth_bps) if cands else None
        if rep is not None and rep.segments is not None:
            try:
                w = dash_window(m, period, rep, now_s)
            except ManifestError as e:
                out["window"] = {"error": e.problem}
            else:
                out["window"] = {"now": _iso(now_s), "period": period.id, "segments": w.count,
                                 "first_number": w.first_number, "start": _iso(w.start_s), "end": _iso(w.end_s),
                                 "depth_s": w.depth_s, "playback_target": _iso(w.target_s)}
    return out
