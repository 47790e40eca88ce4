"""The origin's catalog: titles as the stub encodes and serves them.

A :class:`CatalogTitle` is what an encoding pipeline would leave on the origin: one
video track (and optionally an audio track), each a list of renditions with per-segment
sizes, plus init segment sizes. Everything the origin serves (DASH and HLS manifests,
init and media segments of the exact sizes, single-file byte-range layouts) is derived
from it, so the manifests and the bytes always agree.

Titles come from two places:

- :func:`generate_title`: a ladder chosen for the title's complexity (the per-title
  hull of ``server_stub.ladder``, or the classic fixed ladder for comparison) and VBR
  segment sizes from a capped constant-quality encode: each segment's bits follow its
  scene complexity (an AR(1) log-normal process around the title's complexity), capped
  at ``peak_ratio`` times the rung's average, as HLS authoring guidance bounds peaks
  (Apple HLS Authoring Specification: VOD peak <= 200 % of average).
- :func:`title_from_sabre_movie`: a Sabre movie JSON (e.g. Pensieve's Envivio clip),
  whose sizes are served byte for byte.

The stub never imports ``player``: this is the server's own view of a title.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from server_stub.ladder import (
    COMPLEXITY_PRESETS,
    NETFLIX_FIXED_LADDER,
    LadderError,
    RateQualityModel,
    fixed_ladder,
    per_title_ladder,
)

# Names become URL path components and token fields: letters, digits, _ and - only, so
# a name can never spell a traversal or break a token apart.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
VIDEO_CODECS = "avc1.640028"
AUDIO_CODECS = "mp4a.40.2"
# ftyp + moov of a single-track fragmented MP4: a few hundred bytes to ~1.5 kB in
# practice; the stub makes them this big (plus a little per rendition).
INIT_BASE_BYTES = 720


class CatalogError(ValueError):
    """A title definition or file the origin cannot serve; one line naming the source."""

    def __init__(self, message: str, source: str | None = None):
        self.source = source
        self.problem = message
        super().__init__(f"{source}: {message}" if source else message)


@dataclass(frozen=True)
class Rendition:
    """One encode of a track: a ladder rung."""

    id: str
    bitrate_bps: int
    codecs: str
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    quality: float | None = None  # modelled quality (0-100), when known
    init_size_bytes: int = INIT_BASE_BYTES

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "bitrate_bps": self.bitrate_bps, "codecs": self.codecs}
        if self.width:
            d["width"], d["height"] = self.width, self.height
        if self.frame_rate:
            d["frame_rate"] = self.frame_rate
        if self.quality is not None:
            d["quality"] = round(self.quality, 3)
        d["init_size_bytes"] = self.init_size_bytes
        return d


@dataclass(eq=False)
class CatalogTrack:
    """One switching set: renditions (ascending bitrate) and per-segment sizes."""

    media: str
    renditions: tuple[Rendition, ...]
    segment_durations_s: np.ndarray
    sizes_bytes: np.ndarray  # (segments, renditions)

    def __post_init__(self) -> None:
        self.renditions = tuple(self.renditions)
        d = np.asarray(self.segment_durations_s, dtype=np.float64).reshape(-1)
        s = np.asarray(self.sizes_bytes, dtype=np.int64)
        if not self.renditions:
            raise CatalogError(f"{self.media} track has no renditions")
        if d.size == 0 or np.any(d <= 0) or not np.all(np.isfinite(d)):
            raise CatalogError(f"{self.media} track needs positive segment durations")
        if s.shape != (d.size, len(self.renditions)):
            raise CatalogError(f"{self.media} sizes have shape {s.shape}, expected ({d.size}, {len(self.renditions)})")
        if np.any(s <= 0):
            raise CatalogError(f"{self.media} track has a non-positive segment size")
        ids = [r.id for r in self.renditions]
        if len(set(ids)) != len(ids) or not all(NAME_RE.match(i) for i in ids):
            raise CatalogError(f"{self.media} rendition ids must be unique and URL-safe: {ids}")
        rates = [r.bitrate_bps for r in self.renditions]
        if rates != sorted(rates):
            raise CatalogError(f"{self.media} renditions must be in ascending bitrate order")
        d.setflags(write=False)
        s.setflags(write=False)
        self.segment_durations_s = d
        self.sizes_bytes = s
        self._index = {r.id: i for i, r in enumerate(self.renditions)}
        # Byte offsets of each segment inside the single-file layout (init first).
        inits = np.array([r.init_size_bytes for r in self.renditions], dtype=np.int64)
        starts = np.vstack([np.zeros((1, s.shape[1]), dtype=np.int64), np.cumsum(s, axis=0)]) + inits[None, :]
        self._starts = starts  # (segments + 1, renditions): segment k spans starts[k]..starts[k+1]

    @property
    def n_segments(self) -> int:
        return int(self.segment_durations_s.size)

    @property
    def duration_s(self) -> float:
        return float(np.sum(self.segment_durations_s))

    @property
    def constant_duration_s(self) -> float | None:
        """The segment duration when all but possibly the last segment share it."""
        d = self.segment_durations_s
        head = d[:-1] if d.size > 1 else d
        if np.all(np.abs(head - d[0]) < 1e-9) and d[-1] <= d[0] + 1e-9:
            return float(d[0])
        return None

    def rendition(self, rid: str) -> tuple[int, Rendition] | None:
        i = self._index.get(rid)
        return None if i is None else (i, self.renditions[i])

    def segment_range(self, rung: int, index: int) -> tuple[int, int]:
        """``(offset, length)`` of segment ``index`` inside the rendition's single file."""
        a = int(self._starts[index, rung])
        return a, int(self._starts[index + 1, rung]) - a

    def file_size(self, rung: int) -> int:
        return int(self._starts[-1, rung])

    def peak_bitrate_bps(self, rung: int) -> int:
        return int(math.ceil(float(np.max(self.sizes_bytes[:, rung] * 8.0 / self.segment_durations_s))))

    def average_bitrate_bps(self, rung: int) -> int:
        return int(round(float(np.sum(self.sizes_bytes[:, rung]) * 8.0 / self.duration_s)))


