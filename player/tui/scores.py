"""Running KPIs and QoE of a session, folded in one event at a time.

The batch path scores a finished session with ``qoe.metrics.kpis``/``qoe`` over the
whole :class:`PlaybackRecord`; a live view must not redo that every frame. This keeps
the same quantities as running sums: the per-segment QoE reward of each new segment
comes from ``qoe.metrics.per_segment_rewards`` itself (one segment, compared with the
previous one), so the models stay defined in one place. A test holds the running
values to ``kpis()``/``qoe()`` of the finished session.
"""

from __future__ import annotations

from qoe.events import Event, PlaybackStart, SegmentLoaded, StallEnd, StallStart
from qoe.metrics import PlaybackRecord, per_segment_rewards

MODELS = ("lin", "log", "hd")


class RunningScore:
    __slots__ = ("n_rungs", "segments", "startup_s", "started", "stall_count", "rebuffer_s",
                 "_rate_time", "_time", "switches", "_switch_kbps", "time_per_rung_s",
                 "_rewards", "_first", "_prev_bps", "media")

    def __init__(self, n_rungs: int, media: str = "video") -> None:
        self.n_rungs = n_rungs
        self.media = media
        self.segments = 0
        self.startup_s = 0.0
        self.started = False
        self.stall_count = 0
        self.rebuffer_s = 0.0
        self._rate_time = 0.0  # sum of bitrate x duration (bits)
        self._time = 0.0
        self.switches = 0
        self._switch_kbps = 0.0
        self.time_per_rung_s = [0.0] * n_rungs
        self._rewards = {m: 0.0 for m in MODELS}  # segments 2.. (no startup term)
        self._first: tuple[int, float] | None = None  # first segment (bitrate, stall)
        self._prev_bps: int | None = None

    def ingest(self, ev: Event) -> None:
        if type(ev) is SegmentLoaded:
            if ev.media != self.media:
                return
            self._segment(ev.bitrate_bps, ev.rung, ev.duration_s, ev.stall_s)
        elif type(ev) is PlaybackStart:
            self.startup_s = ev.startup_s
            self.started = True
        elif type(ev) is StallStart:
            self.stall_count += 1
        elif type(ev) is StallEnd:
            self.rebuffer_s += ev.duration_s

    def _segment(self, bitrate_bps: int, rung: int, duration_s: float, stall_s: float) -> None:
        self.segments += 1
        self._rate_time += bitrate_bps * duration_s
        self._time += duration_s
        if 0 <= rung < self.n_rungs:
            self.time_per_rung_s[rung] += duration_s
        prev = self._prev_bps
        if prev is None:
            self._first = (bitrate_bps, stall_s)
        else:
            if prev != bitrate_bps:
                self.switches += 1
                self._switch_kbps += abs(bitrate_bps - prev) / 1000
            one = PlaybackRecord(bitrates_bps=[bitrate_bps], stall_s=[stall_s])
            for m in MODELS:
                # Not the first segment: no startup term; smoothness against the previous.
                self._rewards[m] += per_segment_rewards(one, m, startup_as_rebuffer=False, first_reference_bps=prev)[0]
        self._prev_bps = bitrate_bps

    @property
    def avg_bitrate_kbps(self) -> float:
        return self._rate_time / self._time / 1000 if self._time else 0.0

    @property
    def switch_magnitude_kbps(self) -> float:
        return self._switch_kbps / self.switches if self.switches else 0.0

    def qoe(self, model: str = "lin") -> float:
        """QoE so far, as ``qoe.metrics.qoe(record, model)`` (startup charged to the
        first segment as rebuffering, Pensieve's convention)."""
        total = self._rewards[model]
        if self._first is not None:
            b, stall = self._first
            one = PlaybackRecord(bitrates_bps=[b], stall_s=[stall], startup_s=self.startup_s)
            total += per_segment_rewards(one, model)[0]
        return total
