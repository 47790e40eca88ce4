"""Per-session trace shaping at the edge.

One playback session (a token's ``sid``) gets one shaped link, whatever number of
connections it opens: a token bucket whose fill rate follows the session's trace
(piecewise-constant capacity, looping) and which every response of the session drains.
The physics is the simulator's default link (``player.link.TraceLink``), so that a
session replayed in simulation and over HTTP agree:

- a request that arrives at trace time ``t`` pays the latency of the trace entry at
  ``t`` before its first byte; the trace keeps running during it;
- its bytes then go through the capacity curve from ``t + latency`` (or from where the
  session's earlier bytes left the link, when the link is busy);
- capacity the session does not use is lost (the bucket holds no tokens across idle
  periods), and there is no payload overhead.

Time: trace time is session time, ``(loop.time() - origin) * speed``. ``--speed k``
makes the trace k times faster; everything in trace seconds is divided by ``k`` to get
wall seconds.

Scheduling against absolute deadlines: a sender never sleeps "for" a duration and then
adds up what it sent. It computes, from the curve, the absolute time by which bytes are
due, sleeps until then, and sends exactly what the curve allows up to the moment it
woke (``take``). If the event loop wakes it late, it sends more in that wake-up and
the schedule does not drift; the session's accounting (``busy_until``) advances only
by the capacity the bytes actually consumed.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Callable

from traces.model import Trace


class CapacityCurve:
    """Cumulative capacity of a looping trace: ``bits_at(t)`` and its inverse."""

    __slots__ = ("trace", "_ends", "_rates", "_cum", "_lat", "period_s", "period_bits")

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self._ends = [float(x) for x in trace.ends_s]
        self._rates = [float(x) for x in trace.rates_bps]
        self._lat = [float(x) for x in trace.latencies_s]
        cum = [0.0]
        prev = 0.0
        for e, r in zip(self._ends, self._rates):
            cum.append(cum[-1] + (e - prev) * r)
            prev = e
        self._cum = cum
        self.period_s = self._ends[-1]
        self.period_bits = cum[-1]

    def _entry(self, off: float) -> int:
        i = bisect_right(self._ends, off)
        return min(i, len(self._ends) - 1)

    def _split(self, t: float) -> tuple[int, float]:
        k = math.floor(t / self.period_s)
        off = t - k * self.period_s
        if off >= self.period_s:  # float edge
            k, off = k + 1, 0.0
        return k, off

    def rate_at(self, t: float) -> float:
        return self._rates[self._entry(self._split(t)[1])]

    def latency_at(self, t: float) -> float:
        return self._lat[self._entry(self._split(t)[1])]

    def bits_at(self, t: float) -> float:
        """Capacity integrated from trace time 0 to ``t`` (``t >= 0``)."""
        if t <= 0:
            return 0.0
        k, off = self._split(t)
        i = self._entry(off)
        start = self._ends[i - 1] if i else 0.0
        return k * self.period_bits + self._cum[i] + (off - start) * self._rates[i]

    def time_at_bits(self, bits: float) -> float:
        """The earliest trace time by which ``bits`` have been delivered."""
        if bits <= 0:
            return 0.0
        k = math.floor(bits / self.period_bits)
        rem = bits - k * self.period_bits
        if rem <= 0.0:
            k -= 1
            rem += self.period_bits
        j = max(0, bisect_left(self._cum, rem) - 1)
        j = min(j, len(self._rates) - 1)
        start = self._ends[j - 1] if j else 0.0
        r = self._rates[j]
        t_in = start + ((rem - self._cum[j]) / r if r > 0 else 0.0)
        return k * self.period_s + t_in


class SessionLink:
    """One session's shaped link (a token bucket filled by the trace, see module doc)."""

    __slots__ = ("sid", "curve", "speed", "origin", "busy_until", "bytes_sent", "created", "last_used", "_clock", "name")

    def __init__(self, sid: str, curve: CapacityCurve, speed: float, origin_loop_s: float, clock: Callable[[], float], name: str = "") -> None:
        self.sid = sid
        self.curve = curve
        self.speed = speed
        self.origin = origin_loop_s
        self.busy_until = 0.0  # trace time up to which the session's capacity is spent
        self.bytes_sent = 0
        self._clock = clock
        self.created = self.last_used = clock()
        self.name = name

    def trace_now(self) -> float:
        return (self._clock() - self.origin) * self.speed

    def wall(self, trace_t: float) -> float:
        """Loop time at which trace time ``trace_t`` falls."""
        return self.origin + trace_t / self.speed

    def latency_now(self) -> float:
        return self.curve.latency_at(max(0.0, self.trace_now()))

    def take(self, want_bytes: int, now_t: float, not_before_t: float) -> int:
        """Bytes (<= ``want_bytes``) the link delivers by ``now_t`` for a transfer that
        may not start before ``not_before_t``; their capacity is consumed."""
        start = max(self.busy_until, not_before_t)
        if start >= now_t or want_bytes <= 0:
            return 0
        c = self.curve
        b0 = c.bits_at(start)
        avail = (c.bits_at(now_t) - b0) / 8.0
        if avail >= want_bytes:
            n = want_bytes
            self.busy_until = c.time_at_bits(b0 + n * 8.0)
        else:
            n = int(avail)
            if n <= 0:
                return 0
            self.busy_until = c.time_at_bits(b0 + n * 8.0)
        self.bytes_sent += n
        self.last_used = self._clock()
        return n

    def finish_time(self, remaining_bytes: int, not_before_t: float) -> float:
        """Trace time by which ``remaining_bytes`` would be through if this transfer had
        the link to itself from now on."""
        start = max(self.busy_until, not_before_t)
        c = self.curve
        return c.time_at_bits(c.bits_at(start) + remaining_bytes * 8.0)


