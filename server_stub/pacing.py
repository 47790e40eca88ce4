"""The edge's pacer: one clock tick for every shaped transfer.

A shaped body leaves in bursts: at each tick, each transfer sends what its session's
link (``server_stub.shaping.SessionLink.take``) says came due since its last burst. The
bursts are what a player's per-second goodput is measured against, so they must be
small (a tick of trace time is the error budget of a window edge) and cheap (at
``--speed 10`` a 10 ms trace tick is 1 ms of wall time). One task per transfer waking
every millisecond costs a timer and a task switch each; the pacer instead wakes once per
tick and walks every active transfer, writing straight to its transport.

Ticks are scheduled on absolute loop times (``t0 + k * tick``); a late tick is not made
up by extra ticks, since ``take`` already hands a late transfer everything that came due.
A transfer's last bytes get their own timer at the exact time they are due, so a
download ends when the trace says it ends, not at the next tick. Because timers fire
up to a millisecond late (the poll timeout is rounded up to whole milliseconds), every
burst sends what is due up to half a millisecond ahead, which centres the timing error
on zero.

Backpressure: a transfer whose transport holds more than ``high_water_bytes`` unsent
(the client is not reading) is skipped until it drains; its link capacity is then used
by the session's other transfers or lost, as on a real link.
"""

from __future__ import annotations

import asyncio
from typing import Any

from server_stub.shaping import SessionLink


TIMER_LEAD_S = 0.0005


class Flow:
    __slots__ = ("link", "data", "pos", "stop", "not_before", "transport", "done", "final")

    def __init__(self, link: SessionLink, data: memoryview, pos: int, stop: int, not_before: float, transport: Any, done: asyncio.Future[None]) -> None:
        self.link = link
        self.data = data
        self.pos = pos
        self.stop = stop
        self.not_before = not_before
        self.transport = transport
        self.done = done
        self.final: asyncio.TimerHandle | None = None


class Pacer:
    def __init__(self, tick_s: float, high_water_bytes: int = 1 << 20) -> None:
        if not tick_s > 0:
            raise ValueError("tick_s must be positive")
        self.tick_s = tick_s
        self.high_water_bytes = high_water_bytes
        # Timers fire late, never early: an event loop's poll rounds its timeout up to
        # the next millisecond. Sending what is due up to half that ahead centres the
        # error of each burst (and of a transfer's end) on zero instead of +0.5 ms.
        self.lead_s = TIMER_LEAD_S
        self._flows: set[Flow] = set()
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.late_ticks = 0
        self.bytes_sent = 0

    @property
    def active(self) -> int:
        return len(self._flows)

    async def send(self, transport: Any, link: SessionLink, data: memoryview, pos: int, stop: int, not_before: float) -> int:
        """Send ``data[pos:stop]`` shaped by ``link``, not before trace time ``not_before``.
        Returns the position reached; raises ConnectionResetError if the peer goes away."""
        loop = asyncio.get_running_loop()
        if pos >= stop:
            return pos
        f = Flow(link, data, pos, stop, not_before, transport, loop.create_future())
        self._flows.add(f)
        self._service(f)
        if not f.done.done():
            self._arm(f)
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run())
        try:
            await f.done
        finally:
            self._drop(f)
        return f.pos

    def _drop(self, f: Flow) -> None:
        self._flows.discard(f)
        if f.final is not None:
            f.final.cancel()
            f.final = None

    def _service(self, f: Flow) -> None:
        if f.done.done():
            return
        t = f.transport
        if t is None or t.is_closing():
            f.done.set_exception(ConnectionResetError("peer closed the connection"))
            self._drop(f)
            return
        if t.get_write_buffer_size() > self.high_water_bytes:
            return
        link = f.link
        k = link.take(f.stop - f.pos, link.trace_now() + self.lead_s * link.speed, f.not_before)
        if k:
            t.write(f.data[f.pos : f.pos + k])
            f.pos += k
            self.bytes_sent += k
            if f.pos >= f.stop:
                f.done.set_result(None)
                self._drop(f)

    def _arm(self, f: Flow) -> None:
        """A timer for the exact time the rest is due, when that falls before the next tick."""
        if f.done.done() or f.final is not None:
            return
        link = f.link
        due_wall = link.wall(link.finish_time(f.stop - f.pos, f.not_before))
        loop = asyncio.get_running_loop()
        if due_wall < loop.time() + self.tick_s:
            f.final = loop.call_at(due_wall - self.lead_s, self._final, f)

    def _final(self, f: Flow) -> None:
        f.final = None
        self._service(f)
        self._arm(f)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_t = loop.time()
        while self._flows:
            next_t += self.tick_s
            now = loop.time()
            if next_t < now:
                # Overloaded: no catch-up ticks (take() hands over what came due), but
                # let other tasks run before the next pass.
                self.late_ticks += 1
                next_t = now
                await asyncio.sleep(0)
            else:
                await asyncio.sleep(next_t - now)
            self.ticks += 1
            for f in list(self._flows):
                self._service(f)
                self._arm(f)
