"""Session clocks for the HTTP driver.

The session core runs on session seconds. Over HTTP they come from the event loop's
monotonic clock, optionally scaled: at ``speed`` k one wall second is k session seconds,
matching an edge started with ``--speed k`` (the edge shapes the trace k times faster,
the player plays k times faster). Tests inject a clock of their own.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Clock(Protocol):
    speed: float

    def start(self, now_s: float = 0.0) -> None:
        """Make now() == ``now_s`` (the session starts)."""

    def now(self) -> float:
        """Session seconds since ``start``."""

    async def sleep_until(self, t: float) -> None:
        """Return at session time ``t`` (at once if it has passed)."""

    def wall(self, session_s: float) -> float:
        """Wall seconds a span of ``session_s`` session seconds takes."""


class ScaledClock:
    """``now() = (loop.time() - t0) * speed``; ``speed=1`` is real time.

    Sleeps target absolute loop times computed from ``t0``, so a late wake-up never
    shifts later ones.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        self._t0: float | None = None

    def _loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    def start(self, now_s: float = 0.0) -> None:
        self._t0 = self._loop_time() - now_s / self.speed

    def now(self) -> float:
        if self._t0 is None:
            return 0.0
        return (self._loop_time() - self._t0) * self.speed

    async def sleep_until(self, t: float) -> None:
        if self._t0 is None:
            # Not started (loading before the session): now() is 0 until start().
            d = t / self.speed
        else:
            d = self._t0 + t / self.speed - self._loop_time()
        if d > 0:
            await asyncio.sleep(d)

    def wall(self, session_s: float) -> float:
        return session_s / self.speed
