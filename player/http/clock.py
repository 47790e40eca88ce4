"""Session clocks for the HTTP driver.

The session core runs on session seconds. Over HTTP they come from the event loop's
monotonic clock, optionally scaled: at ``speed`` k one wall second is k session seconds,
matching an edge started with ``--speed k`` (the edge shapes the trace k times faster,
the player plays k times faster). Tests inject a clock of their own.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


SPIN_S = 0.0015  # wall seconds before a deadline at which sleeping gives way to yielding


class Clock(Protocol):
    speed: float

    def start(self, now_s: float = 0.0) -> None:
        """Make now() == ``now_s`` (the session starts)."""

    def now(self) -> float:
        """Session seconds since ``start``."""

    async def sleep_until(self, t: float) -> float:
        """Return at session time ``t`` (at once if it has passed); returns the session
        time to act at (``t``, or later if the wake-up was late)."""

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

    async def sleep_until(self, t: float) -> float:
        if self._t0 is None:
            # Not started (loading before the session): now() is 0 until start().
            d = t / self.speed
        else:
            d = self._t0 + t / self.speed - self._loop_time()
        # Event-loop timers fire up to a millisecond late (the poll timeout is rounded
        # up to whole milliseconds), which --speed multiplies in session time. So sleep
        # to just short of the deadline and yield to other tasks for the rest.
        if d > SPIN_S:
            await asyncio.sleep(d - SPIN_S)
        if self._t0 is not None:
            loop = asyncio.get_running_loop()
            end = self._t0 + t / self.speed
            while loop.time() < end:
                await asyncio.sleep(0)
        return max(self.now(), t)

    def wall(self, session_s: float) -> float:
        return session_s / self.speed
