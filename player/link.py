"""Trace-driven link models for the simulated driver.

A link owns a cursor into a :class:`traces.Trace` (which loops) and answers two
questions: how long does a request for S bytes take from now (time to first byte plus
transfer time), and what happens to the cursor while the player idles.

- :class:`TraceLink` is our own model: the request pays the latency of the trace entry
  it starts in (the link's clock runs during it), then the payload is pushed through the
  capacity curve. Transfer time comes from cumulative capacity plus a binary search, not
  from stepping through time.
- :class:`PensieveLink` and :class:`SabreLink` are number-for-number ports of the
  reference simulators' network code, kept in their original units and arithmetic order
  so results compare exactly; their quirks are documented where they occur.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Protocol

from traces.formats import cooked_arrays
from traces.model import Trace


class Link(Protocol):
    def download(self, size_bytes: int) -> tuple[float, float]:
        """Fetch ``size_bytes`` now; returns ``(ttfb_s, transfer_s)`` and moves the cursor."""
        ...

    def idle(self, seconds: float) -> None:
        """The player does not use the link for ``seconds``."""
        ...


def _prepare(trace: Trace, efficiency: float) -> tuple[list[float], list[float], list[float], list[float]]:
    ends = [float(x) for x in trace.ends_s]
    rates = [float(x) * efficiency for x in trace.rates_bps]
    cum = [0.0]  # bits delivered from the pass start to each entry boundary
    acc = 0.0
    prev = 0.0
    for e, r in zip(ends, rates):
        acc += (e - prev) * r
        cum.append(acc)
        prev = e
    return ends, rates, cum, [float(x) for x in trace.latencies_s]


class TraceLink:
    """Capacity curve with per-request latency; ``efficiency`` scales the payload rate.

    The cursor keeps the position within the current pass of the trace (``offset_s``)
    and the number of completed passes, so long sessions do not lose precision.
    """

    __slots__ = ("trace", "efficiency", "_ends", "_cum", "_rates", "_lat", "_period", "_period_bits", "offset_s", "loops")

    def __init__(self, trace: Trace, efficiency: float = 1.0, start_s: float = 0.0) -> None:
        if not 0 < efficiency <= 1:
            raise ValueError("efficiency must be in (0, 1]")
        self.trace = trace
        self.efficiency = efficiency
        self._ends, self._rates, self._cum, self._lat = trace.cached(
            f"tracelink-{efficiency!r}", lambda: _prepare(trace, efficiency)
        )
        self._period = self._ends[-1]
        self._period_bits = self._cum[-1]
        self.offset_s = 0.0
        self.loops = 0
        if start_s:
            self.idle(start_s)

    @property
    def position_s(self) -> float:
        return self.loops * self._period + self.offset_s

    def _entry(self, off: float) -> int:
        i = bisect_right(self._ends, off)
        n = len(self._ends)
        return i if i < n else n - 1

    def latency_now(self) -> float:
        return self._lat[self._entry(self.offset_s)]

    def idle(self, seconds: float) -> None:
        if seconds <= 0:
            return
        off = self.offset_s + seconds
        if off >= self._period:
            k = math.floor(off / self._period)
            self.loops += k
            off -= k * self._period
            if off >= self._period:  # float edge
                off = 0.0
                self.loops += 1
        self.offset_s = off

    def _bits_at(self, off: float) -> float:
        i = self._entry(off)
        start = self._ends[i - 1] if i > 0 else 0.0
        return self._cum[i] + (off - start) * self._rates[i]

    def transfer_time(self, size_bytes: float) -> float:
        """Seconds to push ``size_bytes`` from the cursor (does not move it)."""
        bits = size_bytes * 8.0
        off = self.offset_s
        i = self._entry(off)
        rate = self._rates[i]
        room = (self._ends[i] - off) * rate
        if bits <= room and rate > 0:
            return bits / rate  # common case: done within the current entry
        target = self._bits_at(off) + bits
        period_bits = self._period_bits
        k = 0
        if target > period_bits:
            k = math.floor(target / period_bits)
            target -= k * period_bits
            if target <= 0.0:  # exactly at a pass boundary
                k -= 1
                target += period_bits
        j = bisect_left(self._cum, target) - 1  # entry in which the target is reached
        if j < 0:
            j = 0
        start = self._ends[j - 1] if j > 0 else 0.0
        r = self._rates[j]
        t_in = start + ((target - self._cum[j]) / r if r > 0 else 0.0)
        return k * self._period + t_in - off

    def latency(self) -> float:
        """Start a request: pay the current entry's latency (the trace runs meanwhile)."""
        ttfb = self.latency_now()
        if ttfb:
            self.idle(ttfb)
        return ttfb

    def download(self, size_bytes: int) -> tuple[float, float]:
        ttfb = self.latency()
        dt = self.transfer_time(size_bytes)
        self.idle(dt)
        return ttfb, dt

    def transfer(self, size_bytes: float, max_s: float) -> tuple[float, float]:
        """Push up to ``size_bytes`` for at most ``max_s``: ``(bytes_sent, seconds)``."""
        need = self.transfer_time(size_bytes)
        if need <= max_s:
            self.idle(need)
            return float(size_bytes), need
        before = self._bits_at(self.offset_s) + self.loops * self._period_bits
        self.idle(max_s)
        after = self._bits_at(self.offset_s) + self.loops * self._period_bits
        return max(0.0, (after - before) / 8.0), max_s


