"""Per-title encoding: a rate–quality model, its convex hull, and ladders chosen from it.

Why: a fixed ("one size fits all") ladder spends the same bits on a cartoon as on a
grainy action film. Netflix's per-title encoding (A. Aaron, Z. Li, M. Manohara,
J. De Cock, D. Ronca, "Per-Title Encode Optimization", Netflix Technology Blog,
14 Dec 2015) encodes each title at many resolution/bitrate points, keeps the upper
convex hull of the (bitrate, quality) points, and picks the ladder's rungs on that
hull: each rung is the resolution that gives the best quality at that bitrate. The
blog reports ~20 % less bandwidth at the same quality on average, far more on simple
content. We cannot run encoders here, so the (bitrate, quality) points come from a
published parametric model instead of from measurements.

The model (functional form after Q-STAR: Y.-F. Ou, Y. Xue, Y. Wang, "Q-STAR: A
Perceptual Video Quality Model Considering Impact of Spatial, Temporal, and Amplitude
Resolutions", IEEE Trans. Image Processing 23(6), 2014; the power-law rate model after
Z. Ma, M. Xu, Y.-F. Ou, Y. Wang, IEEE Trans. CSVT 22(5), 2012): quality is the product
of inverse-exponential factors of spatial resolution and of quantisation,

    Q(R, s) = Q_MAX * NQS(s) * NQQ(x),   x = q_min / q = min(1, R / R_s) ** (1 / a)
    NQS(s)  = (1 - exp(-alpha_s * s ** beta_s)) / (1 - exp(-alpha_s))
    NQQ(x)  = (1 - exp(-alpha_q * x)) / (1 - exp(-alpha_q))
    R_s     = complexity * R_REF * s ** b        (rate reaching the finest quantiser)

with ``s`` the frame's pixel count relative to 1920x1080 (displayed upscaled to the
full screen, as in Q-STAR's tests), ``x`` the normalised inverse quantiser step and
``complexity`` the title's coding difficulty (1 = the reference title; a cartoon is
~0.4, a grainy action film ~2). Q is on a 0-100 scale (read it like VMAF).

The constants are ours, not fitted values from the paper (its parameters are fitted per
source clip): they are chosen so that a complexity-1 title at 1920x1080 and 5.8 Mbps
(the top rung of Netflix's fixed ladder, said to be good for "most content") scores
~97, and 720p overtakes 1080p near 3.3 Mbps. What the model guarantees, and the tests
check, is structure: quality rises with bitrate and saturates at a ceiling that rises
with resolution; higher resolutions need more bits, so resolution curves cross; higher
complexity costs bits. Savings quoted from it are modelled savings, not measurements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

Q_MAX = 100.0
R_REF_BPS = 8_000_000.0  # complexity-1 title at 1080p reaches q_min here
RATE_EXP_B = 0.75  # R_s ~ pixels ** b: more pixels cost less than proportionally more bits
RATE_EXP_A = 1.2  # R ~ q ** -a (Ma et al.'s power law between rate and quantiser step)
ALPHA_Q = 4.0
ALPHA_S = 3.0
BETA_S = 0.6
REF_PIXELS = 1920 * 1080

# Netflix's fixed ladder, as published in the per-title blog post (Table 1):
# (bitrate kbps, width, height).
NETFLIX_FIXED_LADDER: tuple[tuple[int, int, int], ...] = (
    (235, 320, 240),
    (375, 384, 288),
    (560, 512, 384),
    (750, 512, 384),
    (1050, 640, 480),
    (1750, 720, 480),
    (2350, 1280, 720),
    (3000, 1280, 720),
    (4300, 1920, 1080),
    (5800, 1920, 1080),
)

# Resolutions an encoder may choose from: the fixed ladder's, plus the 16:9 sizes of
# common ladders (Apple's HLS authoring spec), so the hull can only do better.
CANDIDATE_RESOLUTIONS: tuple[tuple[int, int], ...] = (
    (320, 240), (384, 288), (416, 234), (512, 384), (640, 360), (640, 480),
    (720, 480), (768, 432), (960, 540), (1280, 720), (1600, 900), (1920, 1080),
)

COMPLEXITY_PRESETS = {"low": 0.4, "medium": 1.0, "high": 2.0}


class LadderError(ValueError):
    pass


@dataclass(frozen=True)
class RateQualityModel:
    """Q(R, resolution) for one title; ``complexity`` scales the rates (see module doc)."""

    complexity: float = 1.0

    def __post_init__(self) -> None:
        if not (self.complexity > 0 and math.isfinite(self.complexity)):
            raise LadderError(f"complexity must be a positive number, not {self.complexity!r}")

    @staticmethod
    def pixel_fraction(width: int, height: int) -> float:
        return (width * height) / REF_PIXELS

    def ceiling(self, width: int, height: int) -> float:
        """Best quality this resolution can reach at any bitrate (the NQS factor)."""
        s = self.pixel_fraction(width, height)
        return Q_MAX * (1.0 - math.exp(-ALPHA_S * s**BETA_S)) / (1.0 - math.exp(-ALPHA_S))

    def saturation_rate_bps(self, width: int, height: int) -> float:
        """R_s: the bitrate at which this resolution reaches its ceiling."""
        return self.complexity * R_REF_BPS * self.pixel_fraction(width, height) ** RATE_EXP_B

    def quality(self, rate_bps: float, width: int, height: int) -> float:
        if rate_bps <= 0:
            return 0.0
        x = min(1.0, rate_bps / self.saturation_rate_bps(width, height)) ** (1.0 / RATE_EXP_A)
        nqq = (1.0 - math.exp(-ALPHA_Q * x)) / (1.0 - math.exp(-ALPHA_Q))
        return self.ceiling(width, height) * nqq

    def rate_for(self, quality: float, width: int, height: int) -> float:
        """Lowest bitrate at which this resolution reaches ``quality`` (inf if never)."""
        ceil = self.ceiling(width, height)
        if quality <= 0:
            return 0.0
        if quality > ceil * (1 + 1e-12):
            return math.inf
        nqq = min(1.0, quality / ceil)
        x = -math.log(1.0 - nqq * (1.0 - math.exp(-ALPHA_Q))) / ALPHA_Q
        return self.saturation_rate_bps(width, height) * min(1.0, x) ** RATE_EXP_A


@dataclass(frozen=True)
class EncodePoint:
    """One (resolution, bitrate) encode and its modelled quality."""

    rate_bps: float
    width: int
    height: int
    quality: float


def candidate_points(
    model: RateQualityModel,
    resolutions: Sequence[tuple[int, int]] = CANDIDATE_RESOLUTIONS,
    min_rate_bps: float = 100_000.0,
    max_rate_bps: float = 16_000_000.0,
    steps: int = 64,
) -> list[EncodePoint]:
    """The trial encodes: every resolution at ``steps`` log-spaced bitrates."""
    rates = np.geomspace(min_rate_bps, max_rate_bps, steps)
    return [
        EncodePoint(float(r), w, h, model.quality(float(r), w, h))
        for (w, h) in resolutions
        for r in rates
    ]


def convex_hull(points: Iterable[EncodePoint]) -> list[EncodePoint]:
    """The upper convex hull of (bitrate, quality), left to right, rising part only.

    Andrew's monotone chain over points sorted by bitrate: a point is dropped when it
    lies on or under the chord of its neighbours. In rate–distortion terms every point
    under the hull is beaten by time-sharing the two hull encodes around it.
    """
    pts = sorted(points, key=lambda p: (p.rate_bps, -p.quality))
    hull: list[EncodePoint] = []
    for p in pts:
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (b.rate_bps - a.rate_bps) * (p.quality - a.quality) - (b.quality - a.quality) * (p.rate_bps - a.rate_bps)
            if cross >= 0:  # b is on or below the chord a-p
                hull.pop()
            else:
                break
        hull.append(p)
    # Keep the part where quality still rises with bitrate.
    top = max(range(len(hull)), key=lambda i: (hull[i].quality, -hull[i].rate_bps))
    return hull[: top + 1]


def hull_quality(hull: Sequence[EncodePoint], rate_bps: float) -> float:
    """Quality on the hull at ``rate_bps`` (linear between vertices, flat past the top)."""
    if rate_bps <= hull[0].rate_bps:
        return hull[0].quality * rate_bps / hull[0].rate_bps
    for a, b in zip(hull, hull[1:]):
        if rate_bps <= b.rate_bps:
            f = (rate_bps - a.rate_bps) / (b.rate_bps - a.rate_bps)
            return a.quality + f * (b.quality - a.quality)
    return hull[-1].quality


def best_encode(model: RateQualityModel, rate_bps: float, resolutions: Sequence[tuple[int, int]] = CANDIDATE_RESOLUTIONS) -> EncodePoint:
    """The resolution with the best quality at ``rate_bps`` (what a hull-guided ladder encodes)."""
    best = None
    for w, h in resolutions:
        q = model.quality(rate_bps, w, h)
        if best is None or q > best.quality + 1e-12:
            best = EncodePoint(rate_bps, w, h, q)
    assert best is not None
    return best


def min_rate_for(model: RateQualityModel, quality: float, resolutions: Sequence[tuple[int, int]] = CANDIDATE_RESOLUTIONS) -> EncodePoint | None:
    """The cheapest single encode reaching ``quality`` over all resolutions (None if none can)."""
    best: EncodePoint | None = None
    for w, h in resolutions:
        r = model.rate_for(quality, w, h)
        if math.isfinite(r) and (best is None or r < best.rate_bps):
            best = EncodePoint(r, w, h, quality)
    return best


@dataclass(frozen=True)
class LadderRung:
    bitrate_bps: int
    width: int
    height: int
    quality: float

    def to_dict(self) -> dict[str, float | int]:
        return {"bitrate_bps": self.bitrate_bps, "width": self.width, "height": self.height, "quality": round(self.quality, 3)}


def fixed_ladder(model: RateQualityModel, ladder: Sequence[tuple[int, int, int]] = NETFLIX_FIXED_LADDER) -> list[LadderRung]:
    """The classic ladder with each rung's modelled quality on this title."""
    return [LadderRung(kbps * 1000, w, h, model.quality(kbps * 1000.0, w, h)) for kbps, w, h in ladder]


