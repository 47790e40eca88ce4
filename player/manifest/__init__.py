"""Real manifests: DASH MPDs and HLS playlists into one presentation model.

::

    from player.manifest import parse_manifest, to_title
    m = parse_manifest(open("stream.mpd", "rb").read(), "stream.mpd")
    m.periods[0].adaptation_sets[0].representations[0].segments.ref(0)   # SegmentRef
    title = to_title(m)          # player.presentation.Title for the session core

Modules: ``errors`` (ManifestError, Limits), ``model`` (the parsed model), ``dash`` and
``hls`` (readers), ``timeline``/``template``/``sidx`` (segment expansion), ``resolve``
(sub-resources through an injected fetcher: sidx ranges, HLS media playlists),
``live`` (live windows and refresh timing from an injected clock), ``to_title``
(presentation model for playback), ``facts`` (the summary ``abrlab inspect`` prints).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from player.manifest.errors import DEFAULT_LIMITS, Limits, ManifestError
from player.manifest.model import Manifest

__all__ = ["ManifestError", "Limits", "Manifest", "parse_manifest", "sniff_format", "to_title"]


def sniff_format(data: bytes | str, source: str) -> str:
    """"dash" or "hls", from the content first and the file extension second."""
    head = data[:2048] if isinstance(data, bytes) else data[:2048].encode("utf-8", "replace")
    head = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
        return "dash"  # UTF-16 XML
    if head.startswith(b"<"):
        return "dash"
    if b"#EXTM3U" in head or b"#EXTINF" in head or b"#EXT-X-" in head:
        return "hls"
    ext = PurePosixPath(urlsplit(source).path).suffix.lower()
    if ext in (".mpd", ".xml"):
        return "dash"
    if ext in (".m3u8", ".m3u"):
        return "hls"
    raise ManifestError("neither a DASH MPD (XML) nor an HLS playlist (#EXTM3U)", source)


def parse_manifest(data: bytes | str, source: str, *, url: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Manifest:
    """Parse a DASH MPD or HLS playlist held in memory (no I/O)."""
    fmt = sniff_format(data, source)
    try:
        if fmt == "dash":
            from player.manifest.dash import parse_mpd

            return parse_mpd(data, source, url=url, limits=limits)
        from player.manifest.hls import parse_m3u8

        return parse_m3u8(data, source, url=url, limits=limits)
    except ManifestError:
        raise
    except RecursionError:
        raise ManifestError("nesting too deep to read", source) from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError, ArithmeticError, LookupError, UnicodeError) as e:
        # Last-resort guard: every input we know of gets a specific error above; anything
        # else must still surface as one clear line, never a traceback.
        raise ManifestError(f"cannot be read ({type(e).__name__}: {e})", source) from None


def to_title(manifest: Manifest, **kwargs):  # type: ignore[no-untyped-def]
    from player.manifest.titles import manifest_to_title

    return manifest_to_title(manifest, **kwargs)
