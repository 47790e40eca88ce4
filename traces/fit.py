"""Fit the named Markov profiles from the real traces; writes traces/data/markov_profiles.json.

    python -m traces.fit [--shared ../shared/traces] [--out FILE] [--check]

``--check`` fits again and compares with the shipped file instead of writing it (exit
status 1 and the differences when they disagree). The model is described in
:mod:`traces.markov`; the sources:

| profile   | source (../shared/traces)  | step | what it is |
|-----------|----------------------------|------|------------|
| 3g        | hsdpa3g (43 files)         | 1 s  | HSDPA commute logs, Oslo (Riiser et al., MMSys 2013) |
| lte       | belgium4g (20 files)       | 1 s  | 4G/LTE logs, Ghent (van der Hooft et al., IEEE Comm. Letters 2016) |
| broadband | fcc_sd (200 files)         | 5 s  | FCC Measuring Broadband America, as distributed with Sabre |
| wifi      | fcc_sd x belgium4g, derived| 1 s  | see below |

**Wi-Fi has no measured data here**, so its profile is *derived*, with stated assumptions,
and fitted by the same code as the others: a home Wi-Fi client sits behind a broadband
access link (capacity: an FCC trace, held over its 5 s entries) and reaches it over a
shared radio channel whose short-term capacity swings we take from a measured radio
channel at 1 s granularity, the LTE logs, normalised by their own mean. The client gets
``access(t) x min(1, radio(t) / mean(radio))``: the radio hop is not the bottleneck while
it is at or above its usual capacity and becomes it, proportionally, when it dips. This
follows the finding that home wireless, not the access link, is often the throughput
bottleneck (Sundaresan et al., "Home network or access link? Locating last-mile downstream
throughput bottlenecks", PAM 2016) and that Wi-Fi throughput is less stable than wired
broadband (Sommers & Barford, "Cell vs. WiFi", IMC 2012). The dips' shape and timing are
LTE's, not measured Wi-Fi's: treat the profile as a plausible stand-in, not as data.
FCC trace i is paired with LTE trace i mod 20, starting (i div 20) x 180 s into it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import math
import re
import statistics
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from traces.capacity import resampled
from traces.formats import iter_trace_files, load_trace
from traces.markov import MarkovProfile, series_stats, smooth_circular, states_of
from traces.model import Trace, TraceError

N_STATES = 20
SMOOTH_STEPS = 3
N_QUANTILES = 21
SIGNIFICANT = 6

SHIPPED = Path(__file__).resolve().parent / "data" / "markov_profiles.json"
DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "traces"

SOURCES: dict[str, dict[str, Any]] = {
    "3g": {"label": "3G-like (HSDPA commute logs, Oslo)", "folders": ["hsdpa3g"], "step_s": 1.0},
    "lte": {"label": "LTE-like (4G logs, Ghent)", "folders": ["belgium4g"], "step_s": 1.0},
    "broadband": {"label": "broadband-like (FCC Measuring Broadband America)", "folders": ["fcc_sd"], "step_s": 5.0},
    "wifi": {
        "label": "Wi-Fi-like (derived: FCC access link x LTE radio dips; no Wi-Fi data)",
        "folders": ["fcc_sd", "belgium4g"],
        "step_s": 1.0,
        "derived": "access(t) * min(1, radio(t) / mean(radio)); access = fcc_sd trace i at 1 s, "
        "radio = belgium4g trace (i mod 20) from (i div 20) * 180 s, looping",
    },
}


# ----------------------------------------------------------------------------- fitting
def _sig(x: float) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{SIGNIFICANT}g}")


def _rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return _sig(obj)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def _level_edges(levels: np.ndarray, n_states: int) -> np.ndarray:
    """Quantile cut points of the local levels, rounded to whole bit/s, none empty."""
    edges = np.unique(np.round(np.quantile(levels, np.arange(1, n_states) / n_states)))
    while True:
        counts = np.bincount(np.searchsorted(edges, levels, side="right"), minlength=edges.size + 1)
        empty = np.flatnonzero(counts == 0)
        if not empty.size:
            return edges
        k = int(empty[0])
        edges = np.delete(edges, k - 1 if k > 0 else 0)


def fit_profile(
    name: str,
    label: str,
    series: Sequence[np.ndarray],
    step_s: float,
    latency_s: float,
    source: dict[str, Any],
    n_states: int = N_STATES,
    smooth_steps: int = SMOOTH_STEPS,
    n_quantiles: int = N_QUANTILES,
) -> MarkovProfile:
    series = [np.asarray(s, dtype=np.float64) for s in series if len(s) > 1]
    if not series:
        raise TraceError(f"profile {name!r}: no trace is longer than one {step_s:g} s step")
    levels = np.concatenate([smooth_circular(s, smooth_steps) for s in series])
    edges = _level_edges(levels, n_states)
    k_states = edges.size + 1
    states = [states_of(s, edges, smooth_steps) for s in series]
    counts = np.zeros((k_states, k_states), dtype=np.int64)
    for st in states:
        np.add.at(counts, (st, np.roll(st, -1)), 1)  # each trace as a loop
    x = np.concatenate(series)
    st_all = np.concatenate(states)
    grid = np.linspace(0.0, 1.0, n_quantiles)
    emission = np.array([np.round(np.quantile(x[st_all == k], grid)) for k in range(k_states)])
    rho = _within_state_rho(series, states, emission, grid)
    fitted = _rounded(series_stats(series, edges, smooth_steps))
    return MarkovProfile(
        name=name,
        label=label,
        step_s=step_s,
        latency_s=latency_s,
        smooth_steps=smooth_steps,
        edges_bps=tuple(float(e) for e in edges),
        transition_counts=tuple(tuple(int(v) for v in row) for row in counts),
        emission_quantiles_bps=tuple(tuple(float(v) for v in row) for row in emission),
        within_state_rho=round(rho, 6),
        fitted=fitted,
        source=source,
    )


def _within_state_rho(series: Sequence[np.ndarray], states: Sequence[np.ndarray], emission: np.ndarray, grid: np.ndarray) -> float:
    """Lag-1 correlation of the samples' normal scores within their state, over the
    steps where the state does not change (the copula's AR(1) coefficient)."""
    nd = statistics.NormalDist()
    a: list[np.ndarray] = []
    b: list[np.ndarray] = []
    for s, st in zip(series, states):
        u = np.empty(s.size)
        for k in np.unique(st):
            m = st == k
            u[m] = np.interp(s[m], emission[k], grid)
        u = np.clip(u, 1e-3, 1 - 1e-3)
        z = np.array([nd.inv_cdf(float(v)) for v in u])
        same = st[:-1] == st[1:]
        a.append(z[:-1][same])
        b.append(z[1:][same])
    za = np.concatenate(a)
    zb = np.concatenate(b)
    if za.size < 3 or za.std() == 0 or zb.std() == 0:
        return 0.0
    return float(np.corrcoef(za, zb)[0, 1])


# ----------------------------------------------------------------------------- sources
def _load_folder(root: Path, folder: str) -> list[Trace]:
    path = root / folder
    if not path.is_dir():
        raise TraceError("reference trace folder not found (pass --shared)", str(path))
    return [load_trace(p) for p in iter_trace_files(path)]


def _content_digest(traces: Sequence[Trace]) -> str:
    return hashlib.sha256("\n".join(t.sha256 for t in traces).encode()).hexdigest()


def _wifi_series(access: Sequence[Trace], radio: Sequence[Trace]) -> list[np.ndarray]:
    out = []
    radio_1s = [resampled(t, 1.0) for t in radio]
    for i, tr in enumerate(access):
        acc = resampled(tr, 1.0)
        r = radio_1s[i % len(radio_1s)]
        start = (i // len(radio_1s)) * acc.size
        fluct = r[(start + np.arange(acc.size)) % r.size] / r.mean()
        out.append(acc * np.minimum(1.0, fluct))
    return out


def fit_all(shared: str | Path = DEFAULT_SHARED) -> dict[str, Any]:
    """Fit every profile from the reference traces under ``shared``; the JSON document."""
    root = Path(shared)
    loaded: dict[str, list[Trace]] = {}
    for spec in SOURCES.values():
        for folder in spec["folders"]:
            if folder not in loaded:
                loaded[folder] = _load_folder(root, folder)
    profiles = {}
    for name, spec in SOURCES.items():
        step = spec["step_s"]
        folders = spec["folders"]
        if name == "wifi":
            series = _wifi_series(loaded["fcc_sd"], loaded["belgium4g"])
            latency = float(np.median(np.concatenate([t.latencies_s for t in loaded["fcc_sd"]])))
        else:
            traces = loaded[folders[0]]
            series = [resampled(t, step) for t in traces]
            latency = float(np.median(np.concatenate([t.latencies_s for t in traces])))
        source = {
            "folders": folders,
            "files": {f: len(loaded[f]) for f in folders},
            "content_sha256": {f: _content_digest(loaded[f]) for f in folders},
            "steps": int(sum(len(s) for s in series)),
        }
        if "derived" in spec:
            source["derived"] = spec["derived"]
        profiles[name] = fit_profile(name, spec["label"], series, step, latency, source)
    return {
        "format": "abrlab-markov-profiles",
        "version": 1,
        "provenance": {
            "script": "python -m traces.fit",
            "date": _dt.datetime.now(_dt.timezone.utc).date().isoformat(),
            "source_root": "../shared/traces",
            "numpy": np.__version__,
        },
        "method": {
            "model": "Markov chain over level states with a within-state Gaussian-copula AR(1) emission (traces.markov)",
            "n_states": N_STATES,
            "smooth_steps": SMOOTH_STEPS,
            "emission_quantiles": N_QUANTILES,
            "states": "quantiles of the centred moving average (circular) of the capacity, rounded to 1 bit/s, empty ones merged",
            "transitions": "maximum-likelihood counts, each trace counted as a loop",
            "fitted_statistics": "traces.markov.series_stats of the source series (lags 1 and 5 steps)",
            "rounding": f"{SIGNIFICANT} significant digits for statistics, whole bit/s for rates",
        },
        "profiles": {name: p.to_dict() for name, p in profiles.items()},
    }


# ----------------------------------------------------------------------------- checking
def differences(expected: Any, actual: Any, where: str = "", rel: float = 1e-5) -> list[str]:
    """Where two fitted documents disagree (ignoring the fit's date, numpy version and
    source path); floats compare to ``rel``, everything else exactly."""
    if where in ("provenance",):
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for k in sorted(set(expected) | set(actual)):
            sub = f"{where}.{k}" if where else k
            if k not in expected or k not in actual:
                out.append(f"{sub}: only in {'shipped' if k in expected else 'refit'}")
            else:
                out.extend(differences(expected[k], actual[k], sub, rel))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items shipped, {len(actual)} refit"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in differences(e, a, f"{where}[{i}]", rel)]
    if isinstance(expected, float) or isinstance(actual, float):
        e, a = float(expected), float(actual)
        if math.isclose(e, a, rel_tol=rel, abs_tol=1e-12):
            return []
        return [f"{where}: shipped {e!r}, refit {a!r}"]
    return [] if expected == actual else [f"{where}: shipped {expected!r}, refit {actual!r}"]


def dump_json(doc: Any) -> str:
    """Indented JSON with every list of plain numbers on one line (a 20 x 20 count
    matrix stays 20 lines, not 400)."""
    text = json.dumps(doc, indent=1)
    return re.sub(r"\[[^\[\]{}]*\]", lambda m: " ".join(m.group().split()), text) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m traces.fit", description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder holding hsdpa3g/, belgium4g/, fcc_sd/")
    ap.add_argument("--out", type=Path, default=SHIPPED, help="where to write the profiles")
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = ap.parse_args(argv)
    try:
        doc = fit_all(args.shared)
        if args.check:
            shipped = json.loads(args.out.read_text())
            diffs = differences(shipped, json.loads(json.dumps(doc)))
            for d in diffs[:20]:
                print(d)
            print(f"{args.out}: {'differs from' if diffs else 'matches'} a fit of {args.shared}")
            return 1 if diffs else 0
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(dump_json(doc))
    except (TraceError, OSError, ValueError) as e:
        print(f"traces.fit: error: {e}", file=sys.stderr)
        return 2
    for name, p in doc["profiles"].items():
        f = p["fitted"]
        print(
            f"{name:10s} {len(p['transition_counts']):2d} states  mean {f['mean_bps'] / 1e6:7.3f} Mbps  "
            f"std {f['std_bps'] / 1e6:7.3f}  acf1 {f['acf']['1']:.3f}  rho {p['within_state_rho']:+.3f}"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