def per_title_ladder(
    model: RateQualityModel,
    *,
    n_rungs: int = 8,
    min_rate_bps: float = 235_000.0,
    max_rate_bps: float = 16_000_000.0,
    target_quality: float = 95.0,
    min_quality_step: float = 2.0,
    resolutions: Sequence[tuple[int, int]] = CANDIDATE_RESOLUTIONS,
) -> list[LadderRung]:
    """A complexity-aware ladder from the hull.

    The top rung is the cheapest encode reaching ``target_quality`` (95 is commonly read
    as "visually transparent" on the VMAF scale), or ``max_rate_bps`` if the title never
    gets there; the bottom rung sits at ``min_rate_bps``; the rungs between are
    log-spaced in bitrate (a constant ratio between neighbours, as HLS authoring
    guidance asks) and each takes the resolution that is best at its bitrate. Rungs
    that add less than ``min_quality_step`` over the previous one are dropped.
    """
    if n_rungs < 2:
        raise LadderError("a ladder needs at least 2 rungs")
    if not 0 < min_rate_bps < max_rate_bps:
        raise LadderError("need 0 < min_rate_bps < max_rate_bps")
    top = min_rate_for(model, target_quality, resolutions)
    top_rate = max_rate_bps if top is None else min(max_rate_bps, top.rate_bps)
    top_rate = max(top_rate, min_rate_bps * 1.5)
    rungs: list[LadderRung] = []
    for r in np.geomspace(min_rate_bps, top_rate, n_rungs):
        rate = int(round(float(r) / 5000.0) * 5000) or 5000  # ladders quote round kbps
        e = best_encode(model, float(rate), resolutions)
        if rungs and (rate <= rungs[-1].bitrate_bps or e.quality - rungs[-1].quality < min_quality_step):
            continue
        rungs.append(LadderRung(rate, e.width, e.height, e.quality))
    return rungs