class PensieveLink:
    """Pensieve's ``fixed_env.Environment`` network model, in its own units.

    Quirks reproduced on purpose (hongzimao/pensieve, test/fixed_env.py):
    - payload is 95 % of capacity (PACKET_PAYLOAD_PORTION);
    - a flat 80 ms (LINK_RTT) is added to each chunk's delay, but the trace pointer does
      not advance during it;
    - the rate on line i holds from t(i-1) to t(i), so line 0's rate is never used;
    - each session starts at t(0); on wrapping, the pointer restarts at line 1 with the
      previous time set to 0 (not t(0));
    - sleeps (buffer over the cap) advance the trace.
    """

    PACKET_PAYLOAD_PORTION = 0.95
    LINK_RTT_MS = 80.0

    __slots__ = ("_time", "_bw", "_n", "ptr", "last_time")

    def __init__(self, trace: Trace) -> None:
        times, bws = trace.cached("pensieve-cooked", lambda: cooked_arrays(trace))
        self._time = times
        self._bw = bws  # Mbps (read-only here)
        self._n = len(bws)
        self.ptr = 1
        self.last_time = times[0]

    def download(self, size_bytes: int) -> tuple[float, float]:
        cooked_time = self._time
        cooked_bw = self._bw
        n = self._n
        ptr = self.ptr
        last = self.last_time
        delay = 0.0
        sent = 0.0
        portion = self.PACKET_PAYLOAD_PORTION
        while True:
            throughput = cooked_bw[ptr] * 1000000.0 / 8.0
            duration = cooked_time[ptr] - last
            packet_payload = throughput * duration * portion
            if sent + packet_payload > size_bytes:
                fractional_time = (size_bytes - sent) / throughput / portion
                delay += fractional_time
                last += fractional_time
                break
            sent += packet_payload
            delay += duration
            last = cooked_time[ptr]
            ptr += 1
            if ptr >= n:
                ptr = 1
                last = 0.0
        self.ptr = ptr
        self.last_time = last
        # Pensieve: delay *= 1000; delay += LINK_RTT (ms). We hand the core seconds.
        return self.LINK_RTT_MS / 1000.0, delay

    def idle(self, seconds: float) -> None:
        sleep_time = seconds * 1000.0
        cooked_time = self._time
        n = self._n
        while True:
            duration = cooked_time[self.ptr] - self.last_time
            if duration > sleep_time / 1000.0:
                self.last_time += sleep_time / 1000.0
                break
            sleep_time -= duration * 1000.0
            self.last_time = cooked_time[self.ptr]
            self.ptr += 1
            if self.ptr >= n:
                self.ptr = 1
                self.last_time = 0.0


