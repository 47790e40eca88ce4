"""Time series for live charts: samples folded into fixed-width time buckets.

A chart shows the whole session from t = 0. Keeping every sample and resampling it to
the screen each frame costs O(history); instead each series keeps ``capacity`` buckets
of ``bucket_s`` seconds (min, max, sum, count, last per bucket). When time runs past the
last bucket, adjacent pairs merge and the bucket width doubles, so memory is fixed,
adding a sample is O(1) amortised, and the chart's time span (``span_s``) doubles in
steps instead of creeping every frame (columns stay put between doublings, so a chart
recomputes only the columns that changed: see ``dirty_from``).
"""

from __future__ import annotations

import math

# 512 buckets over 60 s to start: spans 60, 120, 240, ... 3840 s (an hour) and on.
DEFAULT_CAPACITY = 512
DEFAULT_SPAN_S = 60.0


class TimeSeries:
    """Bucketed (t, value) samples; ``t`` never goes below 0, may arrive out of order
    within what the buckets cover (events are stamped with their own time)."""

    __slots__ = ("capacity", "bucket_s", "lo", "hi", "total", "count", "last", "last_t",
                 "dirty_from", "generation", "latest_t", "latest")

    def __init__(self, capacity: int = DEFAULT_CAPACITY, span_s: float = DEFAULT_SPAN_S) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number >= 2")
        self.capacity = capacity
        self.bucket_s = span_s / capacity
        n = capacity
        self.lo: list[float] = [math.inf] * n
        self.hi: list[float] = [-math.inf] * n
        self.total: list[float] = [0.0] * n
        self.count: list[int] = [0] * n
        self.last: list[float] = [math.nan] * n
        self.last_t: list[float] = [-math.inf] * n
        self.dirty_from = 0  # lowest bucket changed since the last ``clean()``
        self.generation = 0  # bumps when buckets merge (every column moves)
        self.latest_t = -math.inf
        self.latest: float | None = None

    @property
    def span_s(self) -> float:
        return self.bucket_s * self.capacity

    def _grow(self, t: float) -> None:
        while t >= self.span_s:
            half = self.capacity // 2
            for i in range(half):
                a, b = 2 * i, 2 * i + 1
                self.lo[i] = min(self.lo[a], self.lo[b])
                self.hi[i] = max(self.hi[a], self.hi[b])
                self.total[i] = self.total[a] + self.total[b]
                self.count[i] = self.count[a] + self.count[b]
                if self.last_t[b] >= self.last_t[a]:
                    self.last[i], self.last_t[i] = self.last[b], self.last_t[b]
                else:
                    self.last[i], self.last_t[i] = self.last[a], self.last_t[a]
            for i in range(half, self.capacity):
                self.lo[i] = math.inf
                self.hi[i] = -math.inf
                self.total[i] = 0.0
                self.count[i] = 0
                self.last[i] = math.nan
                self.last_t[i] = -math.inf
            self.bucket_s *= 2.0
            self.generation += 1
            self.dirty_from = 0

    def add(self, t: float, value: float) -> None:
        if t < 0.0:
            t = 0.0
        if t >= self.span_s:
            self._grow(t)
        i = int(t / self.bucket_s)
        if i >= self.capacity:  # float edge at the very end of the span
            i = self.capacity - 1
        if value < self.lo[i]:
            self.lo[i] = value
        if value > self.hi[i]:
            self.hi[i] = value
        self.total[i] += value
        self.count[i] += 1
        if t >= self.last_t[i]:
            self.last[i] = value
            self.last_t[i] = t
        if i < self.dirty_from:
            self.dirty_from = i
        if t >= self.latest_t:
            self.latest_t = t
            self.latest = value

    def mark(self, t0: float, t1: float, value: float = 1.0) -> None:
        """Add ``value`` to every bucket that ``[t0, t1]`` touches (intervals such as
        stalls: a bucket is marked when any part of it was stalled)."""
        if t1 < t0:
            t0, t1 = t1, t0
        if t1 >= self.span_s:
            self._grow(t1)
        w = self.bucket_s
        i0 = max(0, int(max(t0, 0.0) / w))
        i1 = min(self.capacity - 1, int(max(t1, 0.0) / w))
        for i in range(i0, i1 + 1):
            tb = min(max(t0, i * w), t1)
            self.add(tb, value)

    def clean(self) -> int:
        """Hand the lowest changed bucket to a renderer and reset the mark."""
        d = self.dirty_from
        self.dirty_from = self.capacity
        return d


def column_buckets(capacity: int, width: int, col: int) -> tuple[int, int]:
    """Buckets ``[b0, b1)`` that screen column ``col`` of ``width`` shows (at least one)."""
    b0 = col * capacity // width
    b1 = (col + 1) * capacity // width
    return b0, max(b1, b0 + 1)


def column_of_bucket(capacity: int, width: int, bucket: int) -> int:
    """The first column that shows ``bucket`` (inverse of :func:`column_buckets`)."""
    # col * capacity // width <= bucket  <=>  col <= (bucket * width + width - 1) // capacity
    c = (bucket * width) // capacity
    while c > 0 and column_buckets(capacity, width, c)[0] > bucket:
        c -= 1
    return max(0, min(c, width - 1))