@dataclass
class ShapingConfig:
    speed: float = 1.0
    # Trace seconds between a busy transfer's bursts (each sends what came due since):
    # the granularity of the shaped curve. In wall time it is tick_s / speed, kept
    # between min_tick_s (what an event loop can keep) and max_tick_s.
    tick_s: float = 0.01
    min_tick_s: float = 0.001
    max_tick_s: float = 0.01
    max_sessions: int = 10000
    idle_expiry_s: float = 600.0  # wall seconds without traffic before a session is dropped

    @property
    def tick_wall_s(self) -> float:
        return min(self.max_tick_s, max(self.min_tick_s, self.tick_s / self.speed))


class ShapingRegistry:
    """Shaped links by session id (the token's ``sid``)."""

    def __init__(self, config: ShapingConfig | None = None, clock: Callable[[], float] = time.monotonic,
                 unix_clock: Callable[[], float] = time.time) -> None:
        self.config = config or ShapingConfig()
        if not self.config.speed > 0:
            raise ValueError("speed must be positive")
        self._links: dict[str, SessionLink] = {}
        self._curves: dict[str, CapacityCurve] = {}  # by trace sha256: sessions share prepared curves
        self._clock = clock
        self._unix = unix_clock

    def register(self, sid: str, trace: Trace, elapsed_s: float = 0.0, origin_unix_s: float | None = None) -> SessionLink:
        """Shape session ``sid`` by ``trace``, whose time ``elapsed_s`` is now (a player
        failing over to this edge continues its trace where it was).

        ``origin_unix_s``, when given, is the Unix time at which trace time 0 fell (the
        player's session start): the trace clock is then set from the wall clock, which
        the player and the edge share to within NTP's accuracy (exactly, on one host),
        instead of from a request that took an unknown time to arrive."""
        if origin_unix_s is not None:
            elapsed_s = (self._unix() - origin_unix_s) * self.config.speed
        self.expire()
        if sid not in self._links and len(self._links) >= self.config.max_sessions:
            raise OverflowError(f"edge is shaping {len(self._links)} sessions, its limit")
        curve = self._curves.get(trace.sha256)
        if curve is None:
            curve = self._curves[trace.sha256] = CapacityCurve(trace)
        now = self._clock()
        # A negative elapsed time (an origin a moment ahead, which players use so the
        # trace is in place before it starts) makes trace time negative until then;
        # the curve carries no capacity before 0.
        link = SessionLink(sid, curve, self.config.speed, now - elapsed_s / self.config.speed, self._clock, trace.name)
        self._links[sid] = link
        return link

    def get(self, sid: str) -> SessionLink | None:
        return self._links.get(sid)

    def drop(self, sid: str) -> bool:
        return self._links.pop(sid, None) is not None

    def expire(self) -> None:
        cutoff = self._clock() - self.config.idle_expiry_s
        for sid in [s for s, l in self._links.items() if l.last_used < cutoff]:
            del self._links[sid]
        live = {l.curve.trace.sha256 for l in self._links.values()}
        for key in [k for k in self._curves if k not in live]:
            del self._curves[key]

    def __len__(self) -> int:
        return len(self._links)