class SabreLink:
    """Sabre's ``NetworkModel`` (UMass-LIDS/sabre, src/sabre.py), in its own units
    (ms, bits, kbit/s = bits/ms).

    A request first pays a latency delay of one "latency unit": the current entry's
    latency, prorated across entries if it runs past the entry's end; the trace runs
    during it. Then the bits are pushed entry by entry. No payload overhead.
    """

    __slots__ = ("_dur", "_bw", "_lat", "_n", "index", "time_to_next")

    def __init__(self, trace: Trace) -> None:
        self._dur, self._bw, self._lat = trace.cached("sabre-units", lambda: (
            [float(d) * 1000.0 for d in trace.durations_s],
            [float(r) / 1000.0 for r in trace.rates_bps],
            [float(x) * 1000.0 for x in trace.latencies_s],
        ))
        self._n = len(self._dur)
        self.index = -1
        self.time_to_next = 0.0
        self._next_period()

    def _next_period(self) -> None:
        self.index += 1
        if self.index == self._n:
            self.index = 0
        self.time_to_next = self._dur[self.index]

    def _latency_delay(self, delay_units: float) -> float:
        total = 0.0
        while delay_units > 0:
            current = self._lat[self.index]
            time = delay_units * current
            if time <= self.time_to_next:
                total += time
                self.time_to_next -= time
                delay_units = 0
            else:
                total += self.time_to_next
                delay_units -= self.time_to_next / current
                self._next_period()
        return total

    def _download_bits(self, size: float) -> float:
        total = 0.0
        while size > 0:
            bw = self._bw[self.index]
            if size <= self.time_to_next * bw:
                time = size / bw
                total += time
                self.time_to_next -= time
                size = 0
            else:
                total += self.time_to_next
                size -= self.time_to_next * bw
                self._next_period()
        return total

    def download(self, size_bytes: int) -> tuple[float, float]:
        if size_bytes <= 0:
            return 0.0, 0.0
        latency = self._latency_delay(1)
        time = self._download_bits(size_bytes * 8.0)
        return latency / 1000.0, time / 1000.0

    def idle(self, seconds: float) -> None:
        time = seconds * 1000.0
        while time > self.time_to_next:
            time -= self.time_to_next
            self._next_period()
        self.time_to_next -= time

    def transfer(self, size_bytes: float, max_s: float) -> tuple[float, float]:
        """Push up to ``size_bytes`` for at most ``max_s`` (abandonment checks)."""
        size = size_bytes * 8.0
        budget = max_s * 1000.0
        sent = 0.0
        spent = 0.0
        while size > 0 and budget > 0:
            bw = self._bw[self.index]
            span = min(self.time_to_next, budget)
            if bw > 0 and size <= span * bw:
                t = size / bw
                sent += size
                spent += t
                self.time_to_next -= t
                size = 0
                break
            sent += span * bw
            size -= span * bw
            spent += span
            budget -= span
            if span >= self.time_to_next:
                self._next_period()
            else:
                self.time_to_next -= span
        return sent / 8.0, spent / 1000.0

    def latency(self) -> float:
        return self._latency_delay(1) / 1000.0


LINKS = {"default": TraceLink, "pensieve": PensieveLink, "sabre": SabreLink}


def make_link(mode: str, trace: Trace) -> Link:
    try:
        cls = LINKS[mode]
    except KeyError:
        raise ValueError(f"unknown link mode {mode!r} (known: {', '.join(LINKS)})") from None
    return cls(trace)


