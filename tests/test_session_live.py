"""The session core with a live presentation: it waits at the live edge instead of
ending, grows with its tracks, and ends only when told the presentation has ended."""

from __future__ import annotations

import numpy as np

from abr.registry import create
from player.presentation import Rung, Title, Track
from player.session import Done, FetchSegment, Session, Wait


def title(n: int) -> Title:
    rungs = (Rung(500_000), Rung(1_000_000))
    return Title("live", Track("video", rungs, np.full(n, 2.0), np.full((n, 2), 100_000)))


def test_live_session_waits_at_the_edge_grows_and_ends_when_told():
    t = title(2)
    s = Session(t, create("fixed"))
    s.live = True
    s.start(0.0)
    now = 0.0
    for i in range(2):
        a = s.next_action(now)
        assert isinstance(a, FetchSegment) and a.index == i
        now += 0.5
        s.segment_loaded(now, a, a.size_bytes, 0.1, 0.4)
    a = s.next_action(now)
    assert isinstance(a, Wait) and a.reason == "live edge" and a.until_s == now
    # The buffer (4 s) drains while nothing new exists: a stall, not the end.
    now += 5.0
    a = s.next_action(now)
    assert isinstance(a, Wait) and s.state == "stalled" and not s.done
    t.video.extend([2.0, 2.0], np.full((2, 2), 100_000))
    s.live_grew()
    a = s.next_action(now)
    assert isinstance(a, FetchSegment) and a.index == 2 and s.video.ctx.segment_count == 4
    now += 0.5
    s.segment_loaded(now, a, a.size_bytes, 0.1, 0.4)
    a = s.next_action(now)
    assert isinstance(a, FetchSegment) and a.index == 3
    now += 0.5
    s.segment_loaded(now, a, a.size_bytes, 0.1, 0.4)
    assert isinstance(s.next_action(now), Wait)
    s.end_live()
    assert isinstance(s.next_action(now), Done)
    assert s.end_reason == "completed" and len(s.record().rungs) == 4
    assert s.stall_count == 1 and s.rebuffer_s > 0


def test_track_extend_keeps_the_lists_the_core_reads():
    t = title(1)
    rows, durs = t.video.size_rows, t.video.durations
    t.video.extend([3.0], [[7, 9]])
    assert t.video.size_rows is rows and rows[-1] == (7, 9)
    assert t.video.durations is durs and durs == [2.0, 3.0]
    assert t.video.sizes_bytes.shape == (2, 2) and not t.video.sizes_bytes.flags.writeable
