"""Wall clock -> session clock: real time, faster, slower, or paused.

The pacer reads an injected clock (``time.monotonic`` by default; tests pass their own),
so the app never sleeps and a test can move time by hand. :class:`Pacer` drives a
simulated session, whose time is whatever the pacer says; :class:`LivePacer` follows a
session that keeps its own time (HTTP: the network does not wait), so it cannot change
speed or step, and pausing it freezes only what is shown.
"""

from __future__ import annotations

import time
from typing import Callable

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)


class _Pausable:
    paused: bool

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def toggle(self) -> bool:
        """Pause or resume; returns True when now paused."""
        if self.paused:
            self.resume()
        else:
            self.pause()
        return self.paused


class Pacer(_Pausable):
    """``session_s = base_s + speed * (wall - base_wall)`` while running; frozen while
    paused. Every change of speed or pause rebases, so session time never jumps."""

    adjustable = True  # speed and stepping are the user's to change
    fixed_reason = ""
    live = False

    def __init__(self, clock: Callable[[], float] = time.monotonic, speed: float = 1.0, paused: bool = False, start_s: float = 0.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self._clock = clock
        self._base_wall = clock()
        self._base_s = start_s
        self.speed = float(speed)
        self.paused = paused
        self.limit_s: float | None = None  # the clock stops here (every session ended)

    def now_s(self) -> float:
        if self.paused:
            t = self._base_s
        else:
            t = self._base_s + (self._clock() - self._base_wall) * self.speed
        if self.limit_s is not None and t > self.limit_s:
            return self.limit_s
        return t

    def _rebase(self) -> None:
        self._base_s = self.now_s()
        self._base_wall = self._clock()

    def pause(self) -> None:
        if not self.paused:
            self._rebase()
            self.paused = True

    def resume(self) -> None:
        if self.paused:
            self._base_wall = self._clock()
            self.paused = False

    def set_speed(self, speed: float) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self._rebase()
        self.speed = float(speed)

    def faster(self) -> float:
        for s in SPEEDS:
            if s > self.speed * (1 + 1e-9):
                self.set_speed(s)
                break
        return self.speed

    def slower(self) -> float:
        for s in reversed(SPEEDS):
            if s < self.speed * (1 - 1e-9):
                self.set_speed(s)
                break
        return self.speed

    def skip(self, seconds: float) -> None:
        """Move session time forward by ``seconds`` (a step while paused)."""
        self._rebase()
        self._base_s += seconds


class LivePacer(_Pausable):
    """The display time of a session that runs on its own clock (an HTTP session: the
    driver's scaled clock, which the edge's trace shaping shares).

    ``now_s`` is that clock (never before 0, never past ``limit_s``) while running, and
    the instant of the pause while paused: the display freezes, the session does not.
    Speed is the session's own (the stub's ``--speed``) and cannot change; there is no
    stepping. The methods that would change them leave everything as it is, so a screen
    checks ``adjustable`` and says ``fixed_reason``.
    """

    adjustable = False
    fixed_reason = "an HTTP session runs at the stub's --speed on the wall clock: its speed cannot change and it cannot step"
    live = True

    def __init__(self, clock: Callable[[], float], speed: float, paused: bool = False) -> None:
        self._clock = clock
        self.speed = float(speed)
        self.limit_s: float | None = None
        self.paused = False
        self._frozen_s = 0.0
        if paused:
            self.pause()

    def now_s(self) -> float:
        t = self._frozen_s if self.paused else max(0.0, self._clock())
        if self.limit_s is not None and t > self.limit_s:
            return self.limit_s
        return t

    def pause(self) -> None:
        if not self.paused:
            self._frozen_s = self.now_s()
            self.paused = True

    def resume(self) -> None:
        self.paused = False

    def faster(self) -> float:
        return self.speed

    def slower(self) -> float:
        return self.speed

    def skip(self, seconds: float) -> None:
        pass
