"""Every real manifest in ../shared/manifests against the facts in its INDEX.tsv row."""

import csv
import json
import math
import subprocess
import sys

import pytest

from player.manifest import parse_manifest
from player.manifest.errors import ManifestError
from player.manifest.facts import manifest_facts
from tests.conftest import SHARED, shared_path

ROWS = []
if (SHARED / "manifests" / "INDEX.tsv").exists():
    with open(SHARED / "manifests" / "INDEX.tsv", newline="") as f:
        ROWS = list(csv.DictReader(f, delimiter="\t"))


def _expect_error(row):
    # Rows whose facts are all empty and that are flagged malformed (e.g. not XML).
    facts = ("n_video", "segment_duration_s", "total_duration_s", "n_segments_first_video", "n_periods")
    return row["malformed"] != "no" and not any(row[k] for k in facts)


def _num(s):
    return float(s) if s not in ("",) and not s.startswith("n/a") else None


@pytest.mark.parametrize("row", ROWS, ids=[r["filename"] for r in ROWS])
def test_index_row(row):
    path = shared_path("manifests", row["filename"])
    data = path.read_bytes()
    if _expect_error(row):
        with pytest.raises(ManifestError) as e:
            parse_manifest(data, str(path))
        assert row["filename"] in str(e.value)
        return
    m = parse_manifest(data, str(path))
    f = manifest_facts(m)
    assert f["format"] == row["format"]
    if row["n_video"]:
        assert len(f["video"]) == int(row["n_video"])
        want = sorted(int(b) for b in row["video_bandwidths_bps"].split(",") if b)
        assert [v["bandwidth_bps"] for v in f["video"]] == want
    if row["segment_duration_s"]:
        assert f["segment_duration_s"] == pytest.approx(float(row["segment_duration_s"]), abs=1e-6)
    else:
        assert f["segment_duration_s"] is None or row["format"] == "hls" and row["kind"] == "master"
    if row["total_duration_s"]:
        assert f["duration_s"] == pytest.approx(float(row["total_duration_s"]), abs=1e-6)
    else:
        assert f["duration_s"] is None
    n = row["n_segments_first_video"]
    if n.startswith("n/a"):
        assert f["first_video_segments"] is None
    elif n:
        assert f["first_video_segments"] == int(n)
    if row["n_periods"]:
        assert f["periods"] == int(row["n_periods"])
    if row["hls_target_duration"]:
        assert f["target_duration_s"] == pytest.approx(float(row["hls_target_duration"]))
    if row["kind"] in ("live", "vod") and row["format"] == "dash":
        assert f["is_live"] is (row["kind"] == "live")
    if row["format"] == "hls" and row["kind"] == "media":
        assert f["is_live"] is ("live" in row["features"].split(","))


SUBPROCESS_CASES = ["dashjs__dash_manifest.mpd", "vjsmpd__multiperiod.mpd", "grafov__master-with-hlsv7.m3u8",
                    "grafov__wowza-vod-chunklist.m3u8", "pympd__motion-20120802-manifest.mpd"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_inspect_json_subprocess(name):
    row = next((r for r in ROWS if r["filename"] == name), None)
    if row is None:
        pytest.skip("INDEX.tsv not available")
    path = shared_path("manifests", name)
    out = subprocess.run([sys.executable, "-m", "player", "inspect", "--json", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    f = json.loads(out.stdout)
    assert f["format"] == row["format"]
    assert [v["bandwidth_bps"] for v in f["video"]] == sorted(int(b) for b in row["video_bandwidths_bps"].split(",") if b)
    if row["total_duration_s"]:
        assert math.isclose(f["duration_s"], float(row["total_duration_s"]), abs_tol=1e-6)
    n = row["n_segments_first_video"]
    assert f["first_video_segments"] == (int(n) if n and not n.startswith("n/a") else None)


def test_inspect_malformed_exits_2_one_line():
    path = shared_path("manifests", "dashjs__manifest_error.mpd")
    out = subprocess.run([sys.executable, "-m", "player", "inspect", "--json", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert "dashjs__manifest_error.mpd" in lines[0] and "line 1" in lines[0] and "XML" in lines[0]
