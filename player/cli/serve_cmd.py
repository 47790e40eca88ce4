"""``abrlab serve``: the bundled server stub (origin, edges, control plane) on loopback."""

from __future__ import annotations

import asyncio
import json
import math
import signal
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        topology: Optional[Path] = typer.Option(None, "--topology", "-t", help="TOML topology (see server_stub.stack). Default: 2 edges, 4 generated titles."),
        speed: Optional[float] = typer.Option(None, "--speed", help="Shape traces k times faster (players must use the same --speed)."),
        edges: Optional[int] = typer.Option(None, "--edges", min=1, help="Number of edges (overrides the topology)."),
        host: Optional[str] = typer.Option(None, "--host", help="Bind address (loopback unless the topology sets allow_public)."),
        api_key: Optional[str] = typer.Option(None, "--api-key", help="Control-plane API key (random by default)."),
        duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds (default: until Ctrl-C)."),
        as_json: bool = typer.Option(False, "--json", help="Print the URLs as one JSON object."),
    ) -> None:
        """Start origin, edges and control plane; print their URLs; serve until Ctrl-C."""
        from server_stub.stack import Stack, TopologyError, load_topology

        from player.cli import UserError

        # Checked here so the message names the option (the topology's checks name the
        # file, "defaults" without one); NaN would slip past "must be positive" checks.
        if speed is not None and not (math.isfinite(speed) and speed > 0):
            raise UserError(f"--speed must be a positive number, got {speed:g}")
        if duration is not None and not (math.isfinite(duration) and duration > 0):
            raise UserError(f"--duration must be a positive number of seconds, got {duration:g}")
        try:
            topo = load_topology(
                topology, speed=speed, edge_count=edges, host=host,
                api_keys=[api_key] if api_key else None,
            )
        except TopologyError as e:
            raise UserError(str(e)) from None
        try:
            asyncio.run(_serve(Stack(topo), duration, as_json))
        except TopologyError as e:
            raise UserError(str(e)) from None
        except OSError as e:
            raise UserError(f"cannot start the stub: {e}") from None


async def _serve(stack: "object", duration: float | None, as_json: bool) -> None:
    from server_stub.stack import Stack

    assert isinstance(stack, Stack)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    async with stack:
        d = stack.describe()
        if as_json:
            print(json.dumps(d), flush=True)
        else:
            print(f"control  {d['control']}    (API key: {d['api_key']})")
            print(f"origin   {d['origin']}")
            for eid, url in d["edges"].items():
                print(f"{eid:<8} {url}")
            print(f"admin key {d['admin_key']}   speed {d['speed']:g}")
            print("titles   " + ", ".join(d["titles"]))
            print(
                f"play:    abrlab play --title {d['titles'][0]} --control {d['control']} --api-key {d['api_key']}"
                + (f" --speed {d['speed']:g}" if d["speed"] != 1 else ""),
                flush=True,
            )
        try:
            await asyncio.wait_for(stop.wait(), timeout=duration)
        except asyncio.TimeoutError:
            pass
