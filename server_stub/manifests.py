"""DASH and HLS manifests written from one :class:`CatalogTitle`.

Two layouts, both in DASH and HLS, so players can be tested on the common shapes:

- **segment files** (``manifest.mpd`` with a ``SegmentTemplate``, ``master.m3u8`` ->
  ``{rid}/media.m3u8``): one URL per segment, ``{rid}/{number}.m4s``, numbers from 1,
  init at ``{rid}/init.mp4``. The manifest does not give segment sizes.
- **byte ranges** (``manifest-list.mpd`` with ``SegmentList``/``mediaRange``,
  ``master-br.m3u8`` -> ``{rid}/media-br.m3u8`` with ``EXT-X-BYTERANGE``): each
  rendition is one file, ``{rid}/all.mp4``, and every segment is a range of it, so a
  player knows every segment's exact size before it downloads it.

All URLs are relative to the manifest, so a manifest fetched through a signed edge URL
(``/t/{token}/titles/...``) leads the player to segments under the same prefix.
References: ISO/IEC 23009-1 (DASH MPD, isoff-live profile); RFC 8216 and the HLS
authoring specification (``BANDWIDTH`` is the peak segment bitrate,
``AVERAGE-BANDWIDTH`` the average).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from server_stub.catalog import CatalogTitle, CatalogTrack, LiveState

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
TIMESCALE = 1000


def _iso_duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _ticks(seconds: float) -> int:
    return int(round(seconds * TIMESCALE))


def _adaptation_set(parent: ET.Element, track: CatalogTrack, aid: int) -> ET.Element:
    attrs = {
        "id": str(aid),
        "contentType": track.media,
        "mimeType": f"{track.media}/mp4",
        "segmentAlignment": "true",
        "startWithSAP": "1",
    }
    if track.media == "video":
        ws = [r.width for r in track.renditions if r.width]
        hs = [r.height for r in track.renditions if r.height]
        if ws and hs:
            attrs["maxWidth"], attrs["maxHeight"] = str(max(ws)), str(max(hs))
    return ET.SubElement(parent, "AdaptationSet", attrs)


def _representation(parent: ET.Element, track: CatalogTrack, rung: int) -> ET.Element:
    r = track.renditions[rung]
    attrs = {"id": r.id, "bandwidth": str(r.bitrate_bps), "codecs": r.codecs}
    if r.width and r.height:
        attrs.update(width=str(r.width), height=str(r.height), sar="1:1")
    if r.frame_rate:
        attrs["frameRate"] = f"{r.frame_rate:g}"
    if track.media == "audio":
        attrs["audioSamplingRate"] = "48000"
    return ET.SubElement(parent, "Representation", attrs)


def _timeline(parent: ET.Element, track: CatalogTrack) -> None:
    tl = ET.SubElement(parent, "SegmentTimeline")
    t = 0
    runs: list[list[int]] = []  # [start, duration, repeat]
    for d in track.segment_durations_s:
        dt = _ticks(float(d))
        if runs and runs[-1][1] == dt:
            runs[-1][2] += 1
        else:
            runs.append([t, dt, 0])
        t += dt
    for i, (start, dt, rep) in enumerate(runs):
        attrs = {"d": str(dt)}
        if i == 0:
            attrs["t"] = str(start)
        if rep:
            attrs["r"] = str(rep)
        ET.SubElement(tl, "S", attrs)


def utc_instant(unix_s: float) -> str:
    """xs:dateTime in UTC with microseconds (also what the live time source answers)."""
    return datetime.fromtimestamp(unix_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _mpd_root(title: CatalogTitle, live: LiveState | None = None) -> tuple[ET.Element, ET.Element]:
    attrs = {
        "xmlns": DASH_NS,
        "profiles": "urn:mpeg:dash:profile:isoff-live:2011",
        "type": "static",
        "mediaPresentationDuration": _iso_duration(title.video.duration_s),
        "minBufferTime": "PT2.000S",
    }
    if live is not None and not live.ended:
        # A live event in progress (ISO/IEC 23009-1 5.3.9.5.3): segments exist from
        # availabilityStartTime + their end; no timeShiftBufferDepth, so all of them
        # stay. Once the last segment exists the MPD turns static.
        seg = title.video.constant_duration_s or float(title.video.segment_durations_s[0])
        del attrs["mediaPresentationDuration"]
        attrs.update(
            type="dynamic",
            availabilityStartTime=utc_instant(live.availability_start_unix),
            publishTime=utc_instant(live.now_unix),
            minimumUpdatePeriod=_iso_duration(seg),
            suggestedPresentationDelay=_iso_duration(3 * seg),
        )
    mpd = ET.Element("MPD", attrs)
    period = ET.SubElement(mpd, "Period", {"id": "p0", "start": "PT0S"})
    return mpd, period


def _serialize(mpd: ET.Element) -> str:
    ET.indent(mpd, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"


def dash_mpd(title: CatalogTitle, live: LiveState | None = None) -> str:
    """SegmentTemplate MPD (``$RepresentationID$/$Number$.m4s``, numbers from 1);
    dynamic while a live event runs."""
    mpd, period = _mpd_root(title, live)
    for aid, track in enumerate(title.tracks, start=1):
        aset = _adaptation_set(period, track, aid)
        tmpl = {
            "timescale": str(TIMESCALE),
            "startNumber": "1",
            "initialization": "$RepresentationID$/init.mp4",
            "media": "$RepresentationID$/$Number$.m4s",
        }
        const = track.constant_duration_s
        if const is not None:
            tmpl["duration"] = str(_ticks(const))
            ET.SubElement(aset, "SegmentTemplate", tmpl)
        else:
            _timeline(ET.SubElement(aset, "SegmentTemplate", tmpl), track)
        for rung in range(len(track.renditions)):
            _representation(aset, track, rung)
    if live is not None and not live.ended:
        _utc_timing(mpd)
    return _serialize(mpd)


def _utc_timing(mpd: ET.Element) -> None:
    """Name the event clock as the time source (ISO/IEC 23009-1 5.8.5.7; UTCTiming comes
    after the Periods in the schema). ``/time`` is path-absolute: it resolves to the root
    of whichever edge served the MPD, which answers with the origin's live clock, so a
    player with a wrong clock (or ``--speed k``) still asks for segments that exist."""
    ET.SubElement(mpd, "UTCTiming", {"schemeIdUri": "urn:mpeg:dash:utc:http-iso:2014", "value": "/time"})


def dash_mpd_ranges(title: CatalogTitle) -> str:
    """SegmentList MPD: each rendition one file (``{rid}/all.mp4``), segments as
    ``mediaRange``s, so every segment's size is in the manifest."""
    mpd, period = _mpd_root(title)
    for aid, track in enumerate(title.tracks, start=1):
        aset = _adaptation_set(period, track, aid)
        const = track.constant_duration_s
        for rung, r in enumerate(track.renditions):
            rep = _representation(aset, track, rung)
            ET.SubElement(rep, "BaseURL").text = f"{r.id}/all.mp4"
            attrs = {"timescale": str(TIMESCALE)}
            if const is not None:
                attrs["duration"] = str(_ticks(const))
            sl = ET.SubElement(rep, "SegmentList", attrs)
            ET.SubElement(sl, "Initialization", {"range": f"0-{r.init_size_bytes - 1}"})
            if const is None:
                _timeline(sl, track)
            for k in range(track.n_segments):
                off, n = track.segment_range(rung, k)
                ET.SubElement(sl, "SegmentURL", {"mediaRange": f"{off}-{off + n - 1}"})
    return _serialize(mpd)


