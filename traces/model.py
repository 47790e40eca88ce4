"""The network trace model: piecewise-constant capacity over time.

A trace is a list of entries; entry ``i`` holds ``rates_bps[i]`` for ``durations_s[i]``
seconds and carries a per-request latency ``latencies_s[i]`` (the RTT a request started
during that entry pays before its first byte). A trace loops when it ends.

Everything downstream (the simulator's link model, the edge's shaper, statistics,
conversions) reads these three arrays; the file formats in ``traces.formats`` are only
ways in and out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class TraceError(ValueError):
    """A trace that cannot be read or is not a valid trace.

    ``str(err)`` is one line naming the file (and line, when known) and the problem,
    suitable for printing to a user without a traceback.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        self.problem = message
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


@dataclass(frozen=True)
class Provenance:
    """Where a trace came from, enough to make it again.

    ``kind`` is ``"file"`` (``source`` is the path, ``format`` the detected format) or
    ``"generator"`` (``source`` is the generator name, ``params`` its arguments including
    the seed), or ``"derived"`` (``source`` names the operation, ``parent`` the input), or
    ``"memory"`` (built by hand; cannot be rebuilt). ``traces.from_provenance`` rebuilds
    the other three.
    """

    kind: str
    source: str
    format: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    parent: "Provenance | None" = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "source": self.source}
        if self.format is not None:
            d["format"] = self.format
        if self.params:
            d["params"] = dict(self.params)
        if self.parent is not None:
            d["parent"] = self.parent.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Provenance":
        parent = d.get("parent")
        return cls(
            kind=d["kind"],
            source=d["source"],
            format=d.get("format"),
            params=dict(d.get("params", {})),
            parent=cls.from_dict(parent) if parent else None,
        )

    def describe(self) -> str:
        if self.kind == "file":
            return self.source
        if self.kind == "generator":
            args = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
            return f"{self.source}({args})"
        inner = self.parent.describe() if self.parent else "?"
        args = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.source}({inner}{',' if args else ''}{args})"


