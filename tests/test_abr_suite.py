"""Every algorithm of the suite against decisions computed by hand from its paper or
player source (constants quoted in abr/*.py)."""

import json
import math

import numpy as np
import pytest

from abr import create
from abr.abandon import DashJsAbandon, WithAbandonment
from abr.base import AbrContext, Decision, Progress, TransferSample
from abr.registry import BUILTIN, describe_all
from player.presentation import Rung, Title, Track
from player.sim import simulate
from qoe.events import SegmentAbandoned
from traces import constant_trace
from traces.model import Provenance, Trace

KBPS = (300, 750, 1200, 1850, 2850, 4300)
BPS = tuple(k * 1000 for k in KBPS)
NOMINAL = tuple(b * 4 // 8 for b in BPS)  # 150,000 ... 2,150,000 bytes per 4 s segment


def ctx_for(buffer_s=10.0, last=None, index=5, rows=None, n=60, max_buffer_s=50.0, now=100.0):
    rows = rows or [NOMINAL] * n
    c = AbrContext(rungs=BPS, bitrates_bps=BPS, size_rows=rows, durations=[4.0] * len(rows), max_buffer_s=max_buffer_s)
    c.buffer_s = buffer_s
    c.last_rung = last
    c.segment_index = index
    c.segment_duration_s = 4.0
    c.now_s = now
    return c


def feed(algo, rate_bps, n=5, size=500_000, ttfb=0.0):
    for _ in range(n):
        algo.on_download(TransferSample(0.0, size, ttfb, size * 8.0 / rate_bps), None)


def value(d):
    return d.rung if isinstance(d, Decision) else d


# ----------------------------------------------------------------------------- BBA
def test_bba1_chunk_map_reservoir_cushion_between():
    a = create("bba1")
    # CBR sizes: the dynamic reservoir is its floor (5 s); the upper reservoir is the top
    # 10 % of 50 s, so the cushion runs from 5 s to 45 s.
    assert a.reservoir_s(ctx_for()) == 5.0
    assert a.decide(ctx_for(buffer_s=5.0, last=3)) == 0  # at the reservoir
    assert a.decide(ctx_for(buffer_s=45.0, last=0)) == 5  # top of the cushion
    # halfway (25 s): f = 150,000 + (2,150,000 - 150,000) / 2 = 1,150,000 bytes; from
    # rung 0 that passes the next size up (375,000): highest rung smaller than f = 3.
    assert a.decide(ctx_for(buffer_s=25.0, last=0)) == 3
    # from rung 3, f sits between sizes of rungs 2 and 4: stay (hysteresis)
    assert a.decide(ctx_for(buffer_s=25.0, last=3)) == 3
    # from rung 5, f <= size of rung 4 (1,425,000): lowest rung bigger than f = 4
    assert a.decide(ctx_for(buffer_s=25.0, last=5)) == 4


def test_bba1_dynamic_reservoir_grows_with_big_upcoming_chunks():
    a = create("bba1")
    big = (NOMINAL[0] * 2,) + NOMINAL[1:]
    # the next 100 s (twice the 50 s buffer) at R_min take 200 s to download: 100 s extra,
    # clamped to 40 % of the buffer = 20 s
    assert a.reservoir_s(ctx_for(rows=[big] * 60)) == pytest.approx(20.0)
    rows = [big] * 5 + [NOMINAL] * 55  # 20 s of content at 2x: 20 s extra
    assert a.reservoir_s(ctx_for(rows=rows, index=0)) == pytest.approx(20.0)
    rows = [big] * 2 + [NOMINAL] * 58  # 8 s at 2x: 8 s extra
    assert a.reservoir_s(ctx_for(rows=rows, index=0)) == pytest.approx(8.0)


def test_bba2_startup_ramp():
    a = create("bba2")
    # chunk of 4 s downloaded in 0.25 s: dB = 3.75 s > 0.875 x 4 at an empty buffer
    a.on_download(TransferSample(0.0, 150_000, 0.0, 0.25), None)
    assert a.decide(ctx_for(buffer_s=0.5, last=0)) == 1  # the chunk map alone says 0
    # a 1 s download: dB = 3 s = 0.75 V, below the threshold at this buffer -> stay
    a.on_download(TransferSample(0.0, 375_000, 0.0, 1.0), None)
    assert a.decide(ctx_for(buffer_s=0.5, last=1)) == 1
    # the buffer shrank (download longer than the segment): startup ends, map decides
    a.on_download(TransferSample(0.0, 375_000, 0.0, 5.0), None)
    assert a.decide(ctx_for(buffer_s=0.5, last=1)) == 0
    assert not a._startup


# ----------------------------------------------------------------------------- BOLA
def test_bola_basic_scores_at_buffer_levels():
    a = create("bola")
    u = [math.log(b / BPS[0]) for b in BPS]
    V = (25.0 - 4.0) / (u[-1] + 5.0)  # Sabre: (buffer - segment) / (v_M + gamma_p)
    for q, want in ((0.0, 0), (10.0, 0), (16.0, 3), (20.0, 5)):
        scores = [(V * (um + 5.0) - q) / b for um, b in zip(u, BPS)]
        assert a.scores(ctx_for(buffer_s=q)) == pytest.approx(scores)
        assert max(range(6), key=lambda i: scores[i]) == want
        assert a.decide(ctx_for(buffer_s=q)) == want


def test_bola_u_and_o_cap_at_the_sustainable_rung():
    # BOLA-BASIC wants rung 5 at 20 s; the session estimate sustains 1.3 Mbps (rung 2).
    c = ctx_for(buffer_s=20.0, last=1)
    c._estimate = lambda: 1.3e6
    assert value(create("bola").decide(c)) == 5
    assert value(create("bola-u").decide(c)) == 3  # one rung above sustainable
    d = create("bola-o").decide(c)
    assert value(d) == 2
    u = [math.log(b / BPS[0]) for b in BPS]
    V = 21.0 / (u[-1] + 5.0)
    assert isinstance(d, Decision) and d.delay_s == pytest.approx(20.0 - V * (u[2] + 5.0))
    # never below the previous rung
    c.last_rung = 4
    assert value(create("bola-o").decide(c)) == 4  # wants 5, sustainable 2 < last 4: keep the last rung


def test_bola_e_parameters_startup_and_insufficient_buffer():
    a = create("bola-e")
    a._params(BPS)
    u0, uN = math.log(BPS[0]), math.log(BPS[-1])
    gp = 1 - u0 + (uN - u0) / (30.0 / 10.0 - 1)
    assert a.gp == pytest.approx(gp)
    assert a.vp == pytest.approx(10.0 / (u0 + gp - 1))
    # the lowest rung's score turns negative exactly at minimum buffer + ... :
    # Vp (u0 + gp) = 10 + Vp: at buffers below it the lowest rung is preferred over idling
    assert a.vp * (u0 + gp) == pytest.approx(10.0 + a.vp)
    # no measurement: lowest rung
    assert a.decide(ctx_for(buffer_s=0.0, last=None)) == 0
    feed(a, 2e6, n=3)
    # startup: 0.9 x 2 Mbps = 1.8 Mbps -> rung 2; buffer 9 s > 4 / 0.5 -> steady next
    assert value(a.decide(ctx_for(buffer_s=9.0, last=0))) == 2
    assert a.steady
    assert a.placeholder_s == pytest.approx(max(0.0, a.min_buffer_for(2) - 9.0))
    # steady, 2 s buffered: safe bitrate 0.5 x 2 Mbps x 2 / 4 = 0.5 Mbps -> rung 0
    a.placeholder_s = 30.0
    assert value(a.decide(ctx_for(buffer_s=2.0, last=2))) == 0


# ----------------------------------------------------------------------------- throughput
def _hls_ewma(samples, half_life):
    """hls.js EWMA (src/utils/ewma.ts) by hand: alpha = exp(ln 0.5 / half-life),
    estimate_k = v (1 - alpha^w) + alpha^w estimate_(k-1), divided by 1 - alpha^total."""
    alpha = math.exp(math.log(0.5) / half_life)
    est = total = 0.0
    for w, v in samples:
        adj = alpha**w
        est = v * (1 - adj) + adj * est
        total += w
    return est / (1 - alpha**total)


def test_hlsjs_ttfb_estimate_is_a_weighted_ewma():
    # ewma-bandwidth-estimator.ts sampleTTFB: weight sqrt(2) exp(-s^2 / 2), value
    # max(ttfb_ms, 5), half-life abrEwmaSlowVoD (9); 100 ms before any sample.
    a = create("hlsjs")
    assert a.ttfb_estimate_ms() == 100.0
    ttfbs = (0.1, 1.0, 0.002)
    for t in ttfbs:
        a.on_download(TransferSample(0.0, 500_000, t, 1.0), None)
    by_hand = _hls_ewma([(math.sqrt(2) * math.exp(-t * t / 2), max(1000 * t, 5.0)) for t in ttfbs], 9.0)
    assert a.ttfb_estimate_ms() == pytest.approx(by_hand, rel=1e-12)
    assert 100 < by_hand < 1000  # the long TTFB weighs less than the short ones


def test_hlsjs_bandwidth_sample_excludes_the_ttfb():
    # onFragBuffered: processingMs = load time - min(this TTFB, TTFB estimate), the TTFB
    # having been sampled first (FRAG_LOADED): one sample of 0.2 s + 1.8 s leaves 1.8 s.
    a = create("hlsjs")
    assert a.estimate_bps() == 500_000  # abrEwmaDefaultEstimate
    a.on_download(TransferSample(0.0, 500_000, 0.2, 1.8), None)
    assert a.ttfb_estimate_ms() == pytest.approx(200.0)
    assert a.estimate_bps() == pytest.approx(500_000 * 8 / 1.8)
    # a TTFB far above the estimate only has the estimate taken off: 2 MB in 4 s after a
    # 1 s TTFB, estimate now between 200 and 1000 ms
    a.on_download(TransferSample(0.0, 2_000_000, 1.0, 3.0), None)
    est_ms = a.ttfb_estimate_ms()
    assert 200 < est_ms < 1000
    d2 = (4000 - est_ms) / 1000
    fast = _hls_ewma([(1.8, 500_000 * 8 / 1.8), (d2, 2_000_000 * 8 / d2)], 3.0)
    slow = _hls_ewma([(1.8, 500_000 * 8 / 1.8), (d2, 2_000_000 * 8 / d2)], 9.0)
    assert a.estimate_bps() == pytest.approx(min(fast, slow), rel=1e-12)


def test_hlsjs_stay_and_up_factors():
    a = create("hlsjs")
    feed(a, 2e6, n=10, size=1_000_000, ttfb=0.0)  # TTFB 0 -> estimate 5 ms (the floor)
    assert a.estimate_bps() == pytest.approx(2e6)
    assert a.ttfb_estimate_ms() == pytest.approx(5.0)
    # from rung 2, rung 3 needs 0.7 x 2 = 1.4 Mbps >= 1.85: no; rung 2: 1.9 >= 1.2: yes
    assert a.decide(ctx_for(buffer_s=10.0, last=2)) == 2
    # from rung 3 (stay needs 0.95 x 2 = 1.9 >= 1.85): 0.005 + 1.85 x 4 / 1.9 = 3.9 s < 10 s
    assert a.decide(ctx_for(buffer_s=10.0, last=3)) == 3
    # with 3 s of buffer the 3.9 s fetch would starve: 0.005 + 1.2 x 4 / 1.9 = 2.53 s fits
    assert a.decide(ctx_for(buffer_s=3.0, last=3)) == 2


def test_hlsjs_ttfb_counts_in_the_fetch_budget():
    a = create("hlsjs")
    # 1 s to first byte, 4 s of transfer each time: the TTFB estimate converges on 1000 ms
    # and every bandwidth sample is 1 MB over 4 s = 2 Mbps
    feed(a, 2e6, n=10, size=1_000_000, ttfb=1.0)
    assert a.ttfb_estimate_ms() == pytest.approx(1000.0)
    assert a.estimate_bps() == pytest.approx(2e6)
    # rung 1 at 0.95 x 2 Mbps: 1 + 0.75 x 4 / 1.9 = 2.58 s fits 3 s; rung 2: 1 + 2.53 > 3
    assert a.decide(ctx_for(buffer_s=3.0, last=2)) == 1
    # nothing fits 1 s of buffer; allowing min(4 s, 4 s) of stall: rung 2 (3.53 < 5)
    assert a.decide(ctx_for(buffer_s=1.0, last=2)) == 2


def test_hlsjs_first_level_and_fallback():
    a = create("hlsjs")
    # firstAutoLevel: findBestLevel(500 kbps, 0 s, maxStarvationDelay 4 s, factors 1):
    # 300 kbps: 0.1 + 0.3 x 4 / 0.5 = 2.5 s < 4 s; 750 kbps > 500 kbps
    assert a.decide(ctx_for(buffer_s=0.0, last=None)) == 0
    feed(a, 0.2e6, n=10, size=100_000)
    # 200 kbps fits no rung even with 4 s of stall: the lowest rung (below the last one)
    assert a.decide(ctx_for(buffer_s=0.0, last=3)) == 0


def test_hlsjs_emergency_switch_down():
    a = create("hlsjs")
    feed(a, 2e6, n=5, size=1_000_000, ttfb=0.1)  # TTFB estimate 100 ms
    c = ctx_for(buffer_s=3.0, last=5)
    # rung 5, 2.5 s in, first byte after 0.1 s, 240 kB loaded: 100 kB/s (0.8 Mbps); the
    # rest of the nominal 4 s x 4.3 Mbps = 2.15 MB takes 19.1 s > 3 s of buffer.
    # Lower rungs at 0.8 Mbps: 0.1 + 4 x bitrate / 0.8 = 14.35, 9.35, 6.1, 3.85 s for
    # rungs 4..1, none < min(3, 4 + 0.1): the loop ends at rung 0 (3.85 s < 19.1 s), and
    # findBestLevel(300 kbps, factors 1, 3 s) finds nothing (0.1 + 4 s): rung 0
    p = Progress(5, 5, 2_150_000, 240_000, 2.5, 0.1)
    assert a.should_abandon(c, p) == 0
    b = create("hlsjs")
    feed(b, 2e6, n=5, size=1_000_000, ttfb=0.1)
    assert b.should_abandon(c, Progress(5, 5, 2_150_000, 240_000, 1.9, 0.1)) is None  # < half a segment
    # 1.9 MB loaded: the last 250 kB take 2.5 s < 12 s of buffer: keep loading
    assert b.should_abandon(ctx_for(buffer_s=12.0, last=5), Progress(5, 5, 2_150_000, 1_900_000, 2.5, 0.1)) is None
    # 10 s of buffer: rung 1 (3.85 s < min(10, 4.1)) is the first that fits; the estimate
    # (0.7 x it > 750 kbps) is reset to 750 kbps and findBestLevel(750 kbps, up to rung 1,
    # 10 s, factors 1) keeps rung 1 (0.1 + 4 s < 10 s)
    assert b.should_abandon(ctx_for(buffer_s=10.0, last=5), p) == 1
    assert b.estimate_bps() == 750_000


def test_hlsjs_emergency_uses_the_real_segment_size():
    # frag.bitrate = byteLength x 8 / duration, byteLength = stats.total once the response
    # has started: a small VBR segment at rung 5 (300 kB, not the nominal 2.15 MB)
    a = create("hlsjs")
    feed(a, 2e6, n=5, size=1_000_000, ttfb=0.1)
    # 240 kB in 2.4 s after the first byte = 100 kB/s; the last 60 kB take 0.6 s < 3 s
    assert a.should_abandon(ctx_for(buffer_s=3.0, last=5), Progress(5, 5, 300_000, 240_000, 2.5, 0.1)) is None
    # with the nominal size the same progress abandons (test_hlsjs_emergency_switch_down)
    assert a.should_abandon(ctx_for(buffer_s=3.0, last=5), Progress(5, 5, 2_150_000, 240_000, 2.5, 0.1)) == 0


def test_hlsjs_first_level_again_after_an_estimator_reset():
    # After resetEstimator(bitrate) the estimator cannot estimate until a sample, and
    # nextAutoLevel uses firstAutoLevel: findBestLevel(bitrate, 0 s, maxStarvationDelay 4 s,
    # factors 1), TTFB back to its 100 ms default. 2 s segments, reset to 1.2 Mbps:
    a = create("hlsjs")
    feed(a, 2e6, n=5, size=1_000_000, ttfb=0.1)
    a._reset_estimator(1_200_000)  # AbrController.resetEstimator, as the emergency rule does
    assert not a.can_estimate() and a.estimate_bps() == 1_200_000
    c = ctx_for(buffer_s=10.0, last=5)
    c.segment_duration_s = 2.0
    # rung 2: 1.2 >= 1.2 and 0.1 + 1.2 x 2 / 1.2 = 2.1 s < 4 s: rung 2. (getNextABRAutoLevel
    # would use 0.95 x 1.2 = 1.14 Mbps < 1.2 Mbps there and pick rung 1.)
    assert a.decide(c) == 2
    a.on_download(TransferSample(0.0, 300_000, 0.1, 2.0), None)  # a sample: 1.2 Mbps
    assert a.can_estimate() and a.decide(c) == 1


def test_shaka_estimate_thresholds_and_switch_interval():
    # SimpleAbrManager: chooseVariant at start, then suggestStreams_ from
    # segmentDownloaded (when a transfer ends), never at request time
    a = create("shaka")
    # default 1 Mbps: rung 1 accepts [0.75/0.95, 1.2/0.85] = [0.79, 1.41] Mbps; rung 0's
    # upper bound 0.75/0.85 = 0.88 Mbps is below 1 Mbps
    assert a.decide(ctx_for(now=0.0)) == 1
    a.on_download(TransferSample(1.0, 15_000, 0.0, 0.01), None)  # < 16e3 bytes: ignored
    assert a._bytes == 0
    # 100 kB in 0.2 s including 0.05 s to first byte (Shaka times the whole request):
    # 4 Mbps, but 100 kB < 128e3: still the default, no suggestion
    a.on_download(TransferSample(2.0, 100_000, 0.05, 0.15), None)
    assert not a.has_good_estimate() and a.decide(ctx_for(now=2.5)) == 1
    # 200 kB sampled: startup completes at this transfer's end (t = 3 s), estimate 4 Mbps
    # (both EWMAs, zero-factor corrected): rung 4 accepts [2.85/0.95, 4.3/0.85] = [3.0,
    # 5.06] Mbps, rung 5 needs 4.3/0.95 = 4.53 Mbps
    a.on_download(TransferSample(3.0, 100_000, 0.05, 0.15), None)
    assert a.estimate_bps() == pytest.approx(4e6)
    assert a.decide(ctx_for(now=3.5)) == 4
    # 125 kB in 1 s (1 Mbps) ending at t = 6 s: within 8 s of the choice at t = 3 s
    a.on_download(TransferSample(6.0, 125_000, 0.0, 1.0), None)
    # a request much later changes nothing: Shaka only re-chooses when a transfer ends
    assert a.decide(ctx_for(now=20.0)) == 4
    # the next transfer ends at t = 11 s, 8 s after t = 3 s: re-choose. By hand, weights
    # 0.2, 0.2, 1, 1 s at 4, 4, 1, 1 Mbps: fast (2 s) 1.344 Mbps, slow (5 s) 1.433 Mbps;
    # 1.344 is within rung 2's [1.2/0.95, 1.85/0.85] = [1.263, 2.176] Mbps
    a.on_download(TransferSample(11.0, 125_000, 0.0, 1.0), None)
    samples = [(0.2, 4e6), (0.2, 4e6), (1.0, 1e6), (1.0, 1e6)]
    by_hand = min(_hls_ewma(samples, 2.0), _hls_ewma(samples, 5.0))
    assert by_hand == pytest.approx(1.3438386e6, rel=1e-6)
    assert a.estimate_bps() == pytest.approx(by_hand, rel=1e-12)
    assert a.decide(ctx_for(now=11.5)) == 2
    assert create("shaka:preset=v2").decide(ctx_for(now=0.0)) == 0  # 500e3 before v2.3


def test_exoplayer_fraction_and_buffer_hysteresis():
    a = create("exoplayer")
    # initial 1 Mbps: (long)(1e6 * 0.7f) = 699999 (0.7f is 0.69999999) -> 300 kbps
    assert a.decide(ctx_for()) == 0
    feed(a, 2e6, n=5, size=600_000)  # 2.4 s of transfers: the median meter is used
    assert a.estimate_bps() == 2e6
    # ideal: (long)(2e6 * 0.7f) = 1,400,000 after float rounding -> rung 2 (1.2 Mbps)
    assert a.decide(ctx_for(buffer_s=9.9, last=1)) == 1  # up needs >= 10 s buffered
    assert a.decide(ctx_for(buffer_s=10.0, last=1)) == 2
    assert a.decide(ctx_for(buffer_s=25.0, last=4)) == 4  # down only under 25 s
    assert a.decide(ctx_for(buffer_s=24.9, last=4)) == 2


def test_exoplayer_meter_is_a_sliding_median():
    a = create("exoplayer")
    for r in (1e6, 5e6, 2e6):
        feed(a, r, n=1, size=1_000_000)
    assert a.estimate_bps() == 2e6


def test_exoplayer_meter_trims_the_oldest_weight_and_skips_the_ttfb():
    # DefaultBandwidthMeter times a transfer from onTransferStart (response headers in),
    # so the 0.5 s to first byte is not in the rate; SlidingPercentile weights are
    # (int) sqrt(bytes) and the oldest sample only loses the excess weight.
    a = create("exoplayer")
    for size, rate in ((640_000, 1e6), (640_000, 2e6), (1_000_000, 5e6)):
        a.on_download(TransferSample(0.0, size, 0.5, size * 8 / rate), None)
    # weights 800, 800, 1000 -> total 2600 > 2000: the 1 Mbps sample keeps 800 - 600 =
    # 200. Sorted: 1 Mbps (200), 2 Mbps (800, 1000 accumulated), 5 Mbps (1000); half of
    # 2000 is reached at 2 Mbps. (Dropping the whole oldest sample would leave 1800 and
    # the median at 5 Mbps; timing the TTFB too would give rates of 0.91/1.67/3.08 Mbps.)
    assert [w for w, _ in a.meter._samples] == [200, 800, 1000]
    assert a.estimate_bps() == 2e6
    # the first sample alone had 5.12 s >= 2 s of transfer time: the median replaced the
    # initial estimate at once
    b = create("exoplayer")
    b.on_download(TransferSample(0.0, 640_000, 0.5, 5.12), None)
    assert b.estimate_bps() == 1e6
    # a short, small transfer (0.1 s, 20 kB) is below both thresholds: initial estimate
    c = create("exoplayer:initial_estimate_bps=3000000")
    c.on_download(TransferSample(0.0, 20_000, 0.0, 0.1), None)
    assert c.estimate_bps() == 3e6


def test_festive_harmonic_mean_and_gradual_switching():
    a = create("festive:randomize=false")
    feed(a, 4e6, n=19, size=500_000)
    feed(a, 1e6, n=1, size=500_000)
    est = 20 / (19 / 4e6 + 1 / 1e6)
    assert a.estimate_bps() == pytest.approx(est)
    # 0.85 x 3.48 Mbps = 2.96 Mbps -> target rung 4. From rung 1 (k = 2 counting from 1)
    # FESTIVE goes up one rung only once the target has been above it for 2 decisions.
    assert value(a.decide(ctx_for(buffer_s=10.0, last=1, now=0.0))) == 1  # 1st wanting up
    # 2nd: reference = rung 2; cost(stay) = 1 + 12 |0.75/1.2 - 1| = 5.5 > cost(switch) =
    # 2: switch
    assert value(a.decide(ctx_for(buffer_s=10.0, last=1, now=4.0))) == 2


def test_festive_switch_up_counter_across_a_sequence():
    # window=1: the estimate is the last sample, so the target can be moved at will.
    # Segment every 4 s; the rung passed as last is the one decided before.
    a = create("festive:randomize=false,window=1")
    hi, mid = 4e6, 1.5e6  # targets: 0.85 x 4 = 3.4 Mbps -> rung 4; 0.85 x 1.5 -> rung 2
    steps = [  # (now, estimate fed before, last rung, expected decision)
        (0.0, hi, 1, 1),  # rung 1 = level k = 2: 1st decision wanting up
        (4.0, hi, 1, 2),  # 2nd: ref 2; cost stay 1 + 12 |0.75/1.2 - 1| = 5.5 > 2^1: up
        (8.0, hi, 2, 2),  # level 3 now, count restarted: 1 of 3
        (12.0, mid, 2, 2),  # target = current: the count goes back to 0
        (16.0, hi, 2, 2),  # 1 of 3
        (20.0, hi, 2, 2),  # 2 of 3
        # 3 of 3: ref 3; one switch (t = 4) within 20 s: stay 2^1 + 12 (1 - 1.2/1.85) =
        # 6.22 > switch 2^2 + 0 = 4
        (24.0, hi, 2, 3),
    ]
    for now, est, last, want in steps:
        feed(a, est, n=1)
        assert value(a.decide(ctx_for(buffer_s=10.0, last=last, now=now))) == want, now
    # up_count=run counts the segments decided in a row at the current rung instead,
    # whatever the target: 2 at rung 1 (t = 0, 4) before going up at t = 8; at rung 2
    # the t = 12 segment (target = current) counts too, so after t = 12, 16 the third,
    # t = 20, goes up (one switch, t = 8, within 20 s: 6.22 > 4) where the default waits
    b = create("festive:randomize=false,window=1,up_count=run")
    run_steps = [(0.0, hi, 1, 1), (4.0, hi, 1, 1), (8.0, hi, 1, 2), (12.0, mid, 2, 2),
                 (16.0, hi, 2, 2), (20.0, hi, 2, 3)]
    for now, est, last, want in run_steps:
        feed(b, est, n=1)
        assert value(b.decide(ctx_for(buffer_s=10.0, last=last, now=now))) == want, now


def test_festive_cost_hand_computed():
    a = create("festive:randomize=false")
    est = 2e6
    assert a.cost(1, 1, 2, est, BPS, 0.0) == pytest.approx(1 + 12 * abs(0.75 / 1.2 - 1))
    assert a.cost(2, 1, 2, est, BPS, 0.0) == pytest.approx(2 + 0.0)
    # efficiency is |b / min(w, b_ref) - 1| with w the estimate itself (CoNEXT 2012 §5.3),
    # not 0.85 w: at 1.3 Mbps the reference 1.2 Mbps is the smaller
    assert a.cost(2, 1, 2, 1.3e6, BPS, 0.0) == pytest.approx(2 + 0.0)
    assert a.cost(1, 1, 2, 1.1e6, BPS, 0.0) == pytest.approx(1 + 12 * abs(0.75 / 1.1 - 1))


def test_festive_randomized_target_buffer():
    a = create("festive:seed=3")
    feed(a, 4e6, n=3)
    d = a.decide(ctx_for(buffer_s=40.0, last=2))
    assert isinstance(d, Decision) and 6.0 <= d.delay_s <= 14.0  # 30 s +/- one 4 s segment


# ----------------------------------------------------------------------------- dash.js
def feed_kbps(algo, kbps_list, latency_s=0.0):
    """Segments whose dash.js throughput is exactly ``kbps`` (1 s downloads)."""
    for k in kbps_list:
        algo.on_download(TransferSample(0.0, k * 1000 // 8, latency_s, 1.0), None)


def test_dashjs_first_segment_at_the_initial_bitrate():
    # AbrController.getInitialBitrateFor: DEFAULT_VIDEO_BITRATE 1000 kbps -> 750 kbps rung
    assert create("dashjs").decide(ctx_for(buffer_s=0.0, last=None, index=0)) == 1


def test_dashjs_throughput_history_sliding_window_v4():
    from abr.dashjs import ThroughputHistory

    h = ThroughputHistory()
    for k in (4000, 1000, 1000, 4000, 1000, 1000, 1000, 1000):
        h.push(TransferSample(0.0, k * 125, 0.05, 1.0))
    # getSampleSize (v4): start at 4, +1 for each ratio >= 1.3 or <= 1/1.3 among
    # arr[i] / arr[i-1], i = 1 .. size-1 with the size growing: 0.25 (5), 1, 4 (6),
    # 0.25 (7), 1, 1 -> 7: mean of the last 7 = (6 x 1000 + 4000) / 7
    assert h.sample_size() == 7
    assert h.average_kbps() == pytest.approx(10_000 / 7)
    # the newest drop alone does not widen the window in v4 (it compares the oldest)
    h2 = ThroughputHistory()
    for k in (2000, 2000, 2000, 2000, 2000, 1000):
        h2.push(TransferSample(0.0, k * 125, 0.05, 1.0))
    assert h2.sample_size() == 4 and h2.average_kbps() == pytest.approx(1750.0)
    # latency: mean of the last 4 in ms
    assert h2.average_latency_ms() == pytest.approx(50.0)
    # throughput over the download time only (useDeadTimeLatency), Math.round to kbps
    h3 = ThroughputHistory()
    h3.push(TransferSample(0.0, 100_001, 0.5, 0.4))  # 8 x 100,001 B / 400 ms = 2000.02
    assert h3.kbps == [2000]


def test_dashjs_cache_hits_are_ignored_once_real_samples_exist():
    from abr.dashjs import ThroughputHistory

    h = ThroughputHistory()
    h.push(TransferSample(0.0, 50_000, 0.01, 0.02))  # 20 ms download: a cache hit, kept
    assert h.kbps == [20_000] and h.has_cached_entries
    h.push(TransferSample(0.0, 250_000, 0.05, 1.0))  # real: replaces the cache hits
    assert h.kbps == [2000] and not h.has_cached_entries
    h.push(TransferSample(0.0, 50_000, 0.01, 0.02))  # later cache hits are ignored
    assert h.kbps == [2000]


def test_dashjs_dead_time_latency_in_the_rung_choice():
    from abr.dashjs import quality_for_bitrate

    # 3200 x 0.9 = 2880 kbps -> rung 4 (2850); 400 ms of latency per 4 s segment:
    # 2880 x (1 - 0.1) = 2592 -> rung 3
    assert quality_for_bitrate(BPS, 2880, 4.0, None) == 4
    assert quality_for_bitrate(BPS, 2880, 4.0, 400.0) == 3
    assert quality_for_bitrate(BPS, 2880, 4.0, 4100.0) == 0  # latency > segment: lowest
    a = create("dashjs")
    feed_kbps(a, [3200] * 4, latency_s=0.4)
    assert value(a.decide(ctx_for(buffer_s=8.0, last=3))) == 3


def test_dashjs_switches_between_throughput_and_bola():
    a = create("dashjs")
    feed_kbps(a, [10_000] * 4)
    a.decide(ctx_for(buffer_s=18.0, last=5))
    assert not a.using_bola  # needs buffer > 18 s
    a.decide(ctx_for(buffer_s=18.1, last=5))
    assert a.using_bola
    a.decide(ctx_for(buffer_s=9.5, last=5))
    assert a.using_bola  # hysteresis: kept while > 9 s
    a.decide(ctx_for(buffer_s=9.0, last=5))
    assert not a.using_bola
    v4 = create("dashjs:preset=v4")  # stableBufferTime 12 s: 12 / 6 s
    feed_kbps(v4, [10_000] * 4)
    v4.decide(ctx_for(buffer_s=12.5, last=5))
    assert v4.using_bola


def test_dashjs_lowest_rule_wins_insufficient_buffer():
    # dash.js v4.7 (preset v4): INSUFFICIENT_BUFFER_SAFETY_FACTOR 0.5
    a = create("dashjs:preset=v4")
    feed_kbps(a, [3000] * 4)
    # (a zero latency is 1 ms in dash.js: every rate is x (1 - 0.001 / 4))
    # throughput rule: 0.9 x 3000 = 2700 kbps -> rung 3; insufficient buffer with 2.2 s:
    # 3000 x 2.2 / 4 x 0.5 = 825 kbps -> rung 1: the lowest wins
    assert value(a.decide(ctx_for(buffer_s=2.2, last=3))) == 1
    assert value(a.decide(ctx_for(buffer_s=2.0, last=3))) == 0  # exactly 750 x 0.99975
    assert value(a.decide(ctx_for(buffer_s=8.0, last=3))) == 3  # 3000 kbps: no cap
    # BUFFER_EMPTY (< 0.3 s): the throughput rule is silent, insufficient buffer says 0
    assert value(a.decide(ctx_for(buffer_s=0.2, last=3))) == 0
    # The default follows dash.js's settings (rules.insufficientBufferRule
    # throughputSafetyFactor 0.7): 3000 x 0.99975 x b / 4 x 0.7
    d = create("dashjs")
    feed_kbps(d, [3000] * 4)
    assert value(d.decide(ctx_for(buffer_s=2.2, last=3))) == 1  # 1154.7 kbps
    assert value(d.decide(ctx_for(buffer_s=3.2, last=3))) == 2  # 1679.6 kbps
    assert value(d.decide(ctx_for(buffer_s=1.4, last=3))) == 0  # 734.8 kbps


def test_dashjs_insufficient_buffer_ignores_the_first_two_segments():
    a = create("dashjs")
    feed_kbps(a, [3000])
    assert a.insufficient_buffer_rule(ctx_for(buffer_s=0.1, last=1)) is None
    feed_kbps(a, [3000])
    assert a.insufficient_buffer_rule(ctx_for(buffer_s=0.1, last=1)) == 0


def test_dashjs_switch_history_window_and_accumulation():
    from abr.dashjs import SwitchRequestHistory

    h = SwitchRequestHistory()
    h.push(3, 2)  # a drop from rung 3
    for _ in range(5):
        h.push(2, 2)  # five no-drops at rung 2
    # walking up: rung 2 gives 0 drops / 5 (5 < 6 samples); rung 3 adds its drop: 6
    # samples, 1/5 > 0.075 -> cap; rung 3 itself has a drop -> one below: 2
    assert h.max_rung(6) == 2
    for _ in range(2):
        h.push(2, 2)
    assert h.max_rung(6) == 2  # 8 decisions: the drop is still in the window
    h.push(2, 2)
    assert h.max_rung(6) is None  # 9th decision: the drop left the 8-deep window
    g = SwitchRequestHistory()
    for _ in range(6):
        g.push(1, 1)
    g.push(2, 1)
    # rung 1: 0 / 6 passes the sample size but not the ratio; rung 2 adds a drop:
    # 1 / 6 > 0.075 -> rung 2 has drops -> cap at 1
    assert g.max_rung(6) == 1
    a = create("dashjs")
    feed_kbps(a, [10_000] * 4)
    a.switches = g
    assert value(a.decide(ctx_for(buffer_s=8.0, last=2))) == 1


# ----------------------------------------------------------------------------- FastMPC
def test_fastmpc_equals_mpc_on_table_points():
    fast = create("fastmpc:buffer_max_s=20,throughput_bins=8")
    mpc = create("robustmpc:sizes=nominal")
    grid = fast.grid_mbps(BPS)
    table = fast.table(BPS, 4.0, 5)
    for last in (0, 2, 5):
        for i, b in enumerate(fast.grid_buffers()):
            for j, bw in enumerate(grid):
                dl = [[s / 1e6 / bw for s in NOMINAL] for _ in range(5)]
                assert table[last][i][j] == mpc.planner(BPS).best_first_rung(dl, [4.0] * 5, b, last)
    # between grid points FastMPC uses the point below (conservative)
    fast.history.add(grid[3] * 1.01)
    assert fast.decide(ctx_for(buffer_s=7.5, last=2)) == table[2][7][3]


# ----------------------------------------------------------------------------- abandonment
def test_dashjs_abandon_rule_hand_computed():
    # AbandonRequestsRule v4: 2.15 MB at rung 5, first byte after 0.1 s, then 1 Mbps
    # (125,000 B/s): every 100 ms report measures round(8 x bytes / ms) = 1000 kbps.
    rule = DashJsAbandon()
    c = ctx_for(buffer_s=5.0, last=5)

    def report(since_first_byte_s):
        loaded = int(125_000 * since_first_byte_s)
        return rule(c, Progress(5, 5, 2_150_000, loaded, 0.1 + since_first_byte_s, 0.1))

    assert rule(c, Progress(5, 5, 2_150_000, 0, 0.05, None)) is None  # no first byte yet
    # 5 reports by 0.5 s, but 500 ms since the first byte is not *more* than the grace
    assert [report(k / 10) for k in range(1, 6)] == [None] * 5
    # 0.6 s: mean 1000 kbps -> 17.2 s for the segment >= 1.8 x 4 s: 0.9 x 1000 kbps fits
    # rung 1 (750 kbps), whose segment (2.15 MB x 0.75 / 4.3 = 375 kB) is less than the
    # 2.075 MB still to load: abandon to rung 1, once
    assert report(0.6) == 1
    assert report(0.7) is None
    fast = DashJsAbandon()  # 9.5 Mbps: 1.8 s in all, keep loading
    got = [fast(c, Progress(6, 5, 2_150_000, int(1_187_500 * k / 10), 0.1 + k / 10, 0.1)) for k in range(1, 10)]
    assert got == [None] * 9
    deep = DashJsAbandon()  # above stableBufferTime (12 s) the rule stays out
    got = [deep(ctx_for(buffer_s=12.5, last=5), Progress(7, 5, 2_150_000, int(125_000 * k / 10), 0.1 + k / 10, 0.1))
           for k in range(1, 10)]
    assert got == [None] * 9


def test_abandon_attaches_to_any_algorithm():
    a = create("throughput:abandon=dashjs")
    assert isinstance(a, WithAbandonment) and a.describe().endswith("abandon=dashjs")
    assert a.params["abandon"] == "dashjs"
    with pytest.raises(Exception, match="unknown abandonment rule"):
        create("bba:abandon=nope")


def test_abandonment_end_to_end_in_simulation():
    # 8 Mbps for 10 s, then 0.3 Mbps: the first top-rung request after the drop is
    # abandoned by the dash.js rule, and the plain algorithm never abandons.
    rungs = tuple(Rung(b) for b in BPS)
    title = Title("t", Track("video", rungs, np.full(20, 4.0), np.tile(np.array(NOMINAL), (20, 1))))
    tr = Trace([10.0, 500.0], [8e6, 0.3e6], [0.01, 0.01], name="drop", provenance=Provenance("memory", "drop"))
    s = simulate(title, tr, create("throughput:abandon=dashjs"), mode="default")
    ab = [e for e in s.log if isinstance(e, SegmentAbandoned)]
    assert ab and all(e.to_rung < e.rung for e in ab)
    s2 = simulate(title, tr, create("throughput"), mode="default")
    assert not [e for e in s2.log if isinstance(e, SegmentAbandoned)]


# ----------------------------------------------------------------------------- learned
def _learned_title(n):
    rungs = tuple(Rung(b) for b in BPS)
    return Title("t", Track("video", rungs, np.full(n, 4.0), np.tile(np.array(NOMINAL), (n, 1))))


def test_learned_never_collapses_below_the_lowest_rung():
    s = simulate(_learned_title(15), constant_trace(0.5 * BPS[0], 600.0), create("learned"), mode="default")
    rec = s.record()
    assert len(rec.rungs) == 15 and set(rec.rungs) == {0}
    assert s.end_reason == "completed"


@pytest.mark.parametrize("rate_bps", [0.45e6, 1.0e6, 3.5e6])
def test_learned_settles_on_a_steady_link(rate_bps):
    # A constant link: no stall after startup, and once the buffer is built the policy
    # holds the highest rung the link sustains (no oscillation); near the end it may
    # spend the buffer on higher rungs, which is what the optimum does too.
    from abr.base import highest_rung_below

    s = simulate(_learned_title(40), constant_trace(rate_bps, 1000.0, 0.02), create("learned"), mode="default")
    rungs = s.video.rungs
    assert sum(s.video.stalls[1:]) == 0.0, rungs
    assert set(rungs[10:25]) == {highest_rung_below(BPS, rate_bps)}, rungs
    assert s.end_reason == "completed"


def test_learned_model_file_and_errors(tmp_path):
    from traces.generators import get_profile

    a = create("learned")
    meta = a.policy.meta
    assert meta["trainer"] == "player.imitation.train" and meta["seed"] == 0
    assert meta["command"] == "abrlab abr train --seed 0"  # the defaults make the bundled model
    assert meta["data"]["generator"] == "traces.generators.markov_trace and step_trace"
    assert meta["spec"]["mode"] == "both" and meta["data"]["episodes"] == 375
    # made from the Markov profiles shipped now (a refit of the profiles calls for a retrain)
    assert meta["data"]["profiles"] == {p: get_profile(p).digest for p in ("3g", "broadband", "wifi", "lte")}
    from importlib import resources

    assert len(resources.files("abr").joinpath("data/learned_default.json").read_bytes()) < 400_000
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "nope"}))
    with pytest.raises(Exception, match="not an abrlab learned-ABR model"):
        create(f"learned:model={bad}")
    with pytest.raises(Exception, match="no such model file"):
        create(f"learned:model={tmp_path / 'missing.json'}")
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "abrlab-learned-abr", "version": 1}))
    with pytest.raises(Exception, match="retrain"):
        create(f"learned:model={old}")