@dataclass(frozen=True)
class Savings:
    """Bandwidth the per-title hull saves over a fixed ladder at equal modelled quality."""

    complexity: float
    per_rung: tuple[float, ...]  # 1 - R_hull(Q_i) / R_i for each fixed rung i
    fixed: tuple[LadderRung, ...]
    per_title: tuple[LadderRung, ...]
    equal_quality_rates_bps: tuple[float, ...]
    # Hull quality at each fixed rung's bitrate minus the rung's quality: the other way
    # to spend the gain (better pictures for the same bits, what complex titles get).
    quality_gain: tuple[float, ...] = ()

    @property
    def mean(self) -> float:
        return float(np.mean(self.per_rung))

    @property
    def top(self) -> float:
        return self.per_rung[-1]

    @property
    def top_vs_per_title(self) -> float:
        """Bandwidth saved at the top: per-title top rung versus the fixed top rung."""
        return 1.0 - self.per_title[-1].bitrate_bps / self.fixed[-1].bitrate_bps


def savings(model: RateQualityModel, ladder: Sequence[tuple[int, int, int]] = NETFLIX_FIXED_LADDER, **ladder_kw: float) -> Savings:
    """For each fixed rung: the cheapest encode (any resolution) of the same quality."""
    fixed = fixed_ladder(model, ladder)
    per_rung = []
    rates = []
    gains = []
    for rung in fixed:
        gains.append(max(rung.quality, best_encode(model, float(rung.bitrate_bps)).quality) - rung.quality)
        best = min_rate_for(model, rung.quality)
        # The fixed rung itself is a candidate, so the best is never dearer.
        r = rung.bitrate_bps if best is None else min(best.rate_bps, rung.bitrate_bps)
        rates.append(r)
        per_rung.append(1.0 - r / rung.bitrate_bps)
    return Savings(
        complexity=model.complexity,
        per_rung=tuple(per_rung),
        fixed=tuple(fixed),
        per_title=tuple(per_title_ladder(model, **ladder_kw)),  # type: ignore[arg-type]
        equal_quality_rates_bps=tuple(rates),
        quality_gain=tuple(gains),
    )