@dataclass(eq=False)
class CatalogTitle:
    name: str
    video: CatalogTrack
    audio: CatalogTrack | None = None
    complexity: float | None = None
    ladder: str = "source"  # "per-title", "fixed" or "source" (served as loaded)
    source: str = "generated"
    meta: dict[str, Any] = field(default_factory=dict)
    # A live event: segments become available as the event's clock passes their end
    # (see LiveClock); the manifests say dynamic / EVENT until the last one exists.
    live: bool = False

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name):
            raise CatalogError(f"title name {self.name!r} must match {NAME_RE.pattern}")

    @property
    def tracks(self) -> list[CatalogTrack]:
        return [self.video] + ([self.audio] if self.audio is not None else [])

    def find(self, rid: str) -> tuple[CatalogTrack, int, Rendition] | None:
        for t in self.tracks:
            hit = t.rendition(rid)
            if hit is not None:
                return t, hit[0], hit[1]
        return None

    def describe(self, sizes: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "duration_s": self.video.duration_s,
            "segments": self.video.n_segments,
            "ladder": self.ladder,
            "complexity": self.complexity,
            "source": self.source,
            "live": self.live,
            "video": [r.to_dict() for r in self.video.renditions],
        }
        if self.audio is not None:
            d["audio"] = [r.to_dict() for r in self.audio.renditions]
        if sizes:
            d["segment_durations_s"] = self.video.segment_durations_s.tolist()
            d["video_sizes_bytes"] = self.video.sizes_bytes.tolist()
            if self.audio is not None:
                d["audio_sizes_bytes"] = self.audio.sizes_bytes.tolist()
        return d


@dataclass(frozen=True)
class LiveState:
    """Where a live event stands: its availability start (Unix seconds), the event's
    clock now, how many segments exist, and whether it is over."""

    availability_start_unix: float
    now_unix: float
    available: int
    ended: bool


class LiveClock:
    """The clock of live events: it starts at ``start_unix`` and runs ``speed`` times
    faster than the wall clock, so ``--speed k`` plays a live event k times faster too.
    Manifests carry the real ``availabilityStartTime``; players compute availability
    with the same scaled clock (``now = start + (wall - start) * speed``)."""

    def __init__(self, start_unix: float, speed: float = 1.0, wall: Any = None) -> None:
        import time

        self.start_unix = start_unix
        self.speed = speed
        self._wall = wall or time.time

    def now_unix(self) -> float:
        """The event clock now: what ``/time`` answers and availability follows."""
        return self.start_unix + (self._wall() - self.start_unix) * self.speed

    def state(self, track: "CatalogTrack") -> LiveState:
        now = self.now_unix()
        ends = np.cumsum(track.segment_durations_s)
        n = int(np.searchsorted(ends, now - self.start_unix + 1e-9, side="right"))
        return LiveState(self.start_unix, now, n, n >= track.n_segments)


