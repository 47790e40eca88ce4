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