def test_exported_trees_predict_what_scikit_learn_predicts():
    from sklearn.ensemble import GradientBoostingRegressor

    from abr.learned import FEATURES, TreeEnsemble
    from player.imitation import TrainSpec, export

    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, len(FEATURES))) * 3
    y = X[:, 0] - 2 * np.abs(X[:, 5]) + (X[:, 14] > 1) * 4 + rng.normal(size=400)
    m = GradientBoostingRegressor(init="zero", n_estimators=30, max_depth=4, random_state=0).fit(X, y)
    ens = TreeEnsemble(export(m, TrainSpec(), {}))
    Xt = rng.normal(size=(200, len(FEATURES))) * 3
    # thresholds and leaves are stored to 7 significant digits
    assert ens.predict(Xt) == pytest.approx(m.predict(Xt), rel=1e-5, abs=1e-5)


def test_training_is_deterministic(tmp_path):
    from player.imitation import TrainSpec, train

    spec = TrainSpec(seed=5, rounds=2, traces_per_round=2, horizon=4, n_estimators=6, rounds_trees=3, max_depth=3)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    train(a, spec)
    train(b, spec)
    assert a.read_bytes() == b.read_bytes()
    algo = create(f"learned:model={a}")
    meta = algo.policy.meta
    assert meta["data"]["episodes"] == 4 and meta["seed"] == 5
    assert meta["command"] == "abrlab abr train --seed 5 --rounds 2 --traces 2 --horizon 4 --rounds-trees 3 --trees 6 --depth 3"
    assert len(algo.policy.roots) == 6
    other = tmp_path / "c.json"
    train(other, TrainSpec(**{**spec.__dict__, "seed": 6}))
    assert other.read_bytes() != a.read_bytes()


