"""``learned``: an ABR policy learned by imitating the offline optimum.

The policy is a decision tree (scikit-learn's DecisionTreeClassifier) trained by
``abrlab abr train`` (player/imitation.py) on our own generated traces and titles: at
every decision along the offline optimum's path (player/optimum.py) it records the
features below, computed from :class:`AbrContext` alone, and the rung the optimum took.
The tree is stored as plain JSON (``abr/data/learned_default.json`` ships with abrlab;
``model=PATH`` loads another), so running the policy needs neither scikit-learn nor
pickle. Its classes are bitrates of the training ladder; on another ladder the policy
picks the highest rung at or below the predicted bitrate.

Features (units in the names): buffer_s, last_bitrate_mbps, harmonic mean of the last 5
throughput samples (latency included) in Mbps, the last sample in Mbps, the smallest of
the last 5 in Mbps, segments_left (capped at 10), next segment's size at the lowest
rung relative to its nominal size.

Guard rails, so it never collapses when the link is below the lowest rung: before the
first sample, and whenever the harmonic-mean throughput is below the lowest bitrate, it
fetches the lowest rung; the tree's answer is clamped to the ladder.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from abr.base import AbrAlgorithm, AbrContext, AbrError, Param, TransferSample

FEATURES = (
    "buffer_s",
    "last_bitrate_mbps",
    "harmonic_tput_mbps",
    "last_tput_mbps",
    "min_tput_mbps",
    "segments_left",
    "next_size_ratio",
)
MODEL_FORMAT = "abrlab-learned-abr"


def features(ctx: AbrContext, rates_bps: Sequence[float]) -> list[float]:
    """The feature vector of a decision (``rates_bps``: recent throughput samples)."""
    last = ctx.last_rung
    last_mbps = ctx.bitrates_bps[last] / 1e6 if last is not None else 0.0
    recent = list(rates_bps)[-5:]
    if recent:
        harm = len(recent) / sum(1.0 / r for r in recent) / 1e6
        lst = recent[-1] / 1e6
        mn = min(recent) / 1e6
    else:
        harm = lst = mn = 0.0
    idx = min(ctx.segment_index, ctx.title_segments - 1)
    nominal = ctx.bitrates_bps[0] * ctx.duration_of(idx) / 8.0
    ratio = ctx.sizes_bytes(idx)[0] / nominal if nominal > 0 else 1.0
    return [ctx.buffer_s, last_mbps, harm, lst, mn, float(min(ctx.segments_left, 10)), ratio]


class TreePolicy:
    """A decision tree stored as arrays (scikit-learn's tree_ layout)."""

    def __init__(self, data: dict[str, Any], source: str = "<model>") -> None:
        if data.get("format") != MODEL_FORMAT:
            raise AbrError(f"{source}: not an abrlab learned-ABR model (format {data.get('format')!r})")
        try:
            tree = data["tree"]
            self.left = [int(x) for x in tree["left"]]
            self.right = [int(x) for x in tree["right"]]
            self.feature = [int(x) for x in tree["feature"]]
            self.threshold = [float(x) for x in tree["threshold"]]
            self.label_bps = [float(x) for x in tree["label_bps"]]
            self.feature_names = tuple(data["features"])
        except (KeyError, TypeError, ValueError) as e:
            raise AbrError(f"{source}: malformed model ({e})") from None
        if self.feature_names != FEATURES:
            raise AbrError(f"{source}: model features {self.feature_names} differ from {FEATURES}")
        n = len(self.left)
        if not (n and len(self.right) == len(self.feature) == len(self.threshold) == len(self.label_bps) == n):
            raise AbrError(f"{source}: tree arrays differ in length")
        self.meta = dict(data.get("meta", {}))

    def predict_bps(self, x: Sequence[float]) -> float:
        node = 0
        left, right, feat, thr = self.left, self.right, self.feature, self.threshold
        while left[node] >= 0:
            node = left[node] if x[feat[node]] <= thr[node] else right[node]
        return self.label_bps[node]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "TreePolicy":
        if path is None:
            text = resources.files("abr").joinpath("data/learned_default.json").read_text()
            return cls(json.loads(text), "abr/data/learned_default.json")
        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise AbrError(f"{p}: no such model file") from None
        except (OSError, json.JSONDecodeError) as e:
            raise AbrError(f"{p}: cannot read model ({e})") from None
        return cls(data, str(p))


class LearnedAbr(AbrAlgorithm):
    name = "learned"
    family = "learned"
    source = "imitation of abrlab's offline optimum (player/imitation.py), scikit-learn decision tree"
    PARAMS = {
        "model": Param("", "model JSON made by 'abrlab abr train' (empty: the bundled model)", str),
    }
    _CACHE: dict[str, TreePolicy] = {}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        key = self.model or ""  # type: ignore[attr-defined]
        pol = self._CACHE.get(key)
        if pol is None:
            pol = self._CACHE[key] = TreePolicy.load(key or None)
        self.policy = pol

    def reset(self) -> None:
        self._rates: list[float] = []

    def on_download(self, sample: TransferSample, ctx: AbrContext) -> None:
        r = sample.rate_with_latency_bps
        if 0 < r < math.inf:
            self._rates.append(r)
            del self._rates[:-5]

    def decide(self, ctx: AbrContext) -> int:
        if not self._rates:
            return 0
        x = features(ctx, self._rates)
        if x[2] * 1e6 < ctx.bitrates_bps[0]:
            return 0  # the link cannot sustain even the lowest rung
        target = self.policy.predict_bps(x)
        q = 0
        for i, b in enumerate(ctx.bitrates_bps):
            if b <= target * (1 + 1e-9):
                q = i
        return q
