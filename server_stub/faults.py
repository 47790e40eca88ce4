"""Fault injection for an edge: the lab's chaos monkey.

Set per edge through its admin API (``PUT /_admin/faults``); each response draws its
fate from a seeded generator, so a fault run can be repeated:

- ``error_rate``: fraction of content responses answered ``error_status`` (503);
- ``reset_rate``: fraction whose connection is reset (TCP RST) part-way through the
  body, at ``reset_at`` (fraction of the body, random when None);
- ``stall_rate``: fraction that stop sending part-way (``stall_at``) for ``stall_s``
  session seconds (forever when ``stall_s`` is None: the client's read timeout fires);
- ``delay_s``: session seconds added to every content response's first byte;
- ``down``: the edge drops every connection, health checks included, as a dead
  machine would.

Rates apply to content routes (manifests, init, segments); ``only`` narrows them to
one kind of object (``"segment"`` for instance).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, fields
from typing import Any


class FaultError(ValueError):
    pass


@dataclass
class FaultConfig:
    error_rate: float = 0.0
    error_status: int = 503
    reset_rate: float = 0.0
    reset_at: float | None = None
    stall_rate: float = 0.0
    stall_at: float | None = None
    stall_s: float | None = None
    delay_s: float = 0.0
    down: bool = False
    only: str | None = None  # "segment", "manifest", "init", "file" or None for all
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "reset_rate", "stall_rate"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise FaultError(f"{name} must be a fraction in [0, 1], not {v!r}")
        for name in ("reset_at", "stall_at"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, (int, float)) or not 0.0 <= v < 1.0):
                raise FaultError(f"{name} must be in [0, 1) or null, not {v!r}")
        if not isinstance(self.delay_s, (int, float)) or self.delay_s < 0:
            raise FaultError("delay_s must be >= 0")
        if self.stall_s is not None and (not isinstance(self.stall_s, (int, float)) or self.stall_s < 0):
            raise FaultError("stall_s must be >= 0 or null")
        if not isinstance(self.error_status, int) or not 400 <= self.error_status <= 599:
            raise FaultError("error_status must be an HTTP error status (400-599)")
        if self.only not in (None, "segment", "manifest", "init", "file"):
            raise FaultError("only must be one of segment, manifest, init, file or null")

    @classmethod
    def from_dict(cls, d: Any, base: "FaultConfig | None" = None) -> "FaultConfig":
        if not isinstance(d, dict):
            raise FaultError("faults must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise FaultError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        values = asdict(base) if base is not None else {}
        values.update(d)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Fate:
    """What happens to one response."""

    error: bool = False
    reset_at: float | None = None  # fraction of the body
    stall_at: float | None = None
    stall_s: float | None = None
    delay_s: float = 0.0


NO_FAULT = Fate()


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None) -> None:
        self.set(config or FaultConfig())
        self.injected = {"errors": 0, "resets": 0, "stalls": 0}

    def set(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)

    @property
    def down(self) -> bool:
        return self.config.down

    def draw(self, kind: str) -> Fate:
        c = self.config
        if c.only is not None and c.only != kind:
            return NO_FAULT
        if not (c.error_rate or c.reset_rate or c.stall_rate or c.delay_s):
            return NO_FAULT
        rng = self._rng
        if c.error_rate and rng.random() < c.error_rate:
            self.injected["errors"] += 1
            return Fate(error=True, delay_s=c.delay_s)
        reset_at = stall_at = None
        if c.reset_rate and rng.random() < c.reset_rate:
            reset_at = c.reset_at if c.reset_at is not None else rng.uniform(0.05, 0.95)
            self.injected["resets"] += 1
        elif c.stall_rate and rng.random() < c.stall_rate:
            stall_at = c.stall_at if c.stall_at is not None else rng.uniform(0.05, 0.95)
            self.injected["stalls"] += 1
        return Fate(reset_at=reset_at, stall_at=stall_at, stall_s=c.stall_s, delay_s=c.delay_s)
