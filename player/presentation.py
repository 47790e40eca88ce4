"""The presentation model: what the session core plays.

A :class:`Title` has tracks (video, optionally audio and text); a :class:`Track` has a
ladder of :class:`Rung` (ascending bitrate) and, per segment, a duration and one size
per rung. Sizes are exact when known in advance (a Sabre movie JSON, our generator, a
manifest with byte ranges) or estimated from the rung bitrate (``sizes_known=False``),
in which case a driver replaces them by the real size once a segment is downloaded.

The core never sees where a title came from (DASH, HLS, Sabre JSON, generator).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np


class ContentError(ValueError):
    """A title file that cannot be read; ``str(err)`` names the file and the problem."""

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        self.problem = message
        super().__init__(f"{path}: {message}" if path else message)


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """Where one segment (or init segment) lives: a URL and an optional byte range.

    ``byte_range`` is ``(first, last)``, inclusive, exactly as in an HTTP ``Range:
    bytes=first-last`` header. The session core never sees these; drivers that fetch
    over HTTP ask the title's tracks for them (:meth:`Track.segment_ref`).
    """

    url: str
    byte_range: tuple[int, int] | None = None

    @property
    def size_bytes(self) -> int | None:
        return None if self.byte_range is None else self.byte_range[1] - self.byte_range[0] + 1

    def range_header(self) -> str | None:
        return None if self.byte_range is None else f"bytes={self.byte_range[0]}-{self.byte_range[1]}"


@dataclass(frozen=True, slots=True)
class Rung:
    """One encoding of a track: its advertised bitrate and, for video, resolution."""

    bitrate_bps: int
    width: int | None = None
    height: int | None = None
    codecs: str | None = None
    id: str | None = None
    frame_rate: float | None = None

    @property
    def bitrate_kbps(self) -> float:
        return self.bitrate_bps / 1000.0

    def label(self) -> str:
        res = f" {self.width}x{self.height}" if self.width and self.height else ""
        return f"{self.bitrate_bps / 1000:g} kbps{res}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "bitrate_bps": self.bitrate_bps,
            "width": self.width,
            "height": self.height,
            "codecs": self.codecs,
            "id": self.id,
            "frame_rate": self.frame_rate,
        }


@dataclass(eq=False)
class Track:
    """One switching set: rungs plus per-segment durations and per-rung sizes."""

    media: str
    rungs: tuple[Rung, ...]
    segment_durations_s: np.ndarray
    sizes_bytes: np.ndarray
    sizes_known: bool = True
    language: str | None = None
    roles: tuple[str, ...] = ()
    # Where segments live, for HTTP drivers (None for titles with no source URLs, such as
    # Sabre movies or generated titles). Any object with ``media(index, rung) ->
    # SegmentRef`` and ``init(index, rung) -> SegmentRef | None``; manifests fill it
    # (player.manifest.titles). The session core never reads it.
    refs: Any = None

    def __post_init__(self) -> None:
        self.rungs = tuple(self.rungs)
        if not self.rungs:
            raise ContentError(f"{self.media} track has no rungs")
        rates = [r.bitrate_bps for r in self.rungs]
        if not all(_positive_number(b) for b in rates):
            # NaN compares false both ways, so ``b <= 0`` alone lets it through.
            raise ContentError(f"{self.media} track has a rung with a non-positive bitrate")
        if rates != sorted(rates):
            raise ContentError(f"{self.media} track rungs must be in ascending bitrate order")
        d = np.asarray(self.segment_durations_s, dtype=np.float64).reshape(-1)
        s = np.asarray(self.sizes_bytes, dtype=np.int64)
        if d.size == 0:
            raise ContentError(f"{self.media} track has no segments")
        if s.shape != (d.size, len(self.rungs)):
            raise ContentError(
                f"{self.media} track sizes have shape {s.shape}, expected ({d.size}, {len(self.rungs)})"
            )
        if not np.all(np.isfinite(d)) or np.any(d <= 0):
            raise ContentError(f"{self.media} track has a non-positive segment duration")
        if np.any(s <= 0):
            raise ContentError(f"{self.media} track has a non-positive segment size")
        d.setflags(write=False)
        s.setflags(write=False)
        self.segment_durations_s = d
        self.sizes_bytes = s
        # Plain-Python views for the session core's hot path (indexing numpy scalars is
        # several times slower than indexing tuples of ints).
        self.size_rows: list[tuple[int, ...]] = [tuple(int(x) for x in row) for row in s]
        self.durations: list[float] = [float(x) for x in d]
        self.bitrates_bps: tuple[int, ...] = tuple(rates)

    @property
    def n_segments(self) -> int:
        return len(self.durations)

    def extend(self, durations_s: Sequence[float], sizes_bytes: Any) -> None:
        """Append segments (a live presentation grew). The lists the session core reads
        (``size_rows``, ``durations``) grow in place, so a session playing this track
        sees the new segments once told (``Session.live_grew``)."""
        d = np.asarray(durations_s, dtype=np.float64).reshape(-1)
        if d.size == 0:
            return
        s = np.asarray(sizes_bytes, dtype=np.int64).reshape(d.size, len(self.rungs))
        if not np.all(np.isfinite(d)) or np.any(d <= 0) or np.any(s <= 0):
            raise ContentError(f"{self.media} track: appended segments need positive durations and sizes")
        nd = np.concatenate([self.segment_durations_s, d])
        ns = np.vstack([self.sizes_bytes, s])
        nd.setflags(write=False)
        ns.setflags(write=False)
        self.segment_durations_s = nd
        self.sizes_bytes = ns
        self.size_rows.extend(tuple(int(x) for x in row) for row in s)
        self.durations.extend(float(x) for x in d)

    @property
    def n_rungs(self) -> int:
        return len(self.rungs)

    @property
    def duration_s(self) -> float:
        return float(np.sum(self.segment_durations_s))

    def segment_ref(self, index: int, rung: int) -> SegmentRef:
        """URL and byte range of segment ``index`` at ``rung``."""
        if self.refs is None:
            raise ContentError(f"{self.media} track has no segment locations (not from a manifest)")
        return self.refs.media(index, rung)

    def init_ref(self, index: int, rung: int) -> SegmentRef | None:
        """The initialization segment to load before segment ``index`` at ``rung`` (None if none)."""
        if self.refs is None:
            return None
        return self.refs.init(index, rung)

    def rung_index(self, bitrate_bps: float) -> int:
        """Index of the rung whose bitrate is nearest ``bitrate_bps``."""
        return int(np.argmin([abs(b - bitrate_bps) for b in self.bitrates_bps]))


def _positive_number(x: Any) -> bool:
    try:
        return bool(math.isfinite(x) and x > 0)
    except TypeError:
        return False


def estimated_sizes(bitrates_bps: Sequence[int], durations_s: Sequence[float]) -> np.ndarray:
    """Sizes a player assumes before download: bitrate x duration / 8, per segment and rung."""
    d = np.asarray(durations_s, dtype=np.float64)[:, None]
    b = np.asarray(bitrates_bps, dtype=np.float64)[None, :]
    return np.maximum(1, np.rint(d * b / 8.0)).astype(np.int64)


@dataclass(eq=False)
class Title:
    """A title: its tracks (video first) and where it came from."""

    name: str
    video: Track
    audio: Track | None = None
    text: tuple[Track, ...] = ()
    source: str = "memory"
    source_format: str = "memory"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def tracks(self) -> list[Track]:
        out = [self.video]
        if self.audio is not None:
            out.append(self.audio)
        return out + list(self.text)

    @property
    def sha256(self) -> str:
        cached = self.__dict__.get("_sha256")
        if cached is None:
            h = hashlib.sha256(b"abrlab-title-v1")
            for t in self.tracks:
                h.update(t.media.encode())
                h.update(json.dumps([r.to_dict() for r in t.rungs], sort_keys=True).encode())
                h.update(np.ascontiguousarray(t.segment_durations_s, dtype="<f8").tobytes())
                h.update(np.ascontiguousarray(t.sizes_bytes, dtype="<i8").tobytes())
            cached = h.hexdigest()
            self.__dict__["_sha256"] = cached
        return cached

    def describe(self) -> dict[str, Any]:
        v = self.video
        return {
            "name": self.name,
            "source": self.source,
            "format": self.source_format,
            "sha256": self.sha256,
            "segments": v.n_segments,
            "duration_s": v.duration_s,
            "rungs_kbps": [b / 1000 for b in v.bitrates_bps],
        }

    def __repr__(self) -> str:
        v = self.video
        ladder = "/".join(f"{b / 1000:g}" for b in v.bitrates_bps)
        return f"Title({self.name!r}, {v.n_segments} segments, ladder {ladder} kbps)"


# ----------------------------------------------------------------------------- loaders
def title_from_sabre_movie(data: Any, path: str = "<string>", name: str | None = None) -> Title:
    """A title from Sabre's movie JSON: ``{segment_duration_ms, bitrates_kbps, segment_sizes_bits}``."""
    if not isinstance(data, dict):
        raise ContentError("Sabre movie JSON must be an object", path)
    for key in ("segment_duration_ms", "bitrates_kbps", "segment_sizes_bits"):
        if key not in data:
            raise ContentError(f"missing key {key!r}", path)
    try:
        seg_ms = float(data["segment_duration_ms"])
        rates = [float(b) for b in data["bitrates_kbps"]]
    except (TypeError, ValueError) as e:
        raise ContentError(f"malformed movie ({e})", path) from None
    if not math.isfinite(seg_ms) or seg_ms <= 0:
        raise ContentError("segment_duration_ms must be a positive number", path)
    if not rates:
        raise ContentError("bitrates_kbps is empty", path)
    for i, b in enumerate(rates):
        if not math.isfinite(b) or b <= 0:
            raise ContentError(f"bitrates_kbps[{i}] must be a positive number, got {b:g}", path)
    rows = _size_rows(data["segment_sizes_bits"], len(rates), "segment_sizes_bits", path)
    try:
        sizes_bits = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ContentError(f"malformed movie ({e})", path) from None
    if sizes_bits.ndim != 2 or sizes_bits.shape[1] != len(rates):
        raise ContentError(
            f"segment_sizes_bits must be one list of {len(rates)} sizes per segment", path
        )
    if not np.all(np.isfinite(sizes_bits)) or np.any(sizes_bits <= 0):
        raise ContentError("segment sizes must be positive numbers", path)
    try:
        track = Track(
            media="video",
            rungs=tuple(Rung(bitrate_bps=int(round(b * 1000)), id=str(i)) for i, b in enumerate(rates)),
            segment_durations_s=np.full(sizes_bits.shape[0], seg_ms / 1000.0),
            # Sabre stores bits; Envivio's are the byte sizes of the real files times 8.
            sizes_bytes=np.rint(sizes_bits / 8.0).astype(np.int64),
        )
    except ContentError as e:
        raise ContentError(e.problem, path) from None
    stem = name or Path(path).stem
    return Title(name=stem, video=track, source=str(path), source_format="sabre-movie")