@pytest.mark.slow
def test_bundled_model_is_made_by_its_command(tmp_path):
    # `abrlab abr train --seed 0` (the spec recorded in the model) rebuilds the shipped
    # file byte for byte, on the library versions the file records (~6 min).
    from importlib import resources

    from player.imitation import TrainSpec, train

    meta = create("learned").policy.meta
    out = tmp_path / "m.json"
    train(out, TrainSpec(**meta["spec"]))
    assert out.read_bytes() == resources.files("abr").joinpath("data/learned_default.json").read_bytes()


def test_training_rejects_modes_without_link_time(tmp_path):
    from player.imitation import TrainingError, TrainSpec, train

    with pytest.raises(TrainingError, match="default, pensieve or both"):
        train(tmp_path / "x.json", TrainSpec(mode="sabre"))


def test_gym_env_episode_rewards_are_the_session_qoe():
    from player.gym_env import AbrEnv
    from qoe.metrics import qoe

    env = AbrEnv(_learned_title(12), [constant_trace(2e6, 300.0, 0.02)], seed=1)
    obs, info = env.reset()
    assert obs.shape == (len(env.FEATURES),) and not obs.any()  # no download yet
    total, steps, done = 0.0, 0, False
    while not done:
        obs, r, done, trunc, info = env.step(2)
        total += r
        steps += 1
    assert steps == 12
    assert total == pytest.approx(qoe(env.session.record(), "lin"))
    with pytest.raises(ValueError):
        env.step(9)


