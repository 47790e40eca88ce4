"""An LRU cache bounded in bytes, with the counters a CDN operator watches."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    hit_bytes: int = 0
    miss_bytes: int = 0
    evictions: int = 0
    uncacheable: int = 0  # objects larger than the whole cache

    @property
    def hit_ratio(self) -> float:
        n = self.hits + self.misses
        return self.hits / n if n else 0.0

    @property
    def byte_hit_ratio(self) -> float:
        n = self.hit_bytes + self.miss_bytes
        return self.hit_bytes / n if n else 0.0

    def to_dict(self) -> dict[str, float]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "hit_bytes": self.hit_bytes,
            "miss_bytes": self.miss_bytes,
            "evictions": self.evictions,
            "uncacheable": self.uncacheable,
            "hit_ratio": self.hit_ratio,
            "byte_hit_ratio": self.byte_hit_ratio,
        }


class LruCache(Generic[V]):
    """Least-recently-used eviction; ``capacity_bytes`` bounds the sum of entry sizes."""

    def __init__(self, capacity_bytes: int) -> None:
        if capacity_bytes < 0:
            raise ValueError("capacity_bytes must be >= 0")
        self.capacity_bytes = capacity_bytes
        self.used_bytes = 0
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.stats = CacheStats()

    def get(self, key: Hashable) -> V | None:
        """The entry (now most recently used) or None; counts a hit or a miss."""
        hit = self._entries.get(key)
        if hit is None:
            self.stats.misses += 1
            return None
        self._entries.move_to_end(key)
        self.stats.hits += 1
        self.stats.hit_bytes += hit[1]
        return hit[0]

    def peek(self, key: Hashable) -> V | None:
        hit = self._entries.get(key)
        return None if hit is None else hit[0]

    def put(self, key: Hashable, value: V, size_bytes: int) -> bool:
        """Insert, evicting least recently used entries; False if it can never fit."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.used_bytes -= old[1]
        if size_bytes > self.capacity_bytes:
            self.stats.uncacheable += 1
            return False
        while self.used_bytes + size_bytes > self.capacity_bytes and self._entries:
            _, (_, n) = self._entries.popitem(last=False)
            self.used_bytes -= n
            self.stats.evictions += 1
        self._entries[key] = (value, size_bytes)
        self.used_bytes += size_bytes
        return True

    def record_miss_bytes(self, n: int) -> None:
        self.stats.miss_bytes += n

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[Hashable]:
        """Keys from least to most recently used."""
        return list(self._entries)
