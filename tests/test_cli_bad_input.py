"""Bad input on every command, as a first-time user types it: one line on stderr naming
the file (or option) and the problem, exit status 2, no traceback, and nothing already
stored lost."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import shared_path
from tests.test_cli import _one_line_error, abrlab

HSDPA = "report.2010-09-13_1003CEST.json"


def trace():
    return shared_path("traces", "hsdpa3g", HSDPA)


def envivio():
    return shared_path("content", "envivio.json")


# ----------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize(
    "args,expect",
    [
        (["replay", "--jobs", "0"], "--jobs"),
        (["traces", "window", "x.json", "out", "--length", "nan"], "--length"),
        (["abr", "list", "--bogus"], "--bogus"),
        (["nosuch"], "nosuch"),
    ],
)
def test_usage_errors_are_one_line(args, expect):
    line = _one_line_error(abrlab(*args))
    assert expect in line and "error" in line


def test_no_arguments_still_prints_the_help():
    r = abrlab()
    assert r.returncode == 2 and "Usage" in r.stdout and "replay" in r.stdout


# ----------------------------------------------------------------------------- replay --out
@pytest.mark.parametrize(
    "name,expect",
    [
        ("missing/r.csv", "does not exist"),
        ("r.txt", "unknown output format"),
        ("adir.csv", "is a directory"),
    ],
)
def test_replay_bad_out_is_refused_before_any_session(tmp_path, name, expect):
    (tmp_path / "adir.csv").mkdir()
    line = _one_line_error(abrlab("replay", "-q", "--trace", trace(), "--content", envivio(), "--abr", "bba",
                                  "--out", tmp_path / name))
    assert name in line and expect in line
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial")]


def test_replay_unwritable_out_is_one_line():
    line = _one_line_error(abrlab("replay", "-q", "--trace", trace(), "--content", envivio(), "--abr", "bba",
                                  "--out", "/proc/results.csv"))
    assert "/proc/results.csv" in line and "cannot write" in line


def test_interrupted_replay_keeps_the_earlier_results(tmp_path):
    out = tmp_path / "results.csv"
    out.write_text("earlier results\n")
    p = subprocess.Popen(
        [sys.executable, "-m", "player", "replay", "-q", "--trace", shared_path("traces", "fcc_sd"), "--content", envivio(),
         "--abr", "robustmpc,mpc", "--regret", "lin", "--out", out],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode != 0 and "Traceback" not in err
    assert out.read_text() == "earlier results\n"
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".partial")]


# ----------------------------------------------------------------------------- --content
def _movie(mutate):
    data = json.loads(open(envivio()).read())
    mutate(data)
    return json.dumps(data).replace('"NAN"', "NaN")


@pytest.mark.parametrize(
    "mutate,expect",
    [
        (lambda d: d["bitrates_kbps"].__setitem__(0, "NAN"), "bitrates_kbps[0] must be a positive number, got nan"),
        (lambda d: d["segment_sizes_bits"][3].pop(), "segment_sizes_bits[3]: expected 6 sizes (one per rung), got 5"),
        (lambda d: (d.__setitem__("bitrates_kbps", []), d.__setitem__("segment_sizes_bits", [])), "bitrates_kbps is empty"),
    ],
)
def test_bad_sabre_movie_is_one_line(tmp_path, mutate, expect):
    bad = tmp_path / "movie.json"
    bad.write_text(_movie(mutate))
    line = _one_line_error(abrlab("replay", "-q", "--trace", trace(), "--content", bad, "--abr", "bba"))
    assert "movie.json" in line and expect in line


def test_abrlab_title_with_nan_bitrate_is_refused(tmp_path):
    from player.presentation import load_title, title_to_json

    data = title_to_json(load_title(envivio()))
    data["rungs"][0]["bitrate_bps"] = float("nan")
    bad = tmp_path / "title.json"
    bad.write_text(json.dumps(data))
    line = _one_line_error(abrlab("replay", "-q", "--trace", trace(), "--content", bad, "--abr", "bba"))
    assert "title.json" in line and "non-positive bitrate" in line


def test_empty_content_file_says_so(tmp_path):
    bad = tmp_path / "movie.json"
    bad.write_text("\n")
    line = _one_line_error(abrlab("replay", "-q", "--trace", trace(), "--content", bad, "--abr", "bba"))
    assert "movie.json: file is empty" in line


# ----------------------------------------------------------------------------- --abr
@pytest.mark.parametrize(
    "spec,expect",
    [
        ("bola:gamma_p=nan", "bola: parameter gamma_p=nan: expected a finite number"),
        ("bba:reservoir_s=inf", "bba: parameter reservoir_s=inf: expected a finite number"),
        ("throughput:window=0", "throughput: parameter window=0: must be >= 1"),
        ("bola:gamma_p=x", "bola: parameter gamma_p='x': expected float"),
    ],
)
def test_bad_abr_parameter_is_an_abr_error(spec, expect):
    from abr.base import AbrError
    from abr.registry import create

    with pytest.raises(AbrError) as err:
        create(spec)
    assert str(err.value) == expect


def test_abr_parameter_a_rule_refuses_is_one_line():
    line = _one_line_error(abrlab("replay", "-q", "--trace", trace(), "--content", envivio(), "--abr", "throughput:window=0"))
    assert "throughput: parameter window=0: must be >= 1" in line


# ----------------------------------------------------------------------------- traces
@pytest.mark.parametrize(
    "args,expect",
    [
        (["stats", "{trace}", "--bin-s", "inf"], "--bin-s must be a finite number"),
        (["stats", "{trace}", "--outage-below-mbps", "-1"], "--outage-below-mbps"),
        (["filter", "{trace}", "{tmp}/kept", "--min-mean-mbps", "nan"], "--min-mean-mbps"),
        (["filter", "{trace}", "{tmp}/kept", "--min-mean-mbps", "5", "--max-mean-mbps", "1"], "no trace can pass"),
        (["window", "{trace}", "{tmp}/w", "--length", "inf"], "--length must be a finite number"),
        (["window", "{trace}", "/proc/abrlab-windows", "--length", "10"], "/proc/abrlab-windows: cannot create the directory"),
        (["filter", "{trace}", "/proc/abrlab-kept"], "/proc/abrlab-kept: cannot create the directory"),
        (["generate", "{tmp}/g.json", "--profile", "3g", "--duration", "inf"], "--duration must be a finite number"),
        (["generate", "{tmp}/g.json", "--profile", "3g", "--duration", "1e12"], "at most"),
        (["generate", "{tmp}/g.json", "--profile", "3g", "--seed", "-1"], "--seed"),
    ],
)
def test_traces_bad_options_are_one_line(tmp_path, args, expect):
    args = [a.format(trace=trace(), tmp=tmp_path) for a in args]
    line = _one_line_error(abrlab("traces", *args))
    assert expect in line
    assert not (tmp_path / "kept").exists() and not (tmp_path / "g.json").exists()


# ----------------------------------------------------------------------------- outputs of play and abr train
def test_play_events_path_is_checked_before_the_session(tmp_path):
    # The URL cannot be reached; the bad --events path must be what is reported, at once.
    line = _one_line_error(abrlab("play", "http://127.0.0.1:1/x.mpd", "-q", "--events", tmp_path))
    assert f"{tmp_path}: is a directory" in line


def test_abr_train_out_is_checked_before_training(tmp_path):
    line = _one_line_error(abrlab("abr", "train", "--out", tmp_path, "--rounds", "1", "--traces", "1", "--trees", "2",
                                  "--rounds-trees", "2", "--horizon", "3"))
    assert f"{tmp_path}: is a directory" in line



# ----------------------------------------------------------------------------- serve
@pytest.mark.parametrize(
    "args,expect",
    [
        (["--duration", "nan"], "--duration must be a positive number of seconds, got nan"),
        (["--duration", "-1"], "--duration must be a positive number of seconds, got -1"),
        (["--speed", "0", "--duration", "1"], "--speed must be a positive number, got 0"),
    ],
)
def test_serve_bad_duration_or_speed_is_one_line(args, expect):
    # --duration nan used to serve forever; -1 started the stack and stopped at once, exit 0.
    r = subprocess.run([sys.executable, "-m", "player", "serve", *args], capture_output=True, text=True, timeout=20)
    assert expect in _one_line_error(r)


# ----------------------------------------------------------------------------- inspect
def test_inspect_malformed_url_is_one_line():
    # urlsplit raised "Invalid IPv6 URL" from deciding whether the source was remote.
    line = _one_line_error(abrlab("inspect", "http://[::1"))
    assert "http://[::1: cannot fetch" in line


def test_negative_generated_rate_reads_as_a_number():
    # numpy 2 reprs a scalar as np.float64(-1000000.0), which leaked into the message.
    line = _one_line_error(abrlab("traces", "generate", "/tmp/never-written.json", "--steps", "10:-1"))
    assert line.endswith("entry 1: negative rate -1e+06")


@pytest.mark.parametrize("setting", ["max_buffer_s=nan", "startup_buffer_s=inf"])
def test_non_finite_session_setting_is_refused(setting):
    line = _one_line_error(abrlab("replay", "-q", "--trace", trace(), "--content", envivio(), "--abr", "bba", "--set", setting))
    assert f"--set '{setting}': not a finite number" in line
