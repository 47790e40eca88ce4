"""Every trace carries provenance and a content hash, and from_provenance rebuilds it
(same sha256): files, generators, windows, conversions, and chains of them; a result
row of a replay on a generated trace re-runs from its provenance alone."""

import json

import pytest

from tests.conftest import shared_path
from traces import Provenance, Trace, TraceError, constant_trace, from_provenance, load_trace, save_trace
from traces.formats import convert
from traces.generators import markov_trace, step_trace
from traces.windows import window


def _same(trace):
    prov = Provenance.from_dict(json.loads(json.dumps(trace.provenance.to_dict())))  # as stored in a row
    rebuilt = from_provenance(prov)
    assert rebuilt.sha256 == trace.sha256, trace.provenance.describe()
    return rebuilt


def test_file_provenance(tmp_path):
    for folder in ("hsdpa3g", "mahimahi"):
        f = sorted(shared_path("traces", folder).iterdir())[0]
        tr = load_trace(f)
        assert tr.provenance.to_dict() == {"kind": "file", "source": str(f), "format": tr.provenance.format}
        _same(tr)


def test_generator_provenance():
    _same(constant_trace(2.5e6, 30.0, 0.04))
    _same(step_trace([(3.0, 1e6), (2.0, 5e6, 0.1)], latency_s=0.02))
    for prof in ("3g", "lte", "broadband", "wifi"):
        _same(markov_trace(prof, 200.0, seed=11))


def test_derived_provenance_chains():
    base = markov_trace("lte", 400.0, seed=3)
    w = window(base, 100.0, 120.0)
    assert w.provenance.kind == "derived" and w.provenance.source == "window"
    _same(w)
    m = convert(w, "mahimahi")
    assert m.provenance.parent == w.provenance
    _same(m)
    _same(window(convert(load_trace(sorted(shared_path("traces", "fcc_sd").iterdir())[0]), "cooked"), 5.0, 60.0))


def test_hash_ignores_name_and_provenance_but_not_content():
    a = step_trace([(1.0, 1e6)], name="a")
    b = Trace(a.durations_s, a.rates_bps, a.latencies_s, name="b")
    assert a.sha256 == b.sha256
    assert step_trace([(1.0, 1e6 + 1)]).sha256 != a.sha256


def test_unrebuildable_provenance_is_a_clear_error():
    handmade = Trace([1.0], [1e6], [0.0])
    with pytest.raises(TraceError, match="cannot be rebuilt"):
        from_provenance(handmade.provenance)
    with pytest.raises(TraceError, match="unknown generator"):
        from_provenance(Provenance("generator", "satellite", params={}))
    stale = markov_trace("3g", 10.0, 1).provenance.to_dict()
    stale["params"]["profile_sha256"] = "0" * 16
    with pytest.raises(TraceError, match="has changed since"):
        from_provenance(stale)


def test_saved_generated_trace_reads_back_identical(tmp_path):
    tr = markov_trace("wifi", 90.0, seed=5)
    save_trace(tr, tmp_path / "w.json")
    assert load_trace(tmp_path / "w.json").sha256 == tr.sha256


def test_replay_row_reruns_from_provenance(envivio):
    from player.replay import rerun, run_session

    tr = window(markov_trace("3g", 600.0, seed=2), 60.0, 300.0)
    out = run_session(tr, envivio, "bba", mode="pensieve")
    again = rerun(out.row)
    assert again.row["trace_sha256"] == out.row["trace_sha256"] == tr.sha256
    for key in ("rebuffer_s", "avg_bitrate_kbps", "qoe_lin", "switches"):
        assert again.row[key] == out.row[key]
