"""Training the learned ABR (``abrlab abr train``): DAgger against an oracle that knows
the trace.

**Data.** Every episode plays a generated title over a trace from our own generators
(``traces.generators``), all seeded from the training seed, so training needs no data we
do not ship: four in five from the Markov profiles (3g, broadband, wifi, lte; fitted to
real traces by ``traces.fit``), one in five a step schedule (``step_trace``) of levels
log-uniform in 0.25-6 Mbps held for 20-200 s, because the Markov chains never hold a
rate for long and a policy trained only on them under-uses a steady link. LTE links are
fast for the classic 0.3-4.3 Mbps ladder, so their episodes use the ladder scaled by
``LTE_LADDER_SCALE``; a share of episodes uses 2 s segments, so the policy does not
learn one segment duration only.

**Labels.** At every decision the oracle (``player.optimum.action_values``) computes,
knowing the rest of the trace, the best QoE_lin reachable over the next ``horizon``
segments for each rung of the next segment, playing the mode's buffer cap and resume
threshold. It reads the state off the simulator: the buffer, the stall flag, the clock,
and the link's position on the trace (:class:`LinkClock`). Episodes alternate between
the default and the Pensieve mode (``mode="both"``), the two the policy is measured in.
The targets are the advantages ``value[rung] - max(value)`` (0 for the oracle's choice);
one row per rung, features from ``abr.learned.candidate_matrix``.

**DAgger** (Ross, Gordon and Bagnell, AISTATS 2011). Round 0 follows the oracle's
choices; each later round follows the policy fitted to everything collected so far.
Every round takes a random neighbouring rung with probability ``explore`` so that the
data also covers states next to the followed path, and labels every state it visits;
the data of all rounds is aggregated and the final policy is fitted to all of it.

**Model.** scikit-learn's ``GradientBoostingRegressor`` (squared error, zero initial
score; 150 trees of depth 5, at least 20 rows per leaf), fitted to the advantages
clipped at ``-clip_advantage`` (20): a rung that loses more than 20 QoE points in the
next ten segments is simply bad, and the trees then spend their splits on telling
near-best rungs apart instead of on the size of disasters (measured while developing:
an unclipped fit scored 62.9 against 66.9 for the clipped one on a held-out mix of real
and generated traces). The
intermediate policies of the DAgger rounds only steer the next round's episodes and use
``rounds_trees`` (60) trees. The ensemble is exported as flat arrays to JSON
(``abr.learned.TreeEnsemble``), thresholds and leaf values rounded to 7 significant
digits so the file stays small (~190 kB). The policy fetches the rung with the highest
predicted advantage.

Everything is seeded: the same arguments give the same model file, byte for byte, on
the same versions of numpy and scikit-learn (recorded in the file's ``meta`` along with
the command that made it).
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from abr.learned import (
    FEATURES,
    MODEL_FORMAT,
    MODEL_VERSION,
    TreeEnsemble,
    candidate_matrix,
    choose,
    state_features,
)
from player.config import mode_config
from player.link import make_link
from player.optimum import action_values
from player.output_file import atomic_open
from player.presentation import Title
from player.session import Session
from player.sim import drive
from player.titlegen import DEFAULT_LADDER, generate_title
from traces.generators import get_profile, markov_trace, step_trace
from traces.model import Trace

PROFILES = ("3g", "broadband", "wifi", "lte")
KINDS = PROFILES + ("steps",)  # episode kinds, in turn
STEP_RATES_MBPS = (0.25, 6.0)  # step schedules: log-uniform levels ...
STEP_HOLD_S = (20.0, 200.0)  # ... each held this long (uniform)
STEP_LATENCY_S = 0.04
TRAIN_MODES = ("default", "pensieve")  # "both": blocks of episodes alternate between them
LTE_LADDER_SCALE = 4.0
SHORT_SEGMENT_SHARE = 0.2  # episodes with 2 s segments (the rest: 4 s)
TRACE_DURATION_S = 900.0


class TrainingError(ValueError):
    """Bad training arguments (the message says which)."""


@dataclass(frozen=True)
class TrainSpec:
    """Everything that determines a trained model (recorded in its ``meta``)."""

    seed: int = 0
    rounds: int = 5
    traces_per_round: int = 75
    horizon: int = 10
    step_s: float = 0.05
    explore: float = 0.1
    rounds_trees: int = 60
    n_estimators: int = 150
    max_depth: int = 5
    min_samples_leaf: int = 20
    learning_rate: float = 0.1
    subsample: float = 0.8
    clip_advantage: float = 20.0
    mode: str = "both"

    def validate(self) -> None:
        if self.mode not in ("both",) + TRAIN_MODES:
            # the oracle needs the link's position in the trace; Sabre's link model (latency
            # prorated over trace entries) has no closed form for it
            raise TrainingError(f"training runs in mode default, pensieve or both (got {self.mode!r})")
        if self.rounds < 1 or self.traces_per_round < 1:
            raise TrainingError("rounds and traces per round must be >= 1")
        if self.horizon < 1 or self.step_s <= 0:
            raise TrainingError("horizon must be >= 1 and step_s > 0")
        if not 0.0 <= self.explore < 1.0:
            raise TrainingError("explore must be in [0, 1)")
        if self.n_estimators < 1 or self.rounds_trees < 1 or not 1 <= self.max_depth <= 8:
            raise TrainingError("tree counts must be >= 1 and max_depth within 1..8")
        if self.min_samples_leaf < 1 or self.clip_advantage <= 0:
            raise TrainingError("min_samples_leaf must be >= 1 and clip_advantage > 0")
        if not 0.0 < self.subsample <= 1.0 or self.learning_rate <= 0:
            raise TrainingError("subsample must be in (0, 1] and learning_rate > 0")

    def command(self) -> str:
        """The ``abrlab abr train`` command line that makes this model (add ``--out FILE``)."""
        d = TrainSpec()
        flags = [f"--seed {self.seed}"]
        names = {"traces_per_round": "traces", "n_estimators": "trees", "max_depth": "depth", "step_s": "step",
                 "clip_advantage": "clip", "min_samples_leaf": "min-leaf"}
        for k, v in asdict(self).items():
            if k != "seed" and v != getattr(d, k):
                flags.append(f"--{names.get(k, k).replace('_', '-')} {v}")
        return "abrlab abr train " + " ".join(flags)


@dataclass(frozen=True)
class Episode:
    title: Title
    trace: Trace
    profile: str
    ladder_scale: float
    mode: str


def episodes(spec: TrainSpec, round_index: int) -> list[Episode]:
    """The episodes of one round: a profile, trace seed and title per episode, all
    drawn from ``(seed, round)`` so every round sees new traces."""
    rng = np.random.default_rng([spec.seed, round_index, 0xAB])
    modes = TRAIN_MODES if spec.mode == "both" else (spec.mode,)
    out = []
    for k in range(spec.traces_per_round):
        profile = KINDS[k % len(KINDS)]
        mode = modes[(k // len(KINDS)) % len(modes)]  # every kind in every mode
        trace_seed = int(rng.integers(2**31))
        title_seed = int(rng.integers(2**31))
        short = bool(rng.random() < SHORT_SEGMENT_SHARE)
        scale = LTE_LADDER_SCALE if profile == "lte" else 1.0
        ladder = tuple((int(round(kbps * scale)), w, h) for kbps, w, h in DEFAULT_LADDER)
        seg_s = 2.0 if short else 4.0
        n_seg = int(rng.integers(40, 61)) * (2 if short else 1)
        title = generate_title(f"train-{round_index}-{k}", ladder, n_segments=n_seg, segment_duration_s=seg_s, seed=title_seed)
        if profile == "steps":
            trace = _step_schedule(trace_seed, f"steps-{round_index}-{k}")
        else:
            trace = markov_trace(profile, TRACE_DURATION_S, trace_seed)
        out.append(Episode(title, trace, profile, scale, mode))
    return out


def _step_schedule(seed: int, name: str) -> Trace:
    """A ``step_trace`` of random levels and hold times covering ``TRACE_DURATION_S``."""
    rng = np.random.default_rng(seed)
    lo, hi = (math.log(x * 1e6) for x in STEP_RATES_MBPS)
    steps = []
    t = 0.0
    while t < TRACE_DURATION_S:
        hold = round(float(rng.uniform(*STEP_HOLD_S)), 3)
        steps.append((hold, round(math.exp(float(rng.uniform(lo, hi))), -3)))
        t += hold
    return step_trace(steps, STEP_LATENCY_S, name=name)


class LinkClock:
    """The episode's link, counting its position on the trace (link time), which is what
    the oracle needs: in default mode the request latency runs on the trace, in Pensieve's
    model the 80 ms RTT does not (the session clock runs ahead of the link by it)."""

    def __init__(self, link: Any, latency_on_trace: bool) -> None:
        self.link = link
        self.latency_on_trace = latency_on_trace
        self.position_s = 0.0

    def download(self, size_bytes: int) -> tuple[float, float]:
        ttfb, transfer = self.link.download(size_bytes)
        self.position_s += transfer + (ttfb if self.latency_on_trace else 0.0)
        return ttfb, transfer

    def idle(self, seconds: float) -> None:
        self.link.idle(seconds)
        if seconds > 0:
            self.position_s += seconds


class _Labeller:
    """The ABR of a training episode: at each decision it asks the oracle for the value
    of every rung, records (features, advantages), and plays the behaviour policy."""

    name = "imitation-labeller"

    def __init__(self, ep: Episode, spec: TrainSpec, policy: TreeEnsemble | None, rng: np.random.Generator,
                 rows: list[np.ndarray], targets: list[np.ndarray]) -> None:
        self.ep = ep
        self.spec = spec
        self.cfg = mode_config(ep.mode)
        self.policy = policy
        self.rng = rng
        self.rows = rows
        self.targets = targets
        self.link = LinkClock(make_link(ep.mode, ep.trace), latency_on_trace=ep.mode == "default")

    def decide(self, ctx: Any) -> int:
        state = state_features(ctx)
        if state is None or ctx.last_rung is None:
            return 0  # nothing to learn from before the first sample
        q = action_values(
            self.ep.title, self.ep.trace, self.cfg,
            segment_index=ctx.segment_index, link_time_s=self.link.position_s, wall_s=ctx.now_s,
            buffer_s=ctx.buffer_s, last_rung=ctx.last_rung, stalled=ctx.stalled,
            horizon=self.spec.horizon, step_s=self.spec.step_s,
        )
        X = candidate_matrix(ctx, state)
        self.rows.append(X)
        self.targets.append(q - q.max())
        a = int(np.argmax(q)) if self.policy is None else choose(self.policy, ctx, state, X)
        if self.spec.explore > 0 and self.rng.random() < self.spec.explore:
            a = min(max(a + (1 if self.rng.random() < 0.5 else -1), 0), ctx.n_rungs - 1)
        return a


def collect(spec: TrainSpec, round_index: int, policy: TreeEnsemble | None) -> tuple[np.ndarray, np.ndarray, int]:
    """Play one round's episodes with the behaviour policy (the oracle when ``policy``
    is None) and return its labelled rows and the number of decisions."""
    rows: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    rng = np.random.default_rng([spec.seed, round_index, 0xE7])
    for ep in episodes(spec, round_index):
        lab = _Labeller(ep, spec, policy, rng, rows, targets)
        session = Session(ep.title, lab, lab.cfg, trace_name=ep.trace.name, keep_events=False)
        drive(session, lab.link)  # type: ignore[arg-type]
    if not rows:
        return np.empty((0, len(FEATURES))), np.empty(0), 0
    return np.concatenate(rows), np.concatenate(targets), len(rows)


def fit(X: np.ndarray, y: np.ndarray, spec: TrainSpec, n_estimators: int | None = None) -> Any:
    """Fit the ensemble to advantages clipped at ``-clip_advantage``."""
    try:
        from sklearn.ensemble import GradientBoostingRegressor
    except ImportError:  # pragma: no cover - depends on the environment
        raise TrainingError("training needs scikit-learn: pip install 'abrlab[train]'") from None
    model = GradientBoostingRegressor(
        loss="squared_error",
        init="zero",
        n_estimators=n_estimators or spec.n_estimators,
        max_depth=spec.max_depth,
        min_samples_leaf=spec.min_samples_leaf,
        learning_rate=spec.learning_rate,
        subsample=spec.subsample,
        random_state=spec.seed,
    )
    model.fit(X, np.maximum(y, -spec.clip_advantage))
    return model


def _g7(x: float) -> float:
    return float(f"{x:.7g}")


def export(model: Any, spec: TrainSpec, meta: dict[str, Any]) -> dict[str, Any]:
    """The fitted ensemble as the JSON dict :class:`abr.learned.TreeEnsemble` reads."""
    roots: list[int] = []
    left: list[int] = []
    right: list[int] = []
    feature: list[int] = []
    threshold: list[float] = []
    value: list[float] = []
    depth = 0
    lr = float(model.learning_rate)
    for est in model.estimators_[:, 0]:
        t = est.tree_
        off = len(left)
        roots.append(off)
        depth = max(depth, int(t.max_depth))
        for i in range(t.node_count):
            leaf = t.children_left[i] < 0
            left.append(-1 if leaf else int(t.children_left[i]) + off)
            right.append(-1 if leaf else int(t.children_right[i]) + off)
            feature.append(-1 if leaf else int(t.feature[i]))
            threshold.append(0.0 if leaf else _g7(float(t.threshold[i])))
            value.append(_g7(lr * float(t.value[i].ravel()[0])) if leaf else 0.0)
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "features": list(FEATURES),
        "ensemble": {
            "base": 0.0,
            "max_depth": depth,
            "roots": roots,
            "left": left,
            "right": right,
            "feature": feature,
            "threshold": threshold,
            "value": value,
        },
        "meta": meta,
    }


def train(out: str | Path, spec: TrainSpec | None = None, progress: Callable[[str], None] | None = None, **overrides: Any) -> dict[str, Any]:
    """Run DAgger with ``spec`` (or the defaults with ``overrides``), write the model to
    ``out`` and return its JSON dict."""
    spec = spec or TrainSpec(**overrides)
    spec.validate()
    say = progress or (lambda _msg: None)
    try:
        import sklearn
    except ImportError:  # pragma: no cover - depends on the environment
        raise TrainingError("training needs scikit-learn: pip install 'abrlab[train]'") from None
    Xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    policy: TreeEnsemble | None = None
    model_dict: dict[str, Any] = {}
    rounds_meta: list[dict[str, int]] = []
    decisions = 0
    for r in range(spec.rounds):
        t0 = time.perf_counter()
        X, y, n_dec = collect(spec, r, policy)
        decisions += n_dec
        Xs.append(X)
        ys.append(y)
        XA, yA = np.concatenate(Xs), np.concatenate(ys)
        last = r == spec.rounds - 1
        # the intermediate policies only steer the next round's episodes: fewer trees
        model = fit(XA, yA, spec, None if last else min(spec.rounds_trees, spec.n_estimators))
        meta = {
            "trainer": "player.imitation.train",
            "command": spec.command(),
            "seed": spec.seed,
            "spec": asdict(spec),
            "data": {
                "generator": "traces.generators.markov_trace and step_trace",
                "profiles": {p: get_profile(p).digest for p in PROFILES},
                "steps": {"rates_mbps": list(STEP_RATES_MBPS), "hold_s": list(STEP_HOLD_S), "latency_s": STEP_LATENCY_S},
                "trace_duration_s": TRACE_DURATION_S,
                "titles": "player.titlegen.generate_title, 40-60 x 4 s or 80-120 x 2 s segments "
                f"({SHORT_SEGMENT_SHARE:.0%} of episodes); lte episodes use the default ladder x {LTE_LADDER_SCALE:g}",
                "episodes": spec.rounds * spec.traces_per_round,
                "decisions": decisions,
                "rows": int(len(yA)),
            },
            "rounds": rounds_meta + [{"round": r, "decisions": n_dec}],
            "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "python": platform.python_version()},
        }
        model_dict = export(model, spec, meta)
        policy = TreeEnsemble(model_dict, "<training>")
        rounds_meta = meta["rounds"]
        say(f"round {r + 1}/{spec.rounds}: {n_dec} decisions labelled, "
            f"{len(yA)} rows in all, fitted in {time.perf_counter() - t0:.0f} s")
    with atomic_open(out) as fh:  # an earlier model of the same name survives a failure here
        fh.write(json.dumps(model_dict, separators=(",", ":"), sort_keys=True) + "\n")
    return model_dict


__all__ = ["LinkClock", "TrainSpec", "TrainingError", "collect", "episodes", "export", "fit", "train"]
