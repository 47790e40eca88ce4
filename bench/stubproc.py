"""Run the stub (``abrlab serve``) in its own process for benchmarks.

The stub gets a process (and so, on a 2-core machine, a core) of its own; the benchmark
drives it from another, as players on other machines would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


class StubProcess:
    """``with StubProcess(topology_toml) as stub: stub.info["control"]``."""

    def __init__(self, topology: str, extra_args: list[str] | None = None) -> None:
        self.topology = topology
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> "StubProcess":
        self._tmp = tempfile.TemporaryDirectory(prefix="abrlab-bench-")
        path = Path(self._tmp.name) / "topology.toml"
        path.write_text(self.topology)
        cmd = [sys.executable, "-X", "faulthandler", "-m", "player", "serve", "--topology", str(path), "--json", *self.extra_args]
        # stderr to a file: a pipe nobody reads would block the stub once full.
        self.stderr_path = Path(self._tmp.name) / "stderr.log"
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"stub did not start: {self.stderr_path.read_text().strip()[-2000:]}")
        self.info = json.loads(line)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._tmp is not None:
            self._stderr.close()
            self._tmp.cleanup()

    def cpu_seconds(self) -> float:
        """User + system CPU the stub process has used so far (Linux /proc)."""
        assert self.proc is not None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            tick = os.sysconf("SC_CLK_TCK")
            return (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            return float("nan")


async def playback(http: aiohttp.ClientSession, info: dict[str, Any], title: str, client_id: str) -> dict[str, Any]:
    async with http.post(info["control"] + "/playback", json={"title": title, "client_id": client_id}, headers={"X-API-Key": info["api_key"]}) as r:
        if r.status != 200:
            raise RuntimeError(f"playback: HTTP {r.status} {await r.text()}")
        return await r.json()


async def prefill(http: aiohttp.ClientSession, info: dict[str, Any], title: str, layout: str = "files") -> None:
    for url in info["edges"].values():
        async with http.post(url + "/_admin/prefill", json={"title": title, "layout": layout}, headers={"X-Abrlab-Admin-Key": info["admin_key"]}) as r:
            if r.status != 200:
                raise RuntimeError(f"prefill: HTTP {r.status} {await r.text()}")


def wait_quiet(seconds: float = 0.0) -> None:
    if seconds > 0:
        time.sleep(seconds)
