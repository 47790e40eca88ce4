"""The steppable simulated driver (player.sim.Stepper), Session.set_abr/status_at and the
bandwidth-drop link (player.link.DropLink).

References: ``drive()``/``simulate()`` (the stepper must make the very same calls, so the
event logs must be equal bit for bit) and hand-computed transfer times."""

import random

import numpy as np
import pytest

from abr import create
from abr.base import AbrAlgorithm
from player.config import mode_config
from player.link import DropLink, SabreLink, TraceLink, make_link
from player.presentation import Rung, Title, Track
from player.session import PLAYING, STALLED, Session
from player.sim import Stepper, simulate
from player.titlegen import generate_title
from qoe.events import QualitySwitch, SegmentAbandoned, SegmentRequested
from traces import constant_trace, load_trace
from traces.model import Provenance, Trace
from tests.conftest import shared_path


class AbandonLate(AbrAlgorithm):
    """Test algorithm: top rung, abandon to rung 0 after 1 s of a download in flight
    (exercises the chunked download path of the driver)."""

    name = "abandon-late"

    def decide(self, ctx):
        return len(ctx.bitrates_bps) - 1

    def should_abandon(self, ctx, progress):
        return 0 if progress.elapsed_s > 1.0 and progress.rung > 0 else None


def _two_step_trace() -> Trace:
    return Trace([20.0, 20.0], [4e6, 0.6e6], [0.05, 0.1], name="two-step", provenance=Provenance("memory", "two-step"))


def _run_stepped(title, trace, abr, mode, steps, wrap=False):
    cfg = mode_config(mode)
    session = Session(title, abr, cfg, trace_name=trace.name, session_id="x")
    link = make_link(mode, trace)
    if wrap:
        link = DropLink(link)
    st = Stepper(session, link)
    t = 0.0
    rnd = random.Random(steps)
    while not st.done:
        t += rnd.uniform(0.0, steps)
        st.advance_to(t)
        status = st.status()
        assert status.t_s == t
        assert status.buffer_s >= 0.0
    return session


def _reference(title, trace, abr, mode):
    return simulate(title, trace, abr, mode, session_id="x")


CASES = [
    ("default", "bba"),
    ("default", "throughput"),
    ("default", "bola"),
    ("sabre", "bola"),
    ("sabre", "throughput"),
    ("pensieve", "bba"),
]


@pytest.mark.parametrize("mode,spec", CASES)
@pytest.mark.parametrize("wrap", [False, True])
def test_stepping_to_the_end_equals_simulate(mode, spec, wrap):
    title = generate_title(n_segments=30, seed=3)
    trace = _two_step_trace()
    ref = _reference(title, trace, create(spec, mode=mode), mode)
    for step in (0.05, 1.3, 9.0):
        got = _run_stepped(title, trace, create(spec, mode=mode), mode, step, wrap)
        assert got.log.rows == ref.log.rows
        assert got.record() == ref.record()
        assert (got.state, got.stall_count, got.rebuffer_s, got.playhead_s) == (
            ref.state, ref.stall_count, ref.rebuffer_s, ref.playhead_s)


@pytest.mark.parametrize("mode", ["default", "sabre"])
def test_stepping_equals_simulate_with_abandonment(mode):
    title = generate_title(n_segments=20, seed=5)
    trace = _two_step_trace()
    ref = _reference(title, trace, AbandonLate(), mode)
    assert ref.log.of_type(SegmentAbandoned), "the case must exercise abandonment"
    for wrap in (False, True):
        got = _run_stepped(title, trace, AbandonLate(), mode, 0.7, wrap)
        assert got.log.rows == ref.log.rows


def test_stepping_equals_simulate_on_real_traces(envivio):
    d = shared_path("traces", "hsdpa3g")
    for path in sorted(d.iterdir())[:3]:
        trace = load_trace(path)
        for mode, spec in CASES:
            ref = _reference(envivio, trace, create(spec, mode=mode), mode)
            got = _run_stepped(envivio, trace, create(spec, mode=mode), mode, 2.0)
            assert got.log.rows == ref.log.rows, (path.name, mode, spec)


def test_next_event_is_never_behind_the_clock_and_advance_is_idempotent():
    title = generate_title(n_segments=10, seed=1)
    s = Session(title, create("bba"), trace_name="c")
    st = Stepper(s, TraceLink(constant_trace(2e6)))
    st.advance_to(5.0)
    rows = list(s.log.rows)
    st.advance_to(5.0)
    st.advance_to(4.0)  # going back is a no-op
    assert s.log.rows == rows and st.clock_s == 5.0
    assert st.next_event_s > 5.0