def test_gym_env_observes_what_the_learned_abr_sees():
    # The observation before a step is the state part of the features the session's ABR
    # computes when it decides that step's rung.
    from abr.learned import state_features
    from player.gym_env import AbrEnv

    env = AbrEnv(_learned_title(10), [constant_trace(3e6, 300.0, 0.03)], seed=2)
    obs, _ = env.reset()
    seen = []
    agent = env._agent
    inner = agent.decide

    def decide(ctx):
        seen.append(state_features(ctx))
        return inner(ctx)

    agent.decide = decide
    observed = []
    done = False
    while not done:
        observed.append(obs)
        obs, _, done, _, info = env.step(3)
    for o, x in zip(observed[1:], seen[1:]):
        assert o == pytest.approx(x)
    assert info["candidates"] is not None and info["candidates"].shape == (6, len(env.FEATURES) + 8)


# ----------------------------------------------------------------------------- listing
def test_every_algorithm_is_listed_with_family_params_and_source():
    rows = {r["name"]: r for r in describe_all()}
    for name in BUILTIN:
        r = rows[name]
        assert "error" not in r, r
        assert r["family"] and r["source"], name
        assert isinstance(r["params"], dict)
    assert rows["robustmpc"]["params"]["pensieve_quirks"]["default"] is False
    assert rows["hlsjs"]["params"]["bw_up_factor"]["default"] == 0.7


def test_abr_list_cli_shows_everything():
    from typer.testing import CliRunner

    from player.cli import _register, app

    _register()
    res = CliRunner().invoke(app, ["abr", "list", "--json"])
    assert res.exit_code == 0
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert set(BUILTIN) <= set(rows)
    # the abandonment rules any algorithm takes (NAME:abandon=RULE), with their constants
    assert rows["abandon=dashjs"]["family"] == "abandonment"
    assert rows["abandon=dashjs"]["params"]["multiplier"]["default"] == 1.8
    assert "hls.js" in rows["abandon=hlsjs"]["source"]
