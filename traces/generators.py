"""Synthetic traces: constant, a step schedule, and Markov chains with named profiles.

Every generated trace carries ``Provenance("generator", NAME, params=...)`` with all the
arguments including the seed, and :data:`GENERATORS` maps NAME back to the function, so
``traces.from_provenance`` rebuilds the very same trace (same ``sha256``).

Markov profiles (``3g``, ``lte``, ``broadband``, ``wifi``) are fitted from real traces by
``python -m traces.fit`` and shipped in ``traces/data/markov_profiles.json``; see
:mod:`traces.markov` for the model and :mod:`traces.fit` for the sources and the Wi-Fi
assumptions. Generated Markov traces have whole-millisecond entries and whole-kbps rates,
so they survive a Sabre JSON round-trip bit for bit.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from traces.markov import MarkovProfile
from traces.model import Provenance, Trace, TraceError, constant_trace

PROFILES_PATH = Path(__file__).resolve().parent / "data" / "markov_profiles.json"


@lru_cache(maxsize=4)
def _profiles_at(path: str) -> dict[str, MarkovProfile]:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise TraceError(f"cannot read Markov profiles ({e})", path) from None
    return {name: MarkovProfile.from_dict(name, d) for name, d in doc["profiles"].items()}


def load_profiles(path: str | Path | None = None) -> dict[str, MarkovProfile]:
    """The named profiles (the shipped ones by default); read once per path."""
    return _profiles_at(str(path or PROFILES_PATH))


def profile_names() -> list[str]:
    return list(load_profiles())


def get_profile(name: str) -> MarkovProfile:
    """A profile by name; ``3G-like``, ``LTE`` and ``Wi-Fi-like`` spellings are accepted."""
    profiles = load_profiles()
    key = name.strip().lower().replace("-like", "").replace("_like", "").replace("-", "")
    if key in profiles:
        return profiles[key]
    raise TraceError(f"unknown Markov profile {name!r} (known: {', '.join(profiles)})")


def step_trace(
    schedule: Sequence[Sequence[float]], latency_s: float = 0.0, name: str | None = None
) -> Trace:
    """Capacity following a schedule of ``(duration_s, rate_bps)`` or
    ``(duration_s, rate_bps, latency_s)`` steps (the trace loops)."""
    rows = [list(map(float, step)) for step in schedule]
    if not rows or any(len(r) not in (2, 3) for r in rows):
        raise TraceError("a step schedule is a list of (duration_s, rate_bps[, latency_s]) steps")
    d = [r[0] for r in rows]
    rates = [r[1] for r in rows]
    lat = [r[2] if len(r) == 3 else latency_s for r in rows]
    return Trace(
        durations_s=d,
        rates_bps=rates,
        latencies_s=lat,
        name=name or "step-" + "-".join(f"{r / 1e6:g}" for r in rates) + "Mbps",
        provenance=Provenance("generator", "step", params={"schedule": rows, "latency_s": float(latency_s)}),
    )


def markov_trace(
    profile: str,
    duration_s: float,
    seed: int,
    name: str | None = None,
    profile_sha256: str | None = None,
) -> Trace:
    """A trace of ``duration_s`` seconds from a named Markov profile, deterministic for
    ``seed``. ``profile_sha256`` (recorded in the provenance) makes a rebuild fail
    loudly, rather than differ silently, if the shipped profile has changed since."""
    prof = get_profile(profile)
    if profile_sha256 is not None and profile_sha256 != prof.digest:
        raise TraceError(
            f"Markov profile {prof.name!r} has changed since this trace was generated "
            f"(profile {profile_sha256}, now {prof.digest}); it cannot be rebuilt exactly"
        )
    if not duration_s > 0:
        raise TraceError(f"duration must be positive, got {duration_s!r}")
    step_ms = int(round(prof.step_s * 1000))
    total_ms = int(round(duration_s * 1000))
    if total_ms <= 0:
        raise TraceError(f"duration {duration_s!r} s is shorter than a millisecond")
    n = math.ceil(total_ms / step_ms)
    dur_ms = np.full(n, step_ms, dtype=np.int64)
    dur_ms[-1] = total_ms - step_ms * (n - 1)
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    rates_kbps = np.round(prof.sample(n, rng) / 1000.0)
    if not np.any(rates_kbps * dur_ms > 0):
        rates_kbps[:] = 1.0  # astronomically unlikely: a whole trace of outage; keep it valid
    return Trace(
        durations_s=dur_ms / 1000.0,
        rates_bps=rates_kbps * 1000.0,
        latencies_s=np.full(n, prof.latency_s),
        name=name or f"{prof.name}-seed{seed}",
        provenance=Provenance(
            "generator",
            "markov",
            params={"profile": prof.name, "duration_s": float(duration_s), "seed": int(seed), "profile_sha256": prof.digest},
        ),
    )


GENERATORS: dict[str, Callable[..., Trace]] = {
    "constant": constant_trace,
    "step": step_trace,
    "markov": markov_trace,
}


def generate(generator: str, **params: Any) -> Trace:
    try:
        fn = GENERATORS[generator]
    except KeyError:
        raise TraceError(f"unknown generator {generator!r} (known: {', '.join(GENERATORS)})") from None
    try:
        return fn(**params)
    except TypeError as e:
        raise TraceError(f"generator {generator!r}: {e}") from None