class Catalog:
    """The titles an origin serves, by name."""

    def __init__(self, titles: Sequence[CatalogTitle] = ()) -> None:
        self._titles: dict[str, CatalogTitle] = {}
        for t in titles:
            self.add(t)

    def add(self, title: CatalogTitle) -> None:
        if title.name in self._titles:
            raise CatalogError(f"duplicate title name {title.name!r}")
        self._titles[title.name] = title

    def get(self, name: str) -> CatalogTitle | None:
        return self._titles.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._titles

    def __iter__(self) -> Iterator[CatalogTitle]:
        return iter(self._titles.values())

    def __len__(self) -> int:
        return len(self._titles)

    def names(self) -> list[str]:
        return list(self._titles)


# ----------------------------------------------------------------------------- generation
def scene_factors(n: int, sigma: float, rho: float, rng: np.random.Generator) -> np.ndarray:
    """Per-segment scene complexity relative to the title's: log-normal AR(1), mean 1."""
    z = np.empty(n)
    z[0] = rng.standard_normal()
    innov = math.sqrt(max(0.0, 1.0 - rho * rho))
    for i in range(1, n):
        z[i] = rho * z[i - 1] + innov * rng.standard_normal()
    return np.exp(sigma * z - sigma * sigma / 2.0)


def capped_vbr(factors: np.ndarray, peak_ratio: float) -> np.ndarray:
    """Capped constant-quality bit allocation with mean 1: segments take bits in
    proportion to their complexity, none more than ``peak_ratio`` x the average."""
    f = np.asarray(factors, dtype=np.float64)
    for _ in range(50):
        f = f / f.mean()
        if f.max() <= peak_ratio + 1e-9:
            break
        f = np.minimum(f, peak_ratio)
    return f / f.mean()


