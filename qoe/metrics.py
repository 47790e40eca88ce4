"""KPIs and QoE models, computed the same way from any session's events.

:class:`PlaybackRecord` is the per-segment summary every score is computed from; it is
built either from typed events (:meth:`PlaybackRecord.from_events`, what the collector
does) or directly by the session core (what the simulator does, for speed). Both must
agree exactly; a test holds them to it.

QoE models (per-segment form, Pensieve SIGCOMM 2017, Sec. 5.1, after Yin et al. 2015):

    QoE = sum_n q(R_n) - mu * sum_n T_n - sum_n |q(R_{n+1}) - q(R_n)|

- ``lin``: q(R) = R in Mbps, mu = 4.3 (Pensieve's REBUF_PENALTY; 1 s of rebuffering
  costs as much as the 4.3 Mbps top rung), smoothness weight 1.
- ``log``: q(R) = ln(R / R_min) with R_min = 0.3 Mbps, mu = 2.66.
- ``hd``: q maps the Envivio ladder {0.3, 0.75, 1.2, 1.85, 2.85, 4.3} Mbps to
  {1, 2, 3, 12, 15, 20} (favouring HD), mu = 8. Other ladders are mapped by
  piecewise-linear interpolation over those points (clamped at the ends).
- ``yin``: Yin et al. (SIGCOMM 2015): q(R) = R in kbps, lambda = 1, mu = mu_s = 3000
  per second, with the startup delay as its own term mu_s * T_s.

T_n is the rebuffering charged to segment n: the stall time since the previous segment
arrived; for the first segment, Pensieve charges the startup delay (its download),
which ``startup_as_rebuffer`` controls. ``drop_first`` sums over segments 2..N as
Pensieve's published numbers do (the first chunk's reward is not reported), so the
startup delay is reported but not penalised.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from qoe.events import (
    Event,
    PlaybackStart,
    SegmentLoaded,
    SessionEnd,
    StallEnd,
    StallStart,
)

# Pensieve (hongzimao/pensieve, test/*.py): REBUF_PENALTY = 4.3, SMOOTH_PENALTY = 1,
# log: REBUF_PENALTY = 2.66; HD: HD_REWARD = [1, 2, 3, 12, 15, 20], REBUF_PENALTY = 8.
LIN_REBUF_PENALTY = 4.3
LOG_REBUF_PENALTY = 2.66
HD_REBUF_PENALTY = 8.0
SMOOTH_PENALTY = 1.0
LOG_MIN_RATE_MBPS = 0.3
HD_POINTS_MBPS = (0.3, 0.75, 1.2, 1.85, 2.85, 4.3)
HD_REWARDS = (1.0, 2.0, 3.0, 12.0, 15.0, 20.0)
# Yin et al., "A Control-Theoretic Approach for Dynamic Adaptive Video Streaming over
# HTTP", SIGCOMM 2015, Sec. 6: lambda = 1, mu = mu_s = 3000 (kbps units).
YIN_LAMBDA = 1.0
YIN_MU = 3000.0
YIN_MU_S = 3000.0

QOE_MODELS = ("lin", "log", "hd", "yin")


@dataclass
class PlaybackRecord:
    """Per-segment facts of one (video) pipeline, in playback order, plus stall totals."""

    bitrates_bps: list[int] = field(default_factory=list)
    rungs: list[int] = field(default_factory=list)
    durations_s: list[float] = field(default_factory=list)
    stall_s: list[float] = field(default_factory=list)  # stall charged to each segment
    startup_s: float = 0.0
    started: bool = False
    stall_count: int = 0
    rebuffer_s: float = 0.0  # stalls after playback started
    played_s: float = 0.0

    @classmethod
    def from_events(cls, events: Iterable[Event], media: str = "video") -> "PlaybackRecord":
        rec = cls()
        for ev in events:
            if isinstance(ev, SegmentLoaded):
                if ev.media != media:
                    continue
                rec.bitrates_bps.append(ev.bitrate_bps)
                rec.rungs.append(ev.rung)
                rec.durations_s.append(ev.duration_s)
                rec.stall_s.append(ev.stall_s)
            elif isinstance(ev, PlaybackStart):
                rec.startup_s = ev.startup_s
                rec.started = True
            elif isinstance(ev, StallStart):
                rec.stall_count += 1
            elif isinstance(ev, StallEnd):
                rec.rebuffer_s += ev.duration_s
            elif isinstance(ev, SessionEnd):
                rec.played_s = ev.played_s
        return rec

    @property
    def n_segments(self) -> int:
        return len(self.bitrates_bps)


def hd_utility(rate_mbps: float) -> float:
    return float(np.interp(rate_mbps, HD_POINTS_MBPS, HD_REWARDS))


def _quality_values(rec: PlaybackRecord, model: str) -> list[float]:
    if model == "lin":
        return [b / 1e6 for b in rec.bitrates_bps]
    if model == "log":
        return [math.log(b / 1e6 / LOG_MIN_RATE_MBPS) for b in rec.bitrates_bps]
    if model == "hd":
        return [hd_utility(b / 1e6) for b in rec.bitrates_bps]
    if model == "yin":
        return [b / 1e3 for b in rec.bitrates_bps]
    raise ValueError(f"unknown QoE model {model!r} (known: {', '.join(QOE_MODELS)})")


def per_segment_rewards(
    rec: PlaybackRecord,
    model: str = "lin",
    startup_as_rebuffer: bool = True,
    first_reference_bps: int | None = None,
) -> list[float]:
    """Pensieve's per-chunk reward ``q(R_n) - mu*T_n - |q(R_n) - q(R_{n-1})|``.

    The first segment is compared with ``first_reference_bps`` when given (Pensieve
    compares it with its 750 kbps default), else it pays no smoothness penalty.
    For ``yin`` the startup term is not part of the per-segment rewards; see :func:`qoe`.
    """
    q = _quality_values(rec, model)
    if model == "lin":
        mu, lam = LIN_REBUF_PENALTY, SMOOTH_PENALTY
    elif model == "log":
        mu, lam = LOG_REBUF_PENALTY, SMOOTH_PENALTY
    elif model == "hd":
        mu, lam = HD_REBUF_PENALTY, SMOOTH_PENALTY
    else:
        mu, lam = YIN_MU, YIN_LAMBDA
    rewards = []
    prev: float | None = None
    if first_reference_bps is not None:
        prev = _quality_values(PlaybackRecord(bitrates_bps=[first_reference_bps]), model)[0]
    for n, qn in enumerate(q):
        stall = rec.stall_s[n]
        if n == 0:
            stall = (rec.startup_s if startup_as_rebuffer and model != "yin" else 0.0) + stall
        r = qn - mu * stall
        if prev is not None:
            r -= lam * abs(qn - prev)
        rewards.append(r)
        prev = qn
    return rewards


def qoe(
    rec: PlaybackRecord,
    model: str = "lin",
    drop_first: bool = False,
    startup_as_rebuffer: bool = True,
    first_reference_bps: int | None = None,
) -> float:
    """Total QoE of a session under ``model`` (see the module docstring)."""
    rewards = per_segment_rewards(rec, model, startup_as_rebuffer, first_reference_bps)
    total = math.fsum(rewards[1:] if drop_first else rewards)
    if model == "yin" and not drop_first:
        total -= YIN_MU_S * rec.startup_s
    return total


@dataclass
class Kpis:
    segments: int
    startup_s: float
    rebuffer_s: float
    stalls: int
    stall_ratio: float
    avg_bitrate_kbps: float
    switches: int
    switch_magnitude_kbps: float  # mean |change| per switch
    played_s: float
    time_per_rung_s: list[float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def kpis(rec: PlaybackRecord, n_rungs: int | None = None) -> Kpis:
    n = rec.n_segments
    d = rec.durations_s
    total_d = math.fsum(d)
    avg = math.fsum(b * x for b, x in zip(rec.bitrates_bps, d)) / total_d / 1000 if n else 0.0
    switches = 0
    mag = 0.0
    for a, b in zip(rec.bitrates_bps, rec.bitrates_bps[1:]):
        if a != b:
            switches += 1
            mag += abs(b - a) / 1000
    width = n_rungs if n_rungs is not None else (max(rec.rungs) + 1 if rec.rungs else 0)
    per_rung = [0.0] * width
    for r, x in zip(rec.rungs, d):
        per_rung[r] += x
    played = rec.played_s
    denom = played + rec.rebuffer_s
    return Kpis(
        segments=n,
        startup_s=rec.startup_s,
        rebuffer_s=rec.rebuffer_s,
        stalls=rec.stall_count,
        stall_ratio=rec.rebuffer_s / denom if denom > 0 else 0.0,
        avg_bitrate_kbps=avg,
        switches=switches,
        switch_magnitude_kbps=mag / switches if switches else 0.0,
        played_s=played,
        time_per_rung_s=per_rung,
    )


def summarize(values: Sequence[float]) -> dict[str, float]:
    """mean / median / p10 / p90 of one metric over sessions (NaN when empty)."""
    a = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if a.size == 0:
        nan = float("nan")
        return {"mean": nan, "median": nan, "p10": nan, "p90": nan}
    return {
        "mean": float(np.mean(a)),
        "median": float(np.median(a)),
        "p10": float(np.percentile(a, 10)),
        "p90": float(np.percentile(a, 90)),
    }
