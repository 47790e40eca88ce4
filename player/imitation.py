"""Training the learned ABR (``abrlab abr train``): imitation of the offline optimum.

For each generated trace the offline optimum's best path (player/optimum.py) is replayed
in the simulator by a recording policy that, at every decision, stores the features the
learned ABR will see (abr.learned.features, computed from the AbrContext only) and the
rung the optimum took. A scikit-learn DecisionTreeClassifier is fitted to those pairs
and written as JSON (abr.learned.TreePolicy). Everything is seeded: the same seed gives
the same traces, the same title and the same model file, byte for byte.

Training traces come from :func:`training_traces`, a small two-level Markov generator of
our own (log-uniform rates between 0.2 and 8 Mbps, exponential dwell times), so training
does not depend on any data we do not ship.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from abr.base import TransferSample
from abr.learned import FEATURES, MODEL_FORMAT, features
from player.config import mode_config
from player.optimum import offline_optimum
from player.sim import simulate
from player.titlegen import generate_title
from traces.model import Provenance, Trace


def training_traces(n: int, seed: int, duration_s: float = 400.0) -> list[Trace]:
    """``n`` random traces: a Markov chain over log-uniform capacities (0.2-8 Mbps)
    holding each for an exponential time (mean 6 s), 40 ms latency."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        # each trace has its own typical level, so the set spans slow and fast links
        centre = math.exp(rng.uniform(math.log(0.3), math.log(6.0)))
        durs, rates = [], []
        t = 0.0
        while t < duration_s:
            d = float(rng.exponential(6.0)) + 0.5
            r = centre * math.exp(rng.normal(0.0, 0.6))
            durs.append(d)
            rates.append(min(max(r, 0.05), 20.0) * 1e6)
            t += d
        out.append(Trace(durs, rates, [0.04] * len(durs), name=f"train-{seed}-{k}",
                         provenance=Provenance("generator", "abrlab.imitation", params={"seed": seed, "index": k})))
    return out


class _Recorder:
    """Plays a fixed rung path and records (features, rung) at each decision."""

    name = "imitation-recorder"

    def __init__(self, path: list[int], rows: list[list[float]], labels: list[int]) -> None:
        self.path = path
        self.rows = rows
        self.labels = labels
        self._rates: list[float] = []

    def reset(self) -> None:
        self._rates = []

    def on_download(self, sample: TransferSample, ctx: Any) -> None:
        r = sample.rate_with_latency_bps
        if 0 < r < math.inf:
            self._rates.append(r)
            del self._rates[:-5]

    def decide(self, ctx: Any) -> int:
        rung = self.path[min(ctx.segment_index, len(self.path) - 1)]
        if self._rates:  # the first decision has no features worth learning
            self.rows.append(features(ctx, self._rates))
            self.labels.append(rung)
        return rung


def collect(n_traces: int, seed: int, mode: str = "default") -> tuple[np.ndarray, np.ndarray, list[int]]:
    title = generate_title("imitation", n_segments=60, seed=seed)
    cfg = mode_config(mode)
    rows: list[list[float]] = []
    labels: list[int] = []
    for tr in training_traces(n_traces, seed):
        opt = offline_optimum(title, tr, cfg, "lin", replay_path=False)
        simulate(title, tr, _Recorder(opt.rungs, rows, labels), config=cfg, keep_events=False)
    return np.asarray(rows, dtype=np.float64), np.asarray(labels, dtype=np.int64), list(title.video.bitrates_bps)


def train(out: str | Path, seed: int = 0, n_traces: int = 80, max_depth: int = 7, mode: str = "default") -> dict[str, Any]:
    """Train and write the model; returns its JSON dict."""
    try:
        from sklearn.tree import DecisionTreeClassifier
    except ImportError:  # pragma: no cover - depends on the environment
        raise RuntimeError("training needs scikit-learn: pip install 'abrlab[train]'") from None
    X, y, ladder = collect(n_traces, seed, mode)
    clf = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=8, random_state=seed)
    clf.fit(X, y)
    t = clf.tree_
    classes = [int(c) for c in clf.classes_]
    label_bps = [float(ladder[classes[int(np.argmax(v))]]) for v in t.value[:, 0, :]]
    model = {
        "format": MODEL_FORMAT,
        "version": 1,
        "features": list(FEATURES),
        "tree": {
            "left": [int(x) for x in t.children_left],
            "right": [int(x) for x in t.children_right],
            "feature": [int(max(x, 0)) for x in t.feature],
            "threshold": [float(x) for x in t.threshold],
            "label_bps": label_bps,
        },
        "meta": {
            "trainer": "player.imitation.train",
            "seed": seed,
            "n_traces": n_traces,
            "max_depth": max_depth,
            "mode": mode,
            "samples": int(len(y)),
            "train_accuracy": float(clf.score(X, y)),
            "ladder_bps": ladder,
        },
    }
    Path(out).write_text(json.dumps(model, indent=1, sort_keys=True) + "\n")
    return model