def generate_title(
    name: str,
    complexity: float | str = 1.0,
    *,
    ladder: str = "per-title",
    n_segments: int = 60,
    segment_duration_s: float = 4.0,
    variability: float = 0.25,
    rho: float = 0.6,
    peak_ratio: float = 2.0,
    frame_rate: float = 30.0,
    audio_kbps: Sequence[int] = (),
    seed: int = 0,
    ladder_options: dict[str, Any] | None = None,
) -> CatalogTitle:
    """A title whose ladder and segment sizes follow its coding complexity.

    ``complexity`` is a number (1 = reference) or ``low``/``medium``/``high``;
    ``ladder`` is ``per-title`` (from the rate–quality hull) or ``fixed`` (Netflix's
    one-size-fits-all ladder). ``variability`` is the spread of scene complexity in
    log-size (Big Buck Bunny's Sabre ladder is ~0.2).
    """
    if isinstance(complexity, str):
        if complexity not in COMPLEXITY_PRESETS:
            raise CatalogError(f"complexity {complexity!r}: give a number or one of {', '.join(COMPLEXITY_PRESETS)}", name)
        complexity = COMPLEXITY_PRESETS[complexity]
    if n_segments < 1:
        raise CatalogError("n_segments must be >= 1", name)
    if not segment_duration_s > 0:
        raise CatalogError("segment_duration_s must be positive", name)
    if not peak_ratio >= 1:
        raise CatalogError("peak_ratio must be >= 1", name)
    try:
        model = RateQualityModel(float(complexity))
        if ladder == "per-title":
            rungs = per_title_ladder(model, **(ladder_options or {}))
        elif ladder == "fixed":
            rungs = fixed_ladder(model, NETFLIX_FIXED_LADDER)
        else:
            raise CatalogError(f"ladder must be 'per-title' or 'fixed', not {ladder!r}", name)
    except (LadderError, TypeError) as e:
        raise CatalogError(str(e), name) from None
    rng = np.random.default_rng(seed)
    factors = capped_vbr(scene_factors(n_segments, variability, rho, rng), peak_ratio)
    durations = np.full(n_segments, float(segment_duration_s))
    video = CatalogTrack(
        "video",
        tuple(
            Rendition(
                id=f"v{i}", bitrate_bps=r.bitrate_bps, codecs=VIDEO_CODECS, width=r.width,
                height=r.height, frame_rate=frame_rate, quality=r.quality,
                init_size_bytes=INIT_BASE_BYTES + 16 * i,
            )
            for i, r in enumerate(rungs)
        ),
        durations,
        _sizes(factors, durations, [r.bitrate_bps for r in rungs]),
    )
    audio = None
    if audio_kbps:
        rates = sorted(int(k) * 1000 for k in audio_kbps)
        # AAC is close to CBR: sizes vary by a fraction of a percent.
        afac = capped_vbr(np.exp(0.01 * rng.standard_normal(n_segments)), peak_ratio)
        audio = CatalogTrack(
            "audio",
            tuple(Rendition(id=f"a{i}", bitrate_bps=b, codecs=AUDIO_CODECS, init_size_bytes=INIT_BASE_BYTES // 2 + 8 * i) for i, b in enumerate(rates)),
            durations,
            _sizes(afac, durations, rates),
        )
    meta = {
        "generator": "server_stub.catalog.generate_title",
        "params": {
            "complexity": complexity, "ladder": ladder, "n_segments": n_segments,
            "segment_duration_s": segment_duration_s, "variability": variability, "rho": rho,
            "peak_ratio": peak_ratio, "audio_kbps": list(audio_kbps), "seed": seed,
        },
    }
    return CatalogTitle(name, video, audio, complexity=float(complexity), ladder=ladder, source="generated", meta=meta)


def _sizes(factors: np.ndarray, durations: np.ndarray, rates_bps: Sequence[int]) -> np.ndarray:
    nominal = np.asarray(rates_bps, dtype=np.float64)[None, :] * durations[:, None] / 8.0
    return np.maximum(1, np.rint(nominal * factors[:, None])).astype(np.int64)


# ----------------------------------------------------------------------------- Sabre movies
def title_from_sabre_movie(path: str | os.PathLike[str], name: str | None = None) -> CatalogTitle:
    """Serve a Sabre movie JSON (``segment_duration_ms``, ``bitrates_kbps``,
    ``segment_sizes_bits``) as it is: its sizes, in bytes (bits / 8, rounded)."""
    p = Path(path)
    src = str(p)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise CatalogError("no such file", src) from None
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogError(f"cannot read ({e})", src) from None
    except json.JSONDecodeError as e:
        raise CatalogError(f"not valid JSON (line {e.lineno}: {e.msg})", src) from None
    if not isinstance(data, dict):
        raise CatalogError("a Sabre movie JSON must be an object", src)
    for key in ("segment_duration_ms", "bitrates_kbps", "segment_sizes_bits"):
        if key not in data:
            raise CatalogError(f"missing key {key!r}", src)
    try:
        seg_s = float(data["segment_duration_ms"]) / 1000.0
        rates = [int(round(float(b) * 1000)) for b in data["bitrates_kbps"]]
        bits = np.asarray(data["segment_sizes_bits"], dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise CatalogError(f"malformed movie ({e})", src) from None
    if not (math.isfinite(seg_s) and seg_s > 0):
        raise CatalogError("segment_duration_ms must be a positive number", src)
    if bits.ndim != 2 or bits.shape[1] != len(rates) or bits.shape[0] == 0:
        raise CatalogError(f"segment_sizes_bits must be one list of {len(rates)} sizes per segment", src)
    if not np.all(np.isfinite(bits)) or np.any(bits <= 0):
        raise CatalogError("segment sizes must be positive numbers", src)
    title_name = name or re.sub(r"[^A-Za-z0-9_-]", "-", p.stem).lstrip("-") or "movie"
    try:
        video = CatalogTrack(
            "video",
            tuple(Rendition(id=f"v{i}", bitrate_bps=b, codecs=VIDEO_CODECS, init_size_bytes=INIT_BASE_BYTES + 16 * i) for i, b in enumerate(rates)),
            np.full(bits.shape[0], seg_s),
            np.rint(bits / 8.0).astype(np.int64),
        )
        return CatalogTitle(title_name, video, ladder="source", source=src, meta={"format": "sabre-movie"})
    except CatalogError as e:
        raise CatalogError(e.problem, src) from None