# ----------------------------------------------------------------------------- HLS
def _stream_inf(title: CatalogTitle, rung: int, audio_group: str | None) -> str:
    v = title.video
    r = v.renditions[rung]
    peak = v.peak_bitrate_bps(rung)
    avg = r.bitrate_bps
    codecs = [r.codecs]
    if title.audio is not None:
        a = title.audio
        peak += max(a.peak_bitrate_bps(i) for i in range(len(a.renditions)))
        avg += max(x.bitrate_bps for x in a.renditions)
        codecs.append(a.renditions[-1].codecs)
    parts = [f"BANDWIDTH={max(peak, avg)}", f"AVERAGE-BANDWIDTH={avg}", f'CODECS="{",".join(codecs)}"']
    if r.width and r.height:
        parts.append(f"RESOLUTION={r.width}x{r.height}")
    if r.frame_rate:
        parts.append(f"FRAME-RATE={r.frame_rate:.3f}")
    if audio_group:
        parts.append(f'AUDIO="{audio_group}"')
    return "#EXT-X-STREAM-INF:" + ",".join(parts)


def hls_master(title: CatalogTitle, byte_ranges: bool = False) -> str:
    media = "media-br.m3u8" if byte_ranges else "media.m3u8"
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    group = None
    if title.audio is not None:
        group = "aud"
        for i, r in enumerate(title.audio.renditions):
            default = "YES" if i == len(title.audio.renditions) - 1 else "NO"
            lines.append(
                f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{group}",NAME="{r.id}",LANGUAGE="en",'
                f'DEFAULT={default},AUTOSELECT=YES,CHANNELS="2",URI="{r.id}/{media}"'
            )
    for rung, r in enumerate(title.video.renditions):
        lines.append(_stream_inf(title, rung, group))
        lines.append(f"{r.id}/{media}")
    return "\n".join(lines) + "\n"


def hls_media(title: CatalogTitle, track: CatalogTrack, rung: int, byte_ranges: bool = False, live: LiveState | None = None) -> str:
    """A media playlist; while a live event runs, an EVENT playlist of the segments that
    exist so far, without EXT-X-ENDLIST (RFC 8216 4.3.3.5)."""
    r = track.renditions[rung]
    durs = [float(d) for d in track.segment_durations_s]
    ongoing = live is not None and not live.ended
    if ongoing:
        durs = durs[: live.available]  # type: ignore[union-attr]
    # RFC 8216 4.3.3.1: each EXTINF rounded to the nearest integer <= TARGETDURATION.
    all_durs = [float(d) for d in track.segment_durations_s]
    target = max(1, max(int(math.floor(d + 0.5)) for d in all_durs))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:1",
        "#EXT-X-PLAYLIST-TYPE:EVENT" if ongoing else "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    if byte_ranges:
        lines.append(f'#EXT-X-MAP:URI="all.mp4",BYTERANGE="{r.init_size_bytes}@0"')
    else:
        lines.append('#EXT-X-MAP:URI="init.mp4"')
    for k, d in enumerate(durs):
        lines.append(f"#EXTINF:{d:.3f},")
        if byte_ranges:
            off, n = track.segment_range(rung, k)
            lines.append(f"#EXT-X-BYTERANGE:{n}@{off}")
            lines.append("all.mp4")
        else:
            lines.append(f"{k + 1}.m4s")
    if not ongoing:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