# ----------------------------------------------------------------------------- status_at
def test_status_at_projects_without_touching_the_core():
    # 1 Mbps, no latency; 4 s segments of 250,000 B take exactly 2 s each.
    rungs = (Rung(1_000_000),)
    title = Title("flat", Track("video", rungs, np.full(3, 4.0), np.full((3, 1), 250_000)))
    cfg = mode_config("default").with_(startup_buffer_s=4.0, resume_buffer_s=4.0, max_buffer_s=4.0)
    s = Session(title, create("fixed"), cfg)
    st = Stepper(s, TraceLink(constant_trace(1e6)))
    st.advance_to(2.0)  # first segment loaded at 2.0: playing with 4 s
    assert s.state == PLAYING and s.buffer_s == 4.0
    st.advance_to(3.5)
    status = st.status()
    assert status.buffer_s == pytest.approx(2.5) and status.playhead_s == pytest.approx(1.5)
    assert status.state == PLAYING and status.playing_rung == 0
    assert s.buffer_s == 4.0 and s.now_s == 2.0  # the core itself has not moved
    # With a 4 s cap, segment 2 fits only once the buffer is empty: requested at 6.0
    # (the buffer runs dry at that instant, a stall starts), loaded at 8.0.
    st.advance_to(7.0)
    status = st.status()
    assert status.state == STALLED and status.stall_count == 1
    assert status.rebuffer_s == pytest.approx(1.0) and status.buffer_s == 0.0
    st.advance_to(9.0)  # resumed at 8.0 with 4 s: 3 s left
    status = st.status()
    assert status.state == PLAYING and status.buffer_s == pytest.approx(3.0)
    assert status.rebuffer_s == pytest.approx(2.0)
    # Same again for segment 3 (12.0 -> 14.0), then the play-out ends the session at 18.0;
    # before that instant the projection still shows the buffer playing out.
    st.advance_to(15.0)
    assert s.done and s.now_s == pytest.approx(18.0)
    status = st.status()
    assert status.state == PLAYING and status.buffer_s == pytest.approx(3.0)
    assert status.playhead_s == pytest.approx(9.0)
    st.advance_to(20.0)
    assert st.status().state == "ended" and st.status().playhead_s == pytest.approx(12.0)
    assert s.stall_count == 2 and s.rebuffer_s == pytest.approx(4.0)


# ----------------------------------------------------------------------------- set_abr
def test_set_abr_mid_session_takes_over_from_the_next_decision():
    title = generate_title(n_segments=20, seed=2)
    s = Session(title, create("fixed:rung=0"), trace_name="c")
    st = Stepper(s, TraceLink(constant_trace(20e6)))
    while len(s.log.of_type(SegmentRequested)) < 5:
        st.advance_to(st.next_event_s)
    st.set_abr(create("fixed:rung=-1"))
    st.run_to_end()
    rungs = [e.rung for e in s.log.of_type(SegmentRequested)]
    assert rungs[:5] == [0] * 5 and rungs[5:] == [5] * 15
    sw = s.log.of_type(QualitySwitch)
    assert len(sw) == 1 and sw[0].index == 5 and (sw[0].from_rung, sw[0].to_rung) == (0, 5)
    assert s.video.abr.name == "fixed"


def test_set_abr_catches_a_new_own_estimator_up_on_past_samples():
    title = generate_title(n_segments=10, seed=2)
    s = Session(title, create("fixed"), trace_name="c")
    st = Stepper(s, TraceLink(constant_trace(3e6)))
    while len(s.video.ctx.samples) < 3:
        st.advance_to(st.next_event_s)
    tp = create("throughput:safety=1.0")
    st.set_abr(tp)
    # Harmonic mean of three samples over a constant 3 Mbps link with no latency: 3 Mbps.
    assert tp.estimator.estimate_bps() == pytest.approx(3e6)
    st.run_to_end()
    assert s.done


