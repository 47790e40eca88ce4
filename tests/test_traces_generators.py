"""Generators: constant and step links, Markov profiles (deterministic per seed, and
reproducing the statistics of the real traces they were fitted to), the fitting script
against the shipped numbers, and the bundled set against its generator provenance."""

import json

import numpy as np
import pytest

from tests.conftest import shared_path
from traces.bundle import BUNDLED_DIR, MANIFEST, PROFILES, check_bundle
from traces.capacity import resampled
from traces.fit import SHIPPED, differences, fit_all
from traces.generators import get_profile, load_profiles, markov_trace, step_trace
from traces.markov import series_stats
from traces.model import TraceError, constant_trace


def test_constant_and_step():
    c = constant_trace(3e6, 10.0, 0.05)
    assert c.mean_rate_bps == 3e6 and c.duration_s == 10.0 and c.latency_at(3.0) == 0.05
    s = step_trace([(5.0, 1e6), (10.0, 4e6, 0.2)], latency_s=0.03)
    assert s.duration_s == 15.0
    assert s.rate_at(4.9) == 1e6 and s.rate_at(5.1) == 4e6 and s.rate_at(15.5) == 1e6  # loops
    assert list(s.latencies_s) == [0.03, 0.2]
    assert s.mean_rate_bps == pytest.approx((5 * 1e6 + 10 * 4e6) / 15)
    with pytest.raises(TraceError):
        step_trace([(5.0,)])


def test_markov_is_deterministic_for_a_seed():
    a = markov_trace("3g", 120.0, seed=7)
    b = markov_trace("3G-like", 120.0, seed=7)
    c = markov_trace("3g", 120.0, seed=8)
    assert a.sha256 == b.sha256
    assert a.sha256 != c.sha256
    assert a.duration_s == 120.0
    # whole ms and whole kbps: survives Sabre JSON bit for bit
    assert np.all(np.round(a.durations_s * 1000) / 1000 == a.durations_s)
    assert np.all(np.round(a.rates_bps / 1000) * 1000 == a.rates_bps)
    p = a.provenance
    assert p.kind == "generator" and p.source == "markov"
    assert p.params == {"profile": "3g", "duration_s": 120.0, "seed": 7, "profile_sha256": get_profile("3g").digest}


def test_markov_duration_not_a_multiple_of_the_step():
    t = markov_trace("broadband", 12.3, seed=1)  # 5 s steps: 5 + 5 + 2.3
    assert list(t.durations_s) == pytest.approx([5.0, 5.0, 2.3])


def test_unknown_profile():
    with pytest.raises(TraceError, match="unknown Markov profile 'satellite'"):
        markov_trace("satellite", 10.0, 1)


def test_four_named_profiles_ship():
    profiles = load_profiles()
    assert set(profiles) == {"3g", "lte", "broadband", "wifi"}
    for p in profiles.values():
        assert p.n_states >= 10
        np.testing.assert_allclose(p.transition_matrix.sum(axis=1), 1.0)
        # loop-counted transitions: the occupancy is the chain's stationary distribution
        np.testing.assert_allclose(p.stationary @ p.transition_matrix, p.stationary, atol=1e-12)
        np.testing.assert_allclose(p.stationary, p.fitted["occupancy"], atol=2e-6)


# Tolerances between a long generated sample and the real traces' statistics (these are
# model error, not just sampling noise: a first-order chain cannot hold the 3G logs'
# lag-1 autocorrelation of 0.95 exactly; measured gaps are in README.md, "Traces").
TOL_MEAN = 0.05  # relative
TOL_STD = 0.06  # relative
TOL_QUANTILE_MASS = 0.03  # share of generated samples below the real p10/p50/p90
TOL_ACF1 = 0.08  # absolute
TOL_ACF5 = 0.12  # absolute
TOL_OCCUPANCY = 0.03  # absolute, per state


@pytest.mark.parametrize("name", ["3g", "lte", "broadband", "wifi"])
def test_generated_traces_reproduce_the_fitted_statistics(name):
    p = get_profile(name)
    f = p.fitted
    # about ten times the real data, in 40 traces
    duration = max(10 * f["samples"] * p.step_s / 40, 600.0)
    series = [resampled(markov_trace(name, duration, seed), p.step_s) for seed in range(40)]
    g = series_stats(series, p.edges_bps, p.smooth_steps)
    x = np.concatenate(series)
    assert g["mean_bps"] == pytest.approx(f["mean_bps"], rel=TOL_MEAN)
    assert g["std_bps"] == pytest.approx(f["std_bps"], rel=TOL_STD)
    for q, key in ((0.1, "p10_bps"), (0.5, "p50_bps"), (0.9, "p90_bps")):
        assert abs(np.mean(x <= f[key]) - q) <= TOL_QUANTILE_MASS, key
    assert g["acf"]["1"] == pytest.approx(f["acf"]["1"], abs=TOL_ACF1)
    assert g["acf"]["5"] == pytest.approx(f["acf"]["5"], abs=TOL_ACF5)
    assert np.max(np.abs(np.array(g["occupancy"]) - f["occupancy"])) <= TOL_OCCUPANCY


def test_fitting_script_reproduces_the_shipped_profiles():
    root = shared_path("traces")
    shipped = json.loads(SHIPPED.read_text())
    refit = json.loads(json.dumps(fit_all(root)))
    assert differences(shipped, refit) == []
    assert shipped["profiles"]["3g"]["source"]["files"] == {"hsdpa3g": 43}
    assert shipped["profiles"]["lte"]["source"]["files"] == {"belgium4g": 20}
    assert shipped["profiles"]["broadband"]["source"]["files"] == {"fcc_sd": 200}
    assert shipped["provenance"]["script"] == "python -m traces.fit"


def test_fitted_statistics_are_those_of_the_real_traces():
    # Independent of the fitting code: the pooled mean of the raw HSDPA logs at 1 s.
    files = sorted(shared_path("traces", "hsdpa3g").iterdir())
    from traces import load_trace

    x = np.concatenate([resampled(load_trace(f), 1.0) for f in files])
    f = get_profile("3g").fitted
    assert f["mean_bps"] == pytest.approx(x.mean(), rel=1e-5)
    assert f["p50_bps"] == pytest.approx(np.median(x), rel=1e-5)
    assert f["samples"] == x.size


def test_differences_notices_a_changed_number():
    shipped = json.loads(SHIPPED.read_text())
    tampered = json.loads(SHIPPED.read_text())
    tampered["profiles"]["lte"]["transition_counts"][0][0] += 1
    tampered["profiles"]["wifi"]["fitted"]["mean_bps"] *= 1.001
    diffs = differences(shipped, tampered)
    assert len(diffs) == 2 and "lte" in diffs[0] and "wifi" in diffs[1]


def test_bundled_set_matches_its_generator_provenance():
    assert check_bundle() == []
    doc = json.loads(MANIFEST.read_text())
    files = sorted(p.name for p in BUNDLED_DIR.iterdir())
    assert files == sorted(e["file"] for e in doc["traces"])
    for prof in PROFILES:
        mine = [e for e in doc["traces"] if e["provenance"]["params"]["profile"] == prof]
        assert 4 <= len(mine) <= 6
        assert all(e["provenance"]["params"]["duration_s"] >= 120 for e in mine)
