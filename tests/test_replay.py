"""Batch replays, the result schema and its writers, re-running a row."""

import json

import pytest

from player.replay import replay, rerun, run_session
from player.results import COLUMN_NAMES, ResultWriter, read_results
from tests.conftest import shared_path

REQUIRED = ["trace", "trace_sha256", "content", "abr", "params", "mode", "segments", "startup_s",
            "rebuffer_s", "stalls", "avg_bitrate_kbps", "switches", "qoe_lin", "qoe_log", "qoe_hd"]


def test_run_session_row_and_events():
    out = run_session(shared_path("traces", "hsdpa3g", "report.2010-09-13_1003CEST.json"),
                      shared_path("content", "envivio.json"), "bola:gamma_p=5,buffer_s=25", mode="sabre")
    row = out.row
    assert set(REQUIRED) <= set(row)
    assert row["segments"] == 49 and row["mode"] == "sabre"
    assert json.loads(row["params"]) == {"gamma_p": 5.0, "buffer_s": 25.0, "sizes": "nominal"}
    assert json.loads(row["trace_provenance"])["kind"] == "file"
    types = {e.type for e in out.events}
    assert {"session_start", "segment_requested", "segment_loaded", "playback_start", "session_end"} <= types


def test_jobs_do_not_change_results():
    traces = [shared_path("traces", "hsdpa3g"), shared_path("traces", "belgium4g")]
    content = shared_path("content", "envivio.json")
    one = list(replay(traces, content, ["bba", "bola"], "pensieve", jobs=1))
    two = list(replay(traces, content, ["bba", "bola"], "pensieve", jobs=2))
    assert len(one) == 2 * (43 + 20)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "session_id"} for r in rows]  # noqa: E731
    assert strip(one) == strip(two)


def test_rerun_reproduces_a_row(tmp_path):
    rows = list(replay([shared_path("traces", "fcc_sd")], shared_path("content", "bbb.json"),
                       ["throughput:safety=0.8"], "default", config={"max_buffer_s": 30.0}))[:5]
    for row in rows:
        again = rerun(row).row
        for k in ("qoe_lin", "rebuffer_s", "avg_bitrate_kbps", "switches", "config", "params"):
            assert again[k] == row[k]


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet"])
def test_writers_round_trip(tmp_path, ext):
    rows = list(replay([shared_path("traces", "belgium4g")], shared_path("content", "envivio.json"), ["bba"], "default"))
    path = tmp_path / f"r{ext}"
    with ResultWriter(path, batch=7) as w:
        for r in rows:
            w.write(r)
    back = read_results(path)
    assert len(back) == len(rows)
    for a, b in zip(rows, back):
        assert list(b)[: len(COLUMN_NAMES)] == COLUMN_NAMES
        for k in COLUMN_NAMES:
            if isinstance(a[k], float):
                assert b[k] == pytest.approx(a[k], rel=1e-12)
            else:
                assert b[k] == a[k]


def test_failed_run_keeps_previous_results(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("precious\n")
    with pytest.raises(RuntimeError):
        with ResultWriter(path) as w:
            w.write({c: 0 for c in COLUMN_NAMES})
            raise RuntimeError("interrupted")
    assert path.read_text() == "precious\n"
    assert not list(tmp_path.glob(".*partial"))


def test_a_broken_trace_late_in_a_directory_is_refused_before_any_session(tmp_path):
    """The run stops before the first session, naming the file and line, and an earlier
    results file of the same name is left as it was."""
    import shutil
    import subprocess
    import sys

    d = tmp_path / "traces"
    d.mkdir()
    src = sorted(shared_path("traces", "hsdpa3g").iterdir())[:3]
    for f in src:
        shutil.copy(f, d / f.name)
    (d / "zz_broken.log").write_text("0.0 1.5\n1.0 nan\n")  # sorts last
    out = tmp_path / "results.csv"
    out.write_text("earlier results\n")
    r = subprocess.run(
        [sys.executable, "-m", "player", "replay", "--trace", str(d), "--content", str(shared_path("content", "envivio.json")),
         "--abr", "bba", "--mode", "pensieve", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert "zz_broken.log:2: rate is not a finite number" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert out.read_text() == "earlier results\n"
    # Before any session: the API's first row never comes.
    from traces.model import TraceError

    rows = replay([d], shared_path("content", "envivio.json"), ["bba"], mode="pensieve")
    with pytest.raises(TraceError, match="zz_broken.log"):
        next(rows)
