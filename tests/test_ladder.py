"""The per-title encoding model: its structure, the convex hull, and the ladders."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server_stub.ladder import (
    CANDIDATE_RESOLUTIONS,
    COMPLEXITY_PRESETS,
    NETFLIX_FIXED_LADDER,
    EncodePoint,
    LadderError,
    RateQualityModel,
    candidate_points,
    convex_hull,
    hull_quality,
    per_title_ladder,
    savings,
)

RES = [(320, 240), (640, 480), (1280, 720), (1920, 1080)]


def test_netflix_fixed_ladder_is_the_published_one():
    # Netflix Tech Blog, "Per-Title Encode Optimization" (2015), Table 1.
    assert [k for k, _, _ in NETFLIX_FIXED_LADDER] == [235, 375, 560, 750, 1050, 1750, 2350, 3000, 4300, 5800]
    assert NETFLIX_FIXED_LADDER[0][1:] == (320, 240)
    assert NETFLIX_FIXED_LADDER[-1][1:] == (1920, 1080)


@settings(max_examples=60, deadline=None)
@given(
    c=st.floats(0.2, 4.0),
    r1=st.floats(50e3, 20e6),
    r2=st.floats(50e3, 20e6),
    res=st.sampled_from(CANDIDATE_RESOLUTIONS),
)
def test_quality_rises_with_bitrate_and_stays_under_the_ceiling(c, r1, r2, res):
    m = RateQualityModel(c)
    lo, hi = sorted((r1, r2))
    w, h = res
    assert m.quality(lo, w, h) <= m.quality(hi, w, h) + 1e-9
    assert 0 <= m.quality(hi, w, h) <= m.ceiling(w, h) + 1e-9 <= 100 + 1e-9


def test_ceiling_rises_with_resolution_and_curves_cross():
    m = RateQualityModel(1.0)
    ceilings = [m.ceiling(w, h) for w, h in RES]
    assert ceilings == sorted(ceilings) and ceilings[-1] == pytest.approx(100.0)
    # At a low bitrate the small frame wins, at a high one the big frame: the crossing
    # that makes a hull (and per-title ladders) worth having.
    assert m.quality(300e3, 640, 480) > m.quality(300e3, 1920, 1080)
    assert m.quality(8e6, 1920, 1080) > m.quality(8e6, 640, 480)


def test_complexity_costs_bits():
    easy, hard = RateQualityModel(0.4), RateQualityModel(2.0)
    for w, h in RES:
        for r in (300e3, 1e6, 3e6):
            assert easy.quality(r, w, h) >= hard.quality(r, w, h)
            if hard.quality(r, w, h) < hard.ceiling(w, h) - 1e-9:  # not yet saturated
                assert easy.quality(r, w, h) > hard.quality(r, w, h)
            assert easy.rate_for(50.0, w, h) < hard.rate_for(50.0, w, h) or math.isinf(hard.rate_for(50.0, w, h))


@pytest.mark.parametrize("c", [0.4, 1.0, 2.0])
def test_rate_for_inverts_quality(c):
    m = RateQualityModel(c)
    for w, h in RES:
        for r in (200e3, 900e3, 2.5e6):
            q = m.quality(r, w, h)
            if q < m.ceiling(w, h) - 1e-6:
                assert m.rate_for(q, w, h) == pytest.approx(r, rel=1e-9)
    assert math.isinf(m.rate_for(99.0, 320, 240))


def test_hull_of_a_hand_made_point_set():
    # (rate, quality): B lies under the chord A-C and goes; D is past the top and goes.
    pts = [
        EncodePoint(100, 1, 1, 10.0),  # A
        EncodePoint(200, 1, 1, 14.0),  # B: chord A-C at 200 is 10 + (40-10)*100/300 = 20
        EncodePoint(400, 1, 1, 40.0),  # C
        EncodePoint(800, 1, 1, 50.0),  # E
        EncodePoint(900, 1, 1, 49.0),  # D: lower than E
    ]
    hull = convex_hull(pts)
    assert [p.rate_bps for p in hull] == [100, 400, 800]
    assert hull_quality(hull, 250) == pytest.approx(10 + 30 * 150 / 300)


@pytest.mark.parametrize("c", list(COMPLEXITY_PRESETS.values()))
def test_hull_is_concave_increasing_and_dominates_every_candidate(c):
    m = RateQualityModel(c)
    pts = candidate_points(m)
    hull = convex_hull(pts)
    rates = [p.rate_bps for p in hull]
    quals = [p.quality for p in hull]
    assert rates == sorted(rates) and quals == sorted(quals)
    slopes = [(q2 - q1) / (r2 - r1) for (r1, q1), (r2, q2) in zip(zip(rates, quals), zip(rates[1:], quals[1:]))]
    assert all(s1 >= s2 - 1e-15 for s1, s2 in zip(slopes, slopes[1:]))  # concave
    assert set(hull) <= set(pts)  # vertices are real encodes
    for p in pts:
        if p.rate_bps >= rates[0]:
            assert p.quality <= hull_quality(hull, p.rate_bps) + 1e-9


@pytest.mark.parametrize("name", list(COMPLEXITY_PRESETS))
def test_per_title_ladder_is_ordered_and_picks_the_best_resolution(name):
    m = RateQualityModel(COMPLEXITY_PRESETS[name])
    ladder = per_title_ladder(m)
    assert len(ladder) >= 4
    assert [r.bitrate_bps for r in ladder] == sorted({r.bitrate_bps for r in ladder})
    assert [r.quality for r in ladder] == sorted(r.quality for r in ladder)
    for rung in ladder:
        best = max(m.quality(rung.bitrate_bps, w, h) for w, h in CANDIDATE_RESOLUTIONS)
        assert rung.quality == pytest.approx(best)
    with pytest.raises(LadderError):
        per_title_ladder(m, n_rungs=1)


def test_easier_titles_get_cheaper_ladders_and_bigger_savings():
    tops = [per_title_ladder(RateQualityModel(c))[-1].bitrate_bps for c in (0.4, 1.0, 2.0)]
    assert tops == sorted(tops) and tops[0] < tops[-1]
    s = {n: savings(RateQualityModel(c)) for n, c in COMPLEXITY_PRESETS.items()}
    for v in s.values():
        assert all(0.0 <= x < 1.0 for x in v.per_rung)  # the fixed rungs are candidates
        assert all(g >= 0.0 for g in v.quality_gain)
    assert s["low"].mean > s["medium"].mean > s["high"].mean > 0.0
