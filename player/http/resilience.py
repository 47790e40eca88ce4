"""Retries with backoff and jitter, and a circuit breaker per edge.

- Backoff: exponential with "full jitter" (M. Brooker, "Exponential Backoff And
  Jitter", AWS Architecture Blog, 2015): attempt n waits uniform(0, min(cap, base*2^n)),
  which spreads a herd of clients that failed together.
- Circuit breaker (M. Nygard, "Release It!", 2007; the pattern Netflix's Hystrix made
  common): after ``failure_threshold`` consecutive failures an edge is *open* (skipped)
  for ``cooldown_s``; then *half-open*: one request may try it; success closes it,
  failure opens it again for twice as long (up to ``max_cooldown_s``).

Times are session seconds (the player's clock), so a faster ``--speed`` keeps the same
behaviour relative to the content.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8  # per segment (or manifest), over all edges
    base_s: float = 0.1
    cap_s: float = 2.0

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Wait before retry number ``attempt`` (0-based) when no other edge is open."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * (2.0**attempt)))


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 3, cooldown_s: float = 2.0, max_cooldown_s: float = 30.0) -> None:
        self.failure_threshold = failure_threshold
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self.cooldown_s = cooldown_s
        self.failures = 0
        self.state = CLOSED
        self.opened_at = 0.0
        self.trial_inflight = False

    def allows(self, now: float) -> bool:
        if self.state == CLOSED:
            return True
        if self.state == OPEN and now - self.opened_at >= self.cooldown_s:
            self.state = HALF_OPEN
            self.trial_inflight = False
        if self.state == HALF_OPEN and not self.trial_inflight:
            return True
        return False

    def on_attempt(self) -> None:
        if self.state == HALF_OPEN:
            self.trial_inflight = True

    def on_success(self) -> None:
        self.failures = 0
        self.state = CLOSED
        self.cooldown_s = self.base_cooldown_s
        self.trial_inflight = False

    def on_failure(self, now: float) -> None:
        self.failures += 1
        if self.state == HALF_OPEN:
            self.cooldown_s = min(self.max_cooldown_s, self.cooldown_s * 2.0)
            self._open(now)
        elif self.state == CLOSED and self.failures >= self.failure_threshold:
            self._open(now)

    def _open(self, now: float) -> None:
        self.state = OPEN
        self.opened_at = now
        self.trial_inflight = False

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.state}, failures={self.failures})"
