"""``throughput``: rate-based ABR.

Predict the next transfer's throughput as the harmonic mean of the last ``window``
samples (robust to a single outlier; the rate-based baseline of Yin et al., SIGCOMM
2015, and of Pensieve, SIGCOMM 2017), scale by ``safety`` (dash.js's ThroughputRule
uses 0.9), and take the highest rung whose bitrate fits. Before the first sample the
lowest rung is fetched.
"""

from __future__ import annotations

from abr.base import AbrAlgorithm, AbrContext, Param, highest_rung_below
from abr.estimators import SlidingMeanEstimator


class ThroughputRule(AbrAlgorithm):
    name = "throughput"
    family = "throughput"
    source = "Yin et al., SIGCOMM 2015 (rate-based baseline); dash.js ThroughputRule safety factor"
    PARAMS = {
        "window": Param(5, "samples in the harmonic mean", int, lo=1),
        "safety": Param(0.9, "fraction of the predicted throughput to spend", float, lo=0, lo_open=True, hi=1),
        "include_latency": Param(False, "measure throughput over latency + transfer (as Pensieve's size/delay)", bool),
    }
    PRESETS = {
        # Pensieve's RB: harmonic mean of the past 5 size/delay samples, no margin.
        "pensieve": {"window": 5, "safety": 1.0, "include_latency": True},
    }
    MODE_PRESETS = {"pensieve": "pensieve"}

    def reset(self) -> None:
        self.estimator = SlidingMeanEstimator(self.window, "harmonic", self.include_latency)  # type: ignore[attr-defined]

    def decide(self, ctx: AbrContext) -> int:
        est = self.estimator.estimate_bps()
        if est is None:
            return 0
        return highest_rung_below(ctx.bitrates_bps, est * self.safety)  # type: ignore[attr-defined]
