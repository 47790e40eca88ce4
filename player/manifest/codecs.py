"""RFC 6381 codec strings: which entries of a ``codecs``/``CODECS`` list are video, audio, text.

A DASH ``@codecs`` of a muxed Representation and an HLS ``CODECS`` attribute list every
codec in the stream, video and audio alike, in no fixed order (``"mp4a.40.2,avc1.42C01E"``
is as common as the reverse). What a ladder rung's codec *is* is its video codec; hls.js
(``level.videoCodec``), Shaka and ExoPlayer (``Util.getCodecsOfType``) all pick it out by
the sample-entry four-character code before the first dot, and so do we.
"""

from __future__ import annotations

# ISO/IEC 14496-15 (AVC and its SVC/MVC extensions, HEVC and L-HEVC, VVC, EVC), Dolby
# Vision, VP8/VP9 (WebM and ISO-BMFF), AV1, MPEG-4 Part 2, H.263, Theora, Motion JPEG.
VIDEO_FOURCCS = frozenset({
    "avc1", "avc2", "avc3", "avc4", "svc1", "svc2", "mvc1", "mvc2", "mvc3", "mvc4",
    "hvc1", "hev1", "hvc2", "hev2", "lhv1", "lhe1", "vvc1", "vvi1", "evc1",
    "dvh1", "dvhe", "dva1", "dvav", "dav1", "vp8", "vp08", "vp9", "vp09", "av01", "av1",
    "mp4v", "s263", "h263", "theora", "mjpg",
})
AUDIO_FOURCCS = frozenset({
    "mp4a", "ac-3", "ec-3", "ac-4", "opus", "vorbis", "flac", "alac", "dtsc", "dtse", "dtsh",
    "dtsl", "dtsx", "mha1", "mha2", "mhm1", "mhm2", "mp3", ".mp3", "ipcm", "fpcm", "samr",
})
TEXT_FOURCCS = frozenset({"wvtt", "stpp", "tx3g", "c608", "cea608", "cea708", "ttml", "vtt"})


def split_codecs(codecs: str | None) -> list[str]:
    """The entries of a codec list, stripped (``"a, b"`` and ``"a,b"`` alike)."""
    if not codecs:
        return []
    return [c.strip() for c in codecs.split(",") if c.strip()]


def fourcc(codec: str) -> str:
    """The sample-entry code a codec string starts with, lower-cased (``avc1.64001F`` -> ``avc1``)."""
    return codec.strip().split(".", 1)[0].lower()


def video_codecs(codecs: str | None) -> str | None:
    """The video entries of a codec list, joined and spelled as given; the whole list
    when none is video (an audio-only HLS variant, or codecs we do not know)."""
    entries = split_codecs(codecs)
    video = [c for c in entries if fourcc(c) in VIDEO_FOURCCS]
    if video and len(video) < len(entries):
        return ",".join(video)
    return codecs.strip() if codecs and codecs.strip() else None  # all video, or none: as given


def media_of(codecs: str | None) -> str | None:
    """"video", "audio" or "text" for a codec list: video if any entry is video."""
    kinds = {fourcc(c) for c in split_codecs(codecs)}
    if kinds & VIDEO_FOURCCS:
        return "video"
    if kinds & AUDIO_FOURCCS:
        return "audio"
    if kinds & TEXT_FOURCCS:
        return "text"
    return None
