"""A VBR title generator: per-segment sizes that vary like real encodes.

Each segment gets a scene-complexity factor shared by all rungs (a hard scene is hard
at every bitrate), plus a small per-rung jitter; sizes are ``bitrate x duration / 8``
times ``exp(sigma * z - sigma^2 / 2)`` so each rung averages its nominal bitrate.
The default spread (``vbr_sigma`` = 0.11 in log-size) is that of the Envivio clip
Pensieve uses (log-size std 0.07-0.11 per rung); Big Buck Bunny's Sabre ladder is about
0.2. Scene complexity follows an AR(1) process with correlation ``rho``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from player.presentation import Rung, Title, Track

# A classic fixed ladder (bitrate kbps, width, height), after the Envivio/Pensieve rungs
# with the resolutions such ladders usually carry.
DEFAULT_LADDER: tuple[tuple[int, int, int], ...] = (
    (300, 320, 180),
    (750, 640, 360),
    (1200, 854, 480),
    (1850, 1280, 720),
    (2850, 1280, 720),
    (4300, 1920, 1080),
)


def generate_title(
    name: str = "abrlab-demo",
    ladder: Sequence[tuple[int, int, int]] = DEFAULT_LADDER,
    *,
    n_segments: int = 60,
    segment_duration_s: float = 4.0,
    vbr_sigma: float = 0.11,
    rung_jitter: float = 0.03,
    rho: float = 0.5,
    codecs: str = "avc1.64001f",
    seed: int = 0,
) -> Title:
    if n_segments < 1:
        raise ValueError("n_segments must be >= 1")
    if segment_duration_s <= 0:
        raise ValueError("segment_duration_s must be positive")
    rng = np.random.default_rng(seed)
    z = np.empty(n_segments)
    z[0] = rng.standard_normal()
    innov = np.sqrt(1 - rho * rho)
    for i in range(1, n_segments):
        z[i] = rho * z[i - 1] + innov * rng.standard_normal()
    rungs = tuple(
        Rung(bitrate_bps=int(kbps * 1000), width=w, height=h, codecs=codecs, id=f"v{i}")
        for i, (kbps, w, h) in enumerate(ladder)
    )
    nominal = np.array([r.bitrate_bps for r in rungs], dtype=np.float64) * segment_duration_s / 8.0
    jitter = rung_jitter * rng.standard_normal((n_segments, len(rungs)))
    logf = vbr_sigma * z[:, None] + jitter
    logf -= (vbr_sigma**2 + rung_jitter**2) / 2.0
    sizes = np.maximum(1, np.rint(nominal[None, :] * np.exp(logf))).astype(np.int64)
    # Keep the ladder ordered segment by segment: a higher rung is never smaller.
    sizes = np.maximum.accumulate(sizes, axis=1)
    track = Track("video", rungs, np.full(n_segments, float(segment_duration_s)), sizes)
    meta = {
        "generator": "player.titlegen.generate_title",
        "params": {
            "ladder": [list(x) for x in ladder],
            "n_segments": n_segments,
            "segment_duration_s": segment_duration_s,
            "vbr_sigma": vbr_sigma,
            "rung_jitter": rung_jitter,
            "rho": rho,
            "codecs": codecs,
            "seed": seed,
        },
    }
    return Title(name=name, video=track, source=f"generated:{name}", source_format="generated", meta=meta)