def _size_rows(rows: Any, n_rungs: int, key: str, path: str) -> list[Any]:
    """``rows`` checked to be a non-empty list of one list of ``n_rungs`` sizes per
    segment, so a ragged file is named by segment rather than by numpy's shape error."""
    if not isinstance(rows, list):
        raise ContentError(f"{key} must be a list of segments", path)
    if not rows:
        raise ContentError(f"{key} is empty", path)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n_rungs:
            got = f"{len(row)} sizes" if isinstance(row, list) else type(row).__name__
            raise ContentError(f"{key}[{i}]: expected {n_rungs} sizes (one per rung), got {got}", path)
    return rows


def load_title(path: str | os.PathLike[str]) -> Title:
    """Load a title file: a Sabre movie JSON or an abrlab title JSON (see :func:`title_to_json`)."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        raise ContentError("no such file", str(p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ContentError(f"cannot read ({e})", str(p)) from None
    if not text.strip():
        raise ContentError("file is empty", str(p))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ContentError(f"not valid JSON (line {e.lineno}: {e.msg})", str(p)) from None
    if isinstance(data, dict) and data.get("format") == "abrlab-title":
        return title_from_json(data, str(p))
    return title_from_sabre_movie(data, str(p))


def title_to_json(title: Title) -> dict[str, Any]:
    """Our own title file: the ladder with resolutions/codecs plus sizes, and the generator's record."""
    v = title.video
    return {
        "format": "abrlab-title",
        "version": 1,
        "name": title.name,
        "meta": title.meta,
        "rungs": [r.to_dict() for r in v.rungs],
        "segment_durations_s": [float(x) for x in v.segment_durations_s],
        "segment_sizes_bytes": v.sizes_bytes.tolist(),
    }


def title_from_json(data: dict[str, Any], path: str = "<string>") -> Title:
    try:
        rungs = tuple(Rung(**r) for r in data["rungs"])
        if not rungs:
            raise ContentError("rungs is empty", path)
        sizes = _size_rows(data["segment_sizes_bytes"], len(rungs), "segment_sizes_bytes", path)
        track = Track(
            media="video",
            rungs=rungs,
            segment_durations_s=np.asarray(data["segment_durations_s"], dtype=np.float64),
            sizes_bytes=np.asarray(sizes, dtype=np.int64),
        )
    except ContentError as e:
        raise ContentError(e.problem, path) from None
    except (KeyError, TypeError, ValueError) as e:
        raise ContentError(f"malformed abrlab title ({e})", path) from None
    return Title(
        name=str(data.get("name", Path(path).stem)),
        video=track,
        source=str(path),
        source_format="abrlab-title",
        meta=dict(data.get("meta", {})),
    )
