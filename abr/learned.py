"""``learned``: an ABR policy learned by imitating an oracle that knows the trace.

**What it is.** A gradient-boosted regression-tree ensemble (scikit-learn's
``GradientBoostingRegressor``, 150 trees of depth 5) that scores each rung of the next
segment: its input is a
state part (buffer, throughput history, ...) and an action part (that rung's bitrate, the
next segment's size at it, its predicted download time, ...), all computed from
:class:`AbrContext` alone (:func:`state_features`, :func:`candidate_matrix`); its output
estimates the *advantage* of fetching that rung: how much QoE_lin the choice loses
against the best choice, as judged by an oracle that knows the future of the trace
(``player.optimum.action_values``: a DP over the next segments with the player's own
buffer cap and resume threshold). The policy fetches the rung with the highest score.

Scoring every rung, rather than classifying states into rung indices, makes the model
independent of the ladder (it sees bitrates and sizes, not indices), and regressing the
advantage averages the oracle's verdict over the futures a state can lead to, so a rung
that is best on most traces but stalls badly on a few scores low (the risk a
classifier of the oracle's choice would not see).

**How it is trained** (``abrlab abr train``, player/imitation.py): on traces from our
own Markov generator (``traces.generators``, profiles 3g/lte/broadband/wifi) and
generated titles, with DAgger (Ross, Gordon and Bagnell, AISTATS 2011): the first round
follows the oracle, later rounds follow the policy learned so far (with a little random
exploration), and every visited state is labelled by the oracle and added to one growing
data set; the final model is fitted to all of it. Labelling every rung of visited states
with oracle values is Comyco's recipe (Huang et al., "Comyco: Quality-Aware Adaptive
Video Streaming via Imitation Learning", ACM MM 2019) with an exact DP for its solver.

**The model file** is plain JSON (``abr/data/learned_default.json`` ships with abrlab;
``model=PATH`` loads another), trees as flat arrays, so running the policy needs neither
scikit-learn nor pickle. Its ``meta`` records the command, seed and data that made it.

**Guard rails**, so it never collapses when the link is below the lowest rung: before
the first throughput sample, and whenever the harmonic mean of the last five samples is
below the lowest bitrate, it fetches the lowest rung.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from abr.base import AbrAlgorithm, AbrContext, AbrError, Param, TransferSample

STATE_FEATURES = (
    "buffer_s",
    "stalled",  # 1 while playback is stopped after a stall (waiting to resume)
    "last_bitrate_mbps",
    "tput_last_mbps",  # throughput samples: size / (latency + transfer)
    "tput_hm2_mbps",  # harmonic means of the last 2, 5 and 20 samples
    "tput_hm5_mbps",
    "tput_hm20_mbps",
    "tput_min5_mbps",
    "tput_max5_mbps",
    "tput_min20_mbps",  # the worst of the last 20: has this link dipped lately?
    "tput_cv20",  # their coefficient of variation: a steady link or a jumpy one
    "samples",  # how many samples there are (up to 20)
    "last_download_s",  # latency + transfer time of the last segment
    "ttfb_s",  # mean request latency of the last 5 samples
    "segment_duration_s",
    "content_left_s",  # seconds of content still to fetch (capped at CONTENT_CAP_S)
)
ACTION_FEATURES = (
    "bitrate_mbps",
    "switch_mbps",  # bitrate minus the last rung's bitrate
    "rung_step",  # rung index minus the last rung's index
    "size_ratio",  # next segment's size at this rung / its nominal size (VBR)
    "ahead_ratio",  # the same over the next three segments
    "dl_hm5_s",  # predicted download time of the next segment: latency + size / hm5
    "dl_min5_s",  # the same at the smallest of the last 5 samples
    "slack_s",  # buffer minus dl_hm5_s (negative: a stall is predicted)
)
FEATURES = STATE_FEATURES + ACTION_FEATURES
_BUFFER, _HM5, _MIN5, _TTFB = (STATE_FEATURES.index(f) for f in ("buffer_s", "tput_hm5_mbps", "tput_min5_mbps", "ttfb_s"))
MODEL_FORMAT = "abrlab-learned-abr"
MODEL_VERSION = 2
CONTENT_CAP_S = 120.0
DL_CAP_S = 120.0


def _hm(rates: Sequence[float]) -> float:
    return len(rates) / sum(1.0 / r for r in rates)


def throughput_samples(samples: Sequence[TransferSample], n: int = 20) -> list[float]:
    """The last ``n`` usable throughput samples (bit/s, latency included)."""
    out: list[float] = []
    for s in reversed(samples):
        d = s.ttfb_s + s.transfer_s
        if d > 0 and s.size_bytes > 0:
            out.append(s.size_bytes * 8.0 / d)
            if len(out) == n:
                break
    out.reverse()
    return out


def state_features(ctx: AbrContext) -> list[float] | None:
    """The state part of the features, or None before the first throughput sample."""
    samples = ctx.samples
    rates = throughput_samples(samples)
    if not rates:
        return None
    last5 = rates[-5:]
    mean20 = sum(rates) / len(rates)
    cv20 = math.sqrt(sum((r - mean20) ** 2 for r in rates) / len(rates)) / mean20
    lat = [s.ttfb_s for s in samples[-5:]]
    last = samples[-1]
    lr = ctx.last_rung
    left = 0.0
    for i in range(ctx.segment_index, min(ctx.segment_count, ctx.title_segments)):
        left += ctx.duration_of(i)
        if left >= CONTENT_CAP_S:
            left = CONTENT_CAP_S
            break
    return [
        ctx.buffer_s,
        1.0 if ctx.stalled else 0.0,
        ctx.bitrates_bps[lr] / 1e6 if lr is not None else 0.0,
        rates[-1] / 1e6,
        _hm(rates[-2:]) / 1e6,
        _hm(last5) / 1e6,
        _hm(rates) / 1e6,
        min(last5) / 1e6,
        max(last5) / 1e6,
        min(rates) / 1e6,
        cv20,
        float(len(rates)),
        last.ttfb_s + last.transfer_s,
        sum(lat) / len(lat),
        ctx.segment_duration_s,
        left,
    ]


def candidate_matrix(ctx: AbrContext, state: Sequence[float]) -> np.ndarray:
    """One feature row per rung of the next segment: the state part, then that rung's
    action part (``FEATURES`` order)."""
    n = ctx.n_rungs
    br = ctx.bitrates_bps
    idx = min(ctx.segment_index, ctx.title_segments - 1)
    sizes = ctx.sizes_bytes(idx)
    ahead = range(idx, min(idx + 3, ctx.title_segments))
    lr = ctx.last_rung if ctx.last_rung is not None else 0
    buf = state[_BUFFER]
    hm5 = state[_HM5] * 1e6
    mn5 = state[_MIN5] * 1e6
    ttfb = state[_TTFB]
    dur = ctx.duration_of(idx)
    X = np.empty((n, len(FEATURES)), dtype=np.float64)
    X[:, : len(state)] = state
    k = len(state)
    for r in range(n):
        nominal = br[r] * dur / 8.0
        bits = sizes[r] * 8.0
        ahead_bytes = sum(ctx.sizes_bytes(i)[r] for i in ahead)
        ahead_nominal = sum(br[r] * ctx.duration_of(i) / 8.0 for i in ahead)
        dl = min(ttfb + bits / hm5, DL_CAP_S)
        X[r, k:] = (
            br[r] / 1e6,
            (br[r] - br[lr]) / 1e6,
            float(r - lr),
            sizes[r] / nominal if nominal > 0 else 1.0,
            ahead_bytes / ahead_nominal if ahead_nominal > 0 else 1.0,
            dl,
            min(ttfb + bits / mn5, DL_CAP_S),
            buf - dl,
        )
    return X


class TreeEnsemble:
    """Gradient-boosted regression trees stored as flat arrays (scikit-learn's
    ``tree_`` layout, all trees concatenated): ``predict`` walks every tree for every row
    at once with numpy, one tree level per step."""

    def __init__(self, data: dict[str, Any], source: str = "<model>") -> None:
        if data.get("format") != MODEL_FORMAT:
            raise AbrError(f"{source}: not an abrlab learned-ABR model (format {data.get('format')!r})")
        if data.get("version") != MODEL_VERSION:
            raise AbrError(f"{source}: model version {data.get('version')!r}; this abrlab reads version {MODEL_VERSION} (retrain with 'abrlab abr train')")
        try:
            feats = tuple(data["features"])
            ens = data["ensemble"]
            self.base = float(ens["base"])
            roots = np.asarray(ens["roots"], dtype=np.int64)
            left = np.asarray(ens["left"], dtype=np.int64)
            right = np.asarray(ens["right"], dtype=np.int64)
            feature = np.asarray(ens["feature"], dtype=np.int64)
            threshold = np.asarray(ens["threshold"], dtype=np.float64)
            value = np.asarray(ens["value"], dtype=np.float64)
            depth = int(ens["max_depth"])
        except (KeyError, TypeError, ValueError) as e:
            raise AbrError(f"{source}: malformed model ({e})") from None
        if feats != FEATURES:
            raise AbrError(f"{source}: model features {feats} differ from {FEATURES}")
        n = len(left)
        if not (n and len(right) == len(feature) == len(threshold) == len(value) == n and len(roots)):
            raise AbrError(f"{source}: tree arrays differ in length")
        leaf = left < 0
        if (
            roots.min() < 0 or roots.max() >= n
            or np.any((~leaf) & ((left >= n) | (right < 0) | (right >= n)))
            or np.any((~leaf) & ((feature < 0) | (feature >= len(FEATURES))))
        ):
            raise AbrError(f"{source}: tree arrays point outside the model")
        # Leaves point to themselves, so walking ``depth`` levels from the roots parks
        # every row on its leaf however shallow its branch.
        ids = np.arange(n)
        self.left = np.where(leaf, ids, left)
        self.right = np.where(leaf, ids, right)
        self.feature = np.where(leaf, 0, feature)
        self.threshold = threshold
        self.value = value
        self.roots = roots
        self.depth = depth
        self.meta = dict(data.get("meta", {}))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Sum of the trees' leaf values (plus the base score) for each row of ``X``."""
        rows = np.arange(X.shape[0])[:, None]
        node = np.broadcast_to(self.roots, (X.shape[0], len(self.roots)))
        feat, thr, left, right = self.feature, self.threshold, self.left, self.right
        for _ in range(self.depth):
            go_left = X[rows, feat[node]] <= thr[node]
            node = np.where(go_left, left[node], right[node])
        return self.base + self.value[node].sum(axis=1)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "TreeEnsemble":
        if path is None:
            text = resources.files("abr").joinpath("data/learned_default.json").read_text()
            return cls(json.loads(text), "abr/data/learned_default.json")
        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise AbrError(f"{p}: no such model file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise AbrError(f"{p}: cannot read model ({e})") from None
        if not isinstance(data, dict):
            raise AbrError(f"{p}: not an abrlab learned-ABR model (a JSON {type(data).__name__})")
        return cls(data, str(p))


class LearnedAbr(AbrAlgorithm):
    name = "learned"
    family = "learned"
    source = (
        "imitation of an oracle that knows the trace (DAgger, Ross et al. 2011; Comyco, Huang et al. 2019): "
        "scikit-learn gradient-boosted trees trained by 'abrlab abr train' (player/imitation.py)"
    )
    PARAMS = {
        "model": Param("", "model JSON made by 'abrlab abr train' (empty: the bundled model)", str),
    }
    _CACHE: dict[str, TreeEnsemble] = {}

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        key = self.model or ""  # type: ignore[attr-defined]
        pol = self._CACHE.get(key)
        if pol is None:
            pol = self._CACHE[key] = TreeEnsemble.load(key or None)
        self.policy = pol

    def scores(self, ctx: AbrContext) -> np.ndarray | None:
        """The model's score of every rung (None before the first sample)."""
        state = state_features(ctx)
        if state is None:
            return None
        return self.policy.predict(candidate_matrix(ctx, state))

    def decide(self, ctx: AbrContext) -> int:
        state = state_features(ctx)
        if state is None:
            return 0
        return choose(self.policy, ctx, state, candidate_matrix(ctx, state))


def choose(policy: TreeEnsemble, ctx: AbrContext, state: Sequence[float], X: np.ndarray) -> int:
    """The policy's rung given the features of a decision, guard rails included."""
    if state[_HM5] * 1e6 < ctx.bitrates_bps[0]:
        return 0  # the link cannot sustain even the lowest rung
    s = policy.predict(X)
    best = int(np.argmax(s))  # first maximum: the lower rung on a tie
    return best if math.isfinite(float(s[best])) else 0