class DropLink:
    """A link whose capacity is scaled by ``factor`` during windows of session time: the
    user pulling the bandwidth down for N seconds (``factor`` 0 is an outage).

    Windows are absolute session times, so they mean the same whichever request or
    idle period they fall in; the wrapper keeps its own clock (``clock_s``), advanced by
    every download (latency plus transfer) and idle period exactly as the driver's
    clock is. With no window ahead of the clock a download is the inner link's own,
    number for number. Inside a window the inner link pushes ``size / factor`` bytes
    for the window's time, of which ``factor`` reach the player (the capacity curve
    still moves on underneath, as a competing flow would leave it). Latency is not
    scaled: a drop is a capacity drop. The inner link needs ``transfer(size, max_s)``
    (``TraceLink``, ``SabreLink``); Pensieve's port has none.
    """

    __slots__ = ("inner", "clock_s", "windows")

    def __init__(self, inner: Link, start_s: float = 0.0) -> None:
        self.inner = inner
        self.clock_s = start_s
        self.windows: list[tuple[float, float, float]] = []  # (start_s, end_s, factor), sorted

    def __copy__(self) -> "DropLink":
        import copy

        twin = DropLink(copy.copy(self.inner), self.clock_s)
        twin.windows = list(self.windows)
        return twin

    @property
    def supports_drops(self) -> bool:
        return hasattr(self.inner, "transfer")

    def add_drop(self, start_s: float, duration_s: float, factor: float) -> None:
        if not self.supports_drops:
            raise ValueError(f"{type(self.inner).__name__} cannot model a bandwidth drop (no transfer())")
        if not duration_s > 0:
            raise ValueError("drop duration must be positive")
        if not 0.0 <= factor < 1.0:
            raise ValueError("drop factor must be in [0, 1)")
        self.windows.append((float(start_s), float(start_s) + float(duration_s), float(factor)))
        self.windows.sort()

    def factor_at(self, t_s: float) -> float:
        """The capacity factor at session time ``t_s`` (overlapping drops multiply)."""
        f = 1.0
        for a, b, k in self.windows:
            if a <= t_s < b:
                f *= k
        return f

    def _next_change(self, t_s: float) -> float:
        nxt = math.inf
        for a, b, _ in self.windows:
            if a > t_s:
                nxt = min(nxt, a)
            elif b > t_s:
                nxt = min(nxt, b)
        return nxt

    def _drop_ahead(self) -> bool:
        t = self.clock_s
        return any(b > t for _, b, _ in self.windows)

    def _push(self, size_bytes: float, max_s: float) -> tuple[float, float]:
        """Push up to ``size_bytes`` for at most ``max_s`` through the scaled curve."""
        inner = self.inner
        remaining = float(size_bytes)
        sent_total = 0.0
        spent = 0.0
        while remaining > 0.0 and spent < max_s:
            t = self.clock_s
            f = self.factor_at(t)
            span = min(self._next_change(t) - t, max_s - spent)
            if f == 0.0:
                if math.isinf(span):  # cannot happen: every window ends
                    raise RuntimeError("unbounded outage")
                inner.idle(span)
                dt = span
                sent = 0.0
                done = False
            else:
                need = remaining / f
                got, dt = inner.transfer(need, span)  # type: ignore[attr-defined]
                # Relative slack: SabreLink sums partial spans, so a finished push may
                # come back an ulp short of what was asked.
                done = got >= need * (1.0 - 1e-12)
                sent = remaining if done else got * f
            self.clock_s += dt
            spent += dt
            sent_total += sent
            remaining = 0.0 if done else remaining - sent
            if done:
                break
        return sent_total, spent

    def download(self, size_bytes: int) -> tuple[float, float]:
        if not self._drop_ahead():
            ttfb, dt = self.inner.download(size_bytes)
            self.clock_s += ttfb + dt
            return ttfb, dt
        ttfb = self.latency()
        _, dt = self._push(size_bytes, math.inf)
        return ttfb, dt

    def transfer(self, size_bytes: float, max_s: float) -> tuple[float, float]:
        """Push up to ``size_bytes`` for at most ``max_s`` (the abandonment path)."""
        return self._push(size_bytes, max_s)

    def latency(self) -> float:
        """Start a request on the inner link (latency is not scaled by a drop)."""
        inner = self.inner
        ttfb = inner.latency() if hasattr(inner, "latency") else 0.0  # type: ignore[attr-defined]
        self.clock_s += ttfb
        return ttfb

    def idle(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.inner.idle(seconds)
        self.clock_s += seconds
