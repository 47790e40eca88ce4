"""The Markov-chain capacity model behind the named generator profiles.

A profile describes capacity sampled every ``step_s`` seconds as a Markov chain over
*level states* with a within-state emission:

- **States** are quantile bins of the capacity's local level: the series smoothed by a
  centred moving average over ``smooth_steps`` steps (circular, since traces loop),
  cut at ``edges_bps``. Defining states on the local level rather than on each raw
  sample keeps the chain's memory close to the real traces' (a raw-sample chain forgets
  a 3G dip within a few seconds; the logs stay low for tens of seconds).
- **Transitions** are maximum-likelihood counts of state(t) -> state(t+1), each trace
  counted as a loop (its last step followed by its first, as a looping trace plays).
  Counting every trace as a cycle makes each state's in- and out-counts equal, so the
  empirical state occupancy is exactly the chain's stationary distribution.
- **Emission**: given the state, the capacity is drawn from the empirical distribution
  of the real samples in that state (stored as ``quantiles`` quantiles, interpolated
  linearly), through a Gaussian copula whose normal score follows an AR(1) with
  coefficient ``within_state_rho`` while the chain stays in a state and restarts when
  it moves: successive samples in a state are as correlated as in the data.

:func:`series_stats` computes the statistics a profile is judged by (mean, spread,
percentiles, autocorrelation, state occupancy), identically for the real traces (at fit
time, stored as ``fitted``) and for generated ones (in tests).
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

STAT_LAGS = (1, 5)


def smooth_circular(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over ``width`` samples, wrapping at the ends (traces loop)."""
    if width <= 1 or x.size == 0:
        return np.asarray(x, dtype=np.float64)
    left = width // 2
    right = width - 1 - left
    idx = np.arange(-left, x.size + right) % x.size
    return np.convolve(x[idx], np.full(width, 1.0 / width), mode="valid")


def states_of(x: np.ndarray, edges_bps: Sequence[float], smooth_steps: int) -> np.ndarray:
    return np.searchsorted(np.asarray(edges_bps, dtype=np.float64), smooth_circular(x, smooth_steps), side="right")


def series_stats(
    series: Sequence[np.ndarray], edges_bps: Sequence[float], smooth_steps: int, lags: Sequence[int] = STAT_LAGS
) -> dict[str, Any]:
    """Pooled statistics of several capacity series (one per trace), in bit/s.

    Autocorrelation at lag k pools the within-series pairs (x_t, x_t+k) around the pooled
    mean and variance; occupancy is the share of samples in each level state.
    """
    x = np.concatenate([np.asarray(s, dtype=np.float64) for s in series])
    mu = float(x.mean())
    var = float(x.var())
    acf = {}
    for k in lags:
        num = 0.0
        n = 0
        for s in series:
            if len(s) > k:
                num += float(np.sum((s[:-k] - mu) * (s[k:] - mu)))
                n += len(s) - k
        acf[str(k)] = num / n / var if n and var > 0 else float("nan")
    states = np.concatenate([states_of(np.asarray(s, dtype=np.float64), edges_bps, smooth_steps) for s in series])
    occ = np.bincount(states, minlength=len(edges_bps) + 1) / states.size
    return {
        "samples": int(x.size),
        "mean_bps": mu,
        "std_bps": var**0.5,
        "p10_bps": float(np.percentile(x, 10)),
        "p50_bps": float(np.percentile(x, 50)),
        "p90_bps": float(np.percentile(x, 90)),
        "acf": acf,
        "occupancy": [float(v) for v in occ],
    }


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclass(frozen=True)
class MarkovProfile:
    name: str
    label: str
    step_s: float
    latency_s: float
    smooth_steps: int
    edges_bps: tuple[float, ...]
    transition_counts: tuple[tuple[int, ...], ...]
    emission_quantiles_bps: tuple[tuple[float, ...], ...]
    within_state_rho: float
    fitted: dict[str, Any] = field(default_factory=dict, compare=False)
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    # ---------------------------------------------------------------- the model
    @property
    def n_states(self) -> int:
        return len(self.transition_counts)

    @property
    def transition_matrix(self) -> np.ndarray:
        c = np.asarray(self.transition_counts, dtype=np.float64)
        return c / c.sum(axis=1, keepdims=True)

    @property
    def stationary(self) -> np.ndarray:
        """Occupancy of each state (row sums: exact for loop-counted transitions)."""
        c = np.asarray(self.transition_counts, dtype=np.float64)
        return c.sum(axis=1) / c.sum()

    def model_dict(self) -> dict[str, Any]:
        """The parameters that determine generated traces (not the fit's statistics)."""
        return {
            "step_s": self.step_s,
            "latency_s": self.latency_s,
            "smooth_steps": self.smooth_steps,
            "edges_bps": list(self.edges_bps),
            "transition_counts": [list(r) for r in self.transition_counts],
            "emission_quantiles_bps": [list(r) for r in self.emission_quantiles_bps],
            "within_state_rho": self.within_state_rho,
        }

    @property
    def digest(self) -> str:
        """A short hash of :meth:`model_dict`: generated traces record it, so a rebuild
        can tell when the shipped profile has changed since."""
        blob = json.dumps(self.model_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, **self.model_dict(), "fitted": self.fitted, "source": self.source}

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> "MarkovProfile":
        return cls(
            name=name,
            label=d["label"],
            step_s=float(d["step_s"]),
            latency_s=float(d["latency_s"]),
            smooth_steps=int(d["smooth_steps"]),
            edges_bps=tuple(float(v) for v in d["edges_bps"]),
            transition_counts=tuple(tuple(int(v) for v in r) for r in d["transition_counts"]),
            emission_quantiles_bps=tuple(tuple(float(v) for v in r) for r in d["emission_quantiles_bps"]),
            within_state_rho=float(d["within_state_rho"]),
            fitted=dict(d.get("fitted", {})),
            source=dict(d.get("source", {})),
        )

    # ---------------------------------------------------------------- sampling
    def sample(self, n_steps: int, rng: np.random.Generator) -> np.ndarray:
        """``n_steps`` capacity samples (bit/s). All random numbers are drawn up front in
        a fixed order, so a seed gives the same series on every run."""
        if n_steps <= 0:
            return np.empty(0)
        first_u = rng.random()
        move_u = rng.random(n_steps)
        eps = rng.standard_normal(n_steps)
        cum_rows = [list(np.cumsum(row)) for row in self.transition_matrix]
        last = self.n_states - 1
        rho = self.within_state_rho
        keep = math.sqrt(max(0.0, 1.0 - rho * rho))
        state = min(bisect_right(list(np.cumsum(self.stationary)), first_u), last)
        z = float(eps[0])
        states = np.empty(n_steps, dtype=np.int64)
        u = np.empty(n_steps)
        states[0] = state
        u[0] = _phi(z)
        for t in range(1, n_steps):
            nxt = min(bisect_right(cum_rows[state], float(move_u[t])), last)
            z = rho * z + keep * float(eps[t]) if nxt == state else float(eps[t])
            state = nxt
            states[t] = state
            u[t] = _phi(z)
        out = np.empty(n_steps)
        grid = np.linspace(0.0, 1.0, len(self.emission_quantiles_bps[0]))
        for k in range(self.n_states):
            m = states == k
            if m.any():
                out[m] = np.interp(u[m], grid, self.emission_quantiles_bps[k])
        return out
