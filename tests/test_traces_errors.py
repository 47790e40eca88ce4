"""Broken trace files give one-line errors naming the file and the line, in the library
and through the real CLI (exit status 2, one line on stderr, no traceback)."""

import subprocess
import sys
from pathlib import Path

import pytest

from traces import load_trace
from traces.model import TraceError

ROOT = Path(__file__).resolve().parents[1]

# name -> (file bytes, line the error must name or None, words the message must contain)
BROKEN = {
    "empty.json": (b"", None, "empty"),
    "blank.txt": (b"  \n\n \n", None, "empty"),
    "cooked-unsorted.log": (b"0 1.0\n2 1.5\n1 2.0\n", 3, "decrease"),
    "cooked-negative.log": (b"0 1.0\n1 -0.5\n", 2, "negative"),
    "cooked-nan.log": (b"0 1.0\n1 nan\n", 2, "finite"),
    "cooked-word.log": (b"0 1.0\n1 fast\n", 2, "not a number"),
    "sabre-nan.json": (b'[\n {"duration_ms": 1000, "bandwidth_kbps": 500},\n {"duration_ms": 1000, "bandwidth_kbps": NaN}\n]\n', 3, "finite"),
    "sabre-negative.json": (b'[\n {"duration_ms": 1000, "bandwidth_kbps": 500},\n {"duration_ms": 1000, "bandwidth_kbps": -3}\n]\n', 3, "negative"),
    "sabre-string.json": (b'[\n {"duration_ms": "1000", "bandwidth_kbps": 500}\n]\n', 2, "not a number"),
    "sabre-bool.json": (b'[\n {"duration_ms": 1000, "bandwidth_kbps": true}\n]\n', 2, "not a number"),
    "sabre-bad-json.json": (b'[\n {"duration_ms": 1000,\n "bandwidth_kbps": }\n]\n', 3, "JSON"),
    "sabre-zero-duration.json": (b'[{"duration_ms": 0, "bandwidth_kbps": 500}]', 1, "positive"),
    "mahimahi-decreasing.down": (b"1\n5\n3\n8\n", 3, "decrease"),
    "mahimahi-word.down": (b"1\n2\nthree\n4\n", 3, "integer"),
    "mahimahi-zero-period.down": (b"0\n0\n", 2, "> 0"),
    "mahimahi-blank-line.down": (b"1\n\n3\n", 2, "empty line"),
    "csv-negative.csv": (b"duration_s,rate_bps\n1.0,100\n1.0,-5\n", 3, "negative"),
    "csv-nan.csv": (b"duration_s,rate_bps\n1.0,nan\n", 2, "finite"),
    "csv-word.csv": (b"duration_s,rate_bps\n1.0,lots\n", 2, "not a number"),
    "csv-short-row.csv": (b"# c\nduration_s,rate_bps,latency_s\n1.0,100\n", 3, "expected 3 values"),
    "unknown.txt": (b"hello trace world\n", 1, "unknown trace format"),
    "binary-nul.bin": (b"\x00\x01\x02\x03garbage\x00", 1, "binary"),
    "binary-png.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "binary"),
    "binary-utf8-later.json": (b"[\n\n\xff\xfe]", 3, "binary"),
    "all-zero.json": (b'[{"duration_ms": 1000, "bandwidth_kbps": 0}]', None, "no capacity"),
}


def _write(tmp_path, name):
    data = BROKEN[name][0]
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_gives_one_line_error_naming_file_and_line(tmp_path, name):
    p = _write(tmp_path, name)
    _, line, words = BROKEN[name]
    with pytest.raises(TraceError) as ei:
        load_trace(p)
    msg = str(ei.value)
    assert "\n" not in msg
    assert words in msg, msg
    if line is None:
        assert msg.startswith(f"{p}: "), msg
    else:
        assert msg.startswith(f"{p}:{line}: "), msg
        assert ei.value.line == line


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(TraceError, match="no such file"):
        load_trace(tmp_path / "nope.json")
    with pytest.raises(TraceError, match="is a directory"):
        load_trace(tmp_path)


def _abrlab(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "player", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60
    )


# One subprocess per kind of breakage (bounded: the CLI path is the same for all).
CLI_CASES = ["empty.json", "cooked-unsorted.log", "cooked-nan.log", "sabre-negative.json",
             "mahimahi-word.down", "unknown.txt", "binary-nul.bin"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_reports_broken_file_in_one_line(tmp_path, name):
    p = _write(tmp_path, name)
    _, line, words = BROKEN[name]
    r = _abrlab("traces", "stats", p, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    err = r.stderr.strip()
    assert "\n" not in err, err
    where = f"{p}:{line}:" if line else f"{p}:"
    assert err.startswith(f"abrlab: error: {where}"), err
    assert words in err


def test_cli_convert_of_broken_file_writes_nothing(tmp_path):
    p = _write(tmp_path, "cooked-unsorted.log")
    out = tmp_path / "out.json"
    r = _abrlab("traces", "convert", p, out, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("*.partial"))