def _frozen(a: Any) -> np.ndarray:
    arr = np.array(a, dtype=np.float64, copy=True).reshape(-1)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Trace:
    """Piecewise-constant capacity over time plus per-entry latency; loops at the end.

    ``start_s`` is the time of the first entry's start on the source's own clock (0 for
    every format except a Pensieve "cooked" file whose first line is not at 0); it
    matters only for a faithful round-trip of such a file and for Pensieve's wrap-around
    quirk (on looping, Pensieve restarts at time 0, not at ``start_s``).
    ``head_rate_bps`` keeps the rate on a cooked file's first line, which Pensieve never
    uses (the rate on line i holds from t(i-1) to t(i)) but which a lossless rewrite
    must reproduce.
    """

    durations_s: np.ndarray
    rates_bps: np.ndarray
    latencies_s: np.ndarray
    name: str = "trace"
    provenance: Provenance = field(default_factory=lambda: Provenance("memory", "trace"))
    start_s: float = 0.0
    head_rate_bps: float | None = None
    # The (time_s, rate_Mbps) columns exactly as read from a cooked file, so Pensieve's
    # arithmetic can be replayed on the very same floats and the file rewritten as it was.
    cooked_columns: tuple[tuple[float, ...], tuple[float, ...]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        d = _frozen(self.durations_s)
        r = _frozen(self.rates_bps)
        lat = _frozen(self.latencies_s)
        if lat.size == 1 and d.size > 1:
            lat = _frozen(np.full(d.size, lat[0]))
        object.__setattr__(self, "durations_s", d)
        object.__setattr__(self, "rates_bps", r)
        object.__setattr__(self, "latencies_s", lat)
        src = self.provenance.source if self.provenance else None
        if d.size == 0:
            raise TraceError("trace has no entries", src)
        if not (d.size == r.size == lat.size):
            raise TraceError(
                f"entry arrays differ in length ({d.size} durations, {r.size} rates, "
                f"{lat.size} latencies)",
                src,
            )
        for arr, what in ((d, "duration"), (r, "rate"), (lat, "latency")):
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise TraceError(f"entry {bad[0] + 1}: {what} is not a finite number", src)
            neg = np.flatnonzero(arr < 0)
            if neg.size:
                raise TraceError(f"entry {neg[0] + 1}: negative {what} {float(arr[neg[0]]):g}", src)
        zero = np.flatnonzero(d <= 0)
        if zero.size:
            raise TraceError(f"entry {zero[0] + 1}: duration must be positive", src)
        if not float(np.sum(r * d)) > 0:
            raise TraceError("trace carries no capacity at all (every rate is 0)", src)

    # ------------------------------------------------------------------ derived values
    @property
    def n_entries(self) -> int:
        return int(self.durations_s.size)

    @property
    def duration_s(self) -> float:
        return float(np.sum(self.durations_s))

    @property
    def ends_s(self) -> np.ndarray:
        """End time of each entry, relative to the trace start (not ``start_s``)."""
        return np.cumsum(self.durations_s)

    @property
    def starts_s(self) -> np.ndarray:
        e = self.ends_s
        return np.concatenate(([0.0], e[:-1]))

    @property
    def total_bits(self) -> float:
        return float(np.sum(self.rates_bps * self.durations_s))

    @property
    def mean_rate_bps(self) -> float:
        """Time-weighted mean capacity over one pass of the trace."""
        return self.total_bits / self.duration_s

    def rate_at(self, t_s: float) -> float:
        """Capacity at time ``t_s`` after the trace start (the trace loops)."""
        t = float(t_s) % self.duration_s
        i = int(np.searchsorted(self.ends_s, t, side="right"))
        return float(self.rates_bps[min(i, self.n_entries - 1)])

    def latency_at(self, t_s: float) -> float:
        t = float(t_s) % self.duration_s
        i = int(np.searchsorted(self.ends_s, t, side="right"))
        return float(self.latencies_s[min(i, self.n_entries - 1)])

    def bits_until(self, t_s: float) -> float:
        """Capacity integrated from the trace start to ``t_s`` (the trace loops)."""
        t = float(t_s)
        loops, rem = divmod(t, self.duration_s)
        ends = self.ends_s
        cum = np.concatenate(([0.0], np.cumsum(self.rates_bps * self.durations_s)))
        i = int(np.searchsorted(ends, rem, side="right"))
        i = min(i, self.n_entries - 1)
        start = 0.0 if i == 0 else float(ends[i - 1])
        return loops * float(cum[-1]) + float(cum[i]) + (rem - start) * float(self.rates_bps[i])

    def cached(self, key: str, make: "Callable[[], Any]") -> Any:
        """A value derived from this (immutable) trace, computed once per trace object;
        link models keep their prepared arrays here so batch replays prepare them once."""
        cache = self.__dict__.setdefault("_derived", {})
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = make()
            return value

    # ------------------------------------------------------------------ identity
    @property
    def sha256(self) -> str:
        """Content hash over the capacity curve and latencies (not name or provenance)."""
        cached = self.__dict__.get("_sha256")
        if cached is None:
            h = hashlib.sha256()
            h.update(b"abrlab-trace-v1")
            h.update(np.float64(self.start_s).tobytes())
            for arr in (self.durations_s, self.rates_bps, self.latencies_s):
                h.update(np.ascontiguousarray(arr, dtype="<f8").tobytes())
            cached = h.hexdigest()
            object.__setattr__(self, "_sha256", cached)
        return cached

    def with_(self, **changes: Any) -> "Trace":
        """A copy with some fields replaced (arrays are re-validated)."""
        fields = dict(
            durations_s=self.durations_s,
            rates_bps=self.rates_bps,
            latencies_s=self.latencies_s,
            name=self.name,
            provenance=self.provenance,
            start_s=self.start_s,
            head_rate_bps=self.head_rate_bps,
        )
        fields.update(changes)
        # Exact cooked columns describe the unchanged curve only.
        if not ({"durations_s", "rates_bps", "start_s", "head_rate_bps"} & set(changes)):
            fields["cooked_columns"] = self.cooked_columns
        return Trace(**fields)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "provenance": self.provenance.to_dict(),
            "entries": self.n_entries,
            "duration_s": self.duration_s,
            "mean_rate_bps": self.mean_rate_bps,
        }

    def __repr__(self) -> str:
        return (
            f"Trace({self.name!r}, {self.n_entries} entries, {self.duration_s:.1f} s, "
            f"mean {self.mean_rate_bps / 1e6:.3f} Mbps, sha256={self.sha256[:12]})"
        )


def constant_trace(
    rate_bps: float,
    duration_s: float = 60.0,
    latency_s: float = 0.0,
    name: str | None = None,
) -> Trace:
    """One entry of constant capacity (it loops, so the duration only sets the period)."""
    return Trace(
        durations_s=[duration_s],
        rates_bps=[rate_bps],
        latencies_s=[latency_s],
        name=name or f"constant-{rate_bps / 1e6:g}Mbps",
        provenance=Provenance(
            "generator",
            "constant",
            params={"rate_bps": rate_bps, "duration_s": duration_s, "latency_s": latency_s},
        ),
    )


def provenance_json(trace: Trace) -> str:
    return json.dumps(trace.provenance.to_dict(), sort_keys=True)
