"""The command line, run as a user runs it (a subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from player.results import read_results
from tests.conftest import shared_path


def abrlab(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "player", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_replay_writes_parquet_and_prints_summary(tmp_path):
    out = tmp_path / "res.parquet"
    r = abrlab("replay", "--trace", shared_path("traces", "hsdpa3g"), "--content", shared_path("content", "envivio.json"),
               "--abr", "bba,throughput,bola", "--mode", "pensieve", "--out", out, "--jobs", "2", "-q")
    assert r.returncode == 0, r.stderr
    rows = read_results(out)
    assert len(rows) == 3 * 43
    assert {row["abr"] for row in rows} == {"bba", "throughput", "bola"}
    for name in ("bba", "throughput", "bola", "qoe_lin", "median", "p10"):
        assert name in r.stdout


def _one_line_error(r):
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


@pytest.mark.parametrize(
    "content,expect",
    [
        ("", "file is empty"),
        ('[{"duration_ms": 1000, "bandwidth_kbps": -5, "latency_ms": 20}]', "negative"),
        ('[{"duration_ms": 1000, "bandwidth_kbps": NaN, "latency_ms": 20}]', "not a finite number"),
        ("0 1.0\n2 2.0\n1 3.0\n", "decrease"),
    ],
)
def test_bad_trace_is_one_line(tmp_path, content, expect):
    bad = tmp_path / "bad_trace.json"
    bad.write_text(content)
    line = _one_line_error(abrlab("replay", "--trace", bad, "--content", shared_path("content", "envivio.json")))
    assert "bad_trace.json" in line and expect in line


def test_bad_content_and_abr_are_one_line(tmp_path):
    bad = tmp_path / "movie.json"
    bad.write_text('{"segment_duration_ms": 4000, "bitrates_kbps": [300]}')
    line = _one_line_error(abrlab("replay", "--trace", shared_path("traces", "belgium4g"), "--content", bad))
    assert "movie.json" in line and "segment_sizes_bits" in line
    line = _one_line_error(abrlab("replay", "--trace", shared_path("traces", "belgium4g"), "--content",
                                  shared_path("content", "envivio.json"), "--abr", "bola:gamma_p=oops"))
    assert "gamma_p" in line
    line = _one_line_error(abrlab("replay", "--trace", tmp_path / "missing", "--content", shared_path("content", "envivio.json")))
    assert "missing" in line


def test_abr_list():
    r = abrlab("abr", "list", "--json")
    assert r.returncode == 0
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert {"fixed", "throughput", "bba", "bola"} <= set(rows)
    assert rows["bola"]["params"]["gamma_p"]["default"] == 5.0
    assert rows["bba"]["mode_presets"] == {"pensieve": "pensieve"}
    assert "Huang" in rows["bba"]["source"]
