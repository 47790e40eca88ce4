"""``abrlab serve`` and ``abrlab play`` as users run them: real processes, real ports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "player", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_serve_then_play_through_the_control_plane(tmp_path):
    topo = tmp_path / "topo.toml"
    topo.write_text('[stack]\nspeed = 50.0\napi_keys = ["k1"]\n[edges]\ncount = 2\n[[title]]\nname = "short"\nsegments = 8\nsegment_duration_s = 2.0\n')
    serve = subprocess.Popen([sys.executable, "-m", "player", "serve", "--topology", str(topo), "--json", "--duration", "40"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    try:
        info = json.loads(serve.stdout.readline())  # type: ignore[union-attr]
        assert info["api_key"] == "k1" and len(info["edges"]) == 2 and info["titles"] == ["short"]
        trace = tmp_path / "trace.json"
        trace.write_text(json.dumps([{"duration_ms": 1000, "bandwidth_kbps": 3000, "latency_ms": 20}] * 30))
        events = tmp_path / "events.jsonl"
        p = run("play", "--title", "short", "--control", info["control"], "--api-key", "k1", "--trace", str(trace),
                "--abr", "bba", "--quiet", "--json", "--events", str(events))
        assert p.returncode == 0, p.stderr
        summary = json.loads(p.stdout)
        assert summary["end"] == "completed" and summary["segments"] == 8 and summary["abr"] == "bba"
        kinds = [json.loads(line)["type"] for line in events.read_text().splitlines()]
        assert kinds[0] == "session_start" and "manifest" in kinds and kinds[-1] == "session_end"
        # A wrong speed is refused with one line, not a traceback.
        p = run("play", "--title", "short", "--control", info["control"], "--api-key", "k1", "--speed", "2", "--quiet")
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "speed" in p.stderr
    finally:
        serve.terminate()
        serve.wait(timeout=10)


@pytest.mark.parametrize(
    "args, message",
    [
        (["play"], "give a manifest URL or --title"),
        (["play", "--title", "x"], "--title needs --control"),
        (["play", "http://127.0.0.1:1/x.mpd", "--speed", "0"], "--speed must be positive"),
        (["play", "http://127.0.0.1:1/x.mpd", "--trace", "/nonexistent.json"], "no such file"),
        (["serve", "--topology", "/nonexistent.toml"], "no such file"),
        (["play", "movie.mpd"], "not an http(s) URL"),
    ],
)
def test_user_errors_are_one_line(args, message):
    p = run(*args)
    assert p.returncode == 2
    assert message in p.stderr and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_bad_topology_names_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[edges]\ncount = "two"\n')
    p = run("serve", "--topology", str(bad))
    assert p.returncode == 2 and "bad.toml: [edges] count" in p.stderr
    bad.write_text('[stack]\nhost = "0.0.0.0"\n')
    p = run("serve", "--topology", str(bad))
    assert p.returncode == 2 and "allow_public" in p.stderr
