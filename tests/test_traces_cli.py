"""``abrlab traces ...`` and ``abrlab replay`` on the bundled set, through the real CLI
in a subprocess (bounded: a handful of short runs)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import shared_path
from traces import load_trace
from traces.capacity import capacity_error
from traces.formats import write_csv
from traces.generators import step_trace


def abrlab(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "player", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_convert_round_trip_and_refusals(tmp_path):
    src = sorted(shared_path("traces", "hsdpa3g").iterdir())[0]
    r = abrlab("traces", "convert", src, tmp_path / "a.down", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "note: writing mahimahi drops the latency (100 ms)" in r.stderr
    r = abrlab("traces", "convert", tmp_path / "a.down", tmp_path / "b.txt", "--to", "csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b.txt").read_text().startswith("duration_s,rate_bps,latency_s\n")
    err = capacity_error(load_trace(src), load_trace(tmp_path / "b.txt"))
    assert err.relative <= 1e-3
    # never the input, never an existing file without --force
    r = abrlab("traces", "convert", tmp_path / "b.txt", tmp_path / "b.txt", "--to", "csv", "--force", cwd=tmp_path)
    assert r.returncode == 2 and "refusing to overwrite the input" in r.stderr
    before = (tmp_path / "a.down").read_text()
    r = abrlab("traces", "convert", tmp_path / "b.txt", tmp_path / "a.down", cwd=tmp_path)
    assert r.returncode == 2 and "already exists" in r.stderr
    assert (tmp_path / "a.down").read_text() == before
    r = abrlab("traces", "convert", src, tmp_path / "x.bin", cwd=tmp_path)
    assert r.returncode == 2 and "--to" in r.stderr


def test_stats_json_hand_case(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(write_csv(step_trace([(2.0, 1e6), (1.0, 3e6), (1.0, 0.0)])))
    r = abrlab("traces", "stats", p, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)["traces"][0]
    assert s["duration_s"] == 4.0
    assert s["mean_bps"] == 1.25e6
    assert (s["p10_bps"], s["median_bps"], s["p90_bps"]) == (0.0, 1e6, 3e6)
    assert s["outage_share"] == 0.25


def test_window_and_filter_write_folders(tmp_path):
    src = shared_path("traces", "fcc_sd")
    r = abrlab("traces", "filter", src, tmp_path / "kept", "--preset", "pensieve", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    kept = sorted((tmp_path / "kept").iterdir())
    assert 0 < len(kept) < 200 and f"kept {len(kept)} of 200" in r.stdout
    assert kept[0].read_bytes() == (src / kept[0].name).read_bytes()  # copied unchanged
    r = abrlab("traces", "window", kept[0], tmp_path / "w", "--length", "60", "--step", "30", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # a 180 s trace: windows start at 0, 30, 60, 90, 120
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == [f"{kept[0].stem}_w{k:03d}.json" for k in range(5)]
    w = load_trace(tmp_path / "w" / f"{kept[0].stem}_w002.json")
    assert w.duration_s == 60.0


def test_generate_profiles_and_constant(tmp_path):
    r = abrlab("traces", "generate", tmp_path / "set", "--profile", "lte", "--count", "3", "--duration", "60", "--seed", "4", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    files = sorted((tmp_path / "set").iterdir())
    assert [f.name for f in files] == ["lte-seed4.json", "lte-seed5.json", "lte-seed6.json"]
    r = abrlab("traces", "convert", tmp_path / "set", tmp_path / "set_csv", "--to", "csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for f in files:
        assert load_trace(tmp_path / "set_csv" / f"{f.stem}.csv").sha256 == load_trace(f).sha256
    r = abrlab("traces", "convert", tmp_path / "set", tmp_path / "set2", cwd=tmp_path)
    assert r.returncode == 2 and "needs --to" in r.stderr
    r = abrlab("traces", "generate", tmp_path / "c.down", "--constant-mbps", "12", "--duration", "0.01", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c.down").read_text() == "".join(f"{k}\n" for k in range(1, 11))
    r = abrlab("traces", "generate", tmp_path / "s.csv", "--steps", "1:2,2:0.5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert load_trace(tmp_path / "s.csv").total_bits == pytest.approx(2e6 + 1e6)
    r = abrlab("traces", "generate", tmp_path / "bad.csv", "--steps", "1:2,oops", cwd=tmp_path)
    assert r.returncode == 2 and "expected SECONDS:MBPS" in r.stderr


def test_replay_with_no_arguments_runs_on_the_bundled_defaults(tmp_path):
    r = abrlab("replay", "--quiet", "--out", tmp_path / "r.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "20 traces x 3 ABR" in r.stdout
    assert "results:" in r.stdout and (tmp_path / "r.csv").exists()