# ----------------------------------------------------------------------------- DropLink
def test_drop_hand_computed():
    # 8 Mbps = 1,000,000 B/s. Drop to 25 % from t=1 s for 2 s; 3,000,000 B from t=0:
    # 1 s x 1e6 + 2 s x 0.25e6 = 1.5e6 B, the remaining 1.5e6 B take 1.5 s: 4.5 s.
    link = DropLink(TraceLink(constant_trace(8e6, 100.0)))
    link.add_drop(1.0, 2.0, 0.25)
    assert link.download(3_000_000) == (0.0, pytest.approx(4.5))
    assert link.clock_s == pytest.approx(4.5)
    # After the window the link is itself again: 1e6 B in 1 s.
    assert link.download(1_000_000) == (0.0, pytest.approx(1.0))


def test_drop_with_latency_and_outage_hand_computed():
    # 100 ms latency runs the clock: payload starts at 0.1 s. Drop to 25 % over [1, 3):
    # 0.9 s x 1e6 = 0.9e6, 2 s x 0.25e6 = 0.5e6, remaining 1.6e6 B take 1.6 s: 4.5 s.
    link = DropLink(TraceLink(constant_trace(8e6, 100.0, latency_s=0.1)))
    link.add_drop(1.0, 2.0, 0.25)
    ttfb, dt = link.download(3_000_000)
    assert ttfb == pytest.approx(0.1) and dt == pytest.approx(4.5)
    # An outage (factor 0) over [5, 6) of a 1e6 B download starting at 4.6 (after its
    # 0.1 s latency at 4.6 -> 4.7): 0.3 s x 1e6, 1 s nothing, 0.7 s: 2.0 s of transfer.
    link.add_drop(5.0, 1.0, 0.0)
    ttfb, dt = link.download(1_000_000)
    assert dt == pytest.approx(2.0)


def test_drop_over_a_trace_step_and_the_idle_clock():
    # Trace: 10 s at 8 Mbps then 10 s at 4 Mbps (loops). Idle 8 s, then halve capacity
    # from 8 s for 10 s and fetch 1.5e6 B: 2 s x 0.5e6 B/s = 1e6 B (to t=10), then
    # 0.5e6 B at 0.5 x 0.5e6 B/s = 2 s: transfer 4 s.
    tr = Trace([10.0, 10.0], [8e6, 4e6], [0.0, 0.0], provenance=Provenance("memory", "steps"))
    link = DropLink(TraceLink(tr))
    link.idle(8.0)
    link.add_drop(8.0, 10.0, 0.5)
    assert link.download(1_500_000)[1] == pytest.approx(4.0)
    # Same through Sabre's port (no latency in this trace): same answer.
    s_link = DropLink(SabreLink(tr))
    s_link.idle(8.0)
    s_link.add_drop(8.0, 10.0, 0.5)
    assert s_link.download(1_500_000)[1] == pytest.approx(4.0)


def test_no_drop_ahead_is_the_inner_link_exactly():
    tr = _two_step_trace()
    a, b = TraceLink(tr), DropLink(TraceLink(tr))
    b.add_drop(0.0, 0.5, 0.5)
    b.idle(1.0)
    a.idle(1.0)
    for size in (123_456, 2_000_000, 50):
        assert a.download(size) == b.download(size)


def test_drop_rejects_bad_input_and_links_without_transfer():
    from player.link import PensieveLink

    link = DropLink(TraceLink(constant_trace(1e6)))
    with pytest.raises(ValueError):
        link.add_drop(0.0, 0.0, 0.5)
    with pytest.raises(ValueError):
        link.add_drop(0.0, 1.0, 1.5)
    with pytest.raises(ValueError, match="PensieveLink"):
        DropLink(PensieveLink(constant_trace(1e6))).add_drop(0.0, 1.0, 0.5)


def test_injected_drop_bites_the_transfer_in_flight():
    # One 4 s segment of 1,000,000 B over 8 Mbps (1e6 B/s): alone it loads at 1.0 s.
    # A drop to 25 % injected at 0.5 s: 0.5e6 B by 0.5 s, the rest at 0.25e6 B/s: 2.0 s
    # more, so the load lands at 2.5 s.
    rungs = (Rung(2_000_000),)
    title = Title("one", Track("video", rungs, np.full(2, 4.0), np.full((2, 1), 1_000_000)))
    s = Session(title, create("fixed"))
    st = Stepper(s, DropLink(TraceLink(constant_trace(8e6, 100.0))))
    assert st.next_event_s == pytest.approx(1.0)
    st.advance_to(0.5)
    st.inject_drop(0.25, 10.0)
    assert st.next_event_s == pytest.approx(2.5)
    st.advance_to(2.5)
    assert s.video.next_index == 1
