"""``abrlab tui``: watch and steer a player session live."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from player.config import MODES


def register(app: typer.Typer) -> None:
    @app.command("tui")
    def tui_cmd(
        trace: Optional[Path] = typer.Option(None, "--trace", "-t", help="Trace file (or a directory: its first trace). Default: the first bundled trace."),
        content: Optional[Path] = typer.Option(None, "--content", "-c", help="Title: Sabre movie JSON or abrlab title JSON. Default: the bundled demo title."),
        abr: str = typer.Option("bba", "--abr", "-a", help="ABR spec, e.g. 'bola:gamma_p=5'."),
        compare: Optional[str] = typer.Option(None, "--compare", help="A second ABR spec: both side by side on the same trace, in lockstep."),
        mode: str = typer.Option("default", "--mode", "-m", help=f"Simulator mode: {', '.join(MODES)}."),
        speed: float = typer.Option(1.0, "--speed", "-s", help="Session seconds per wall-clock second."),
        paused: bool = typer.Option(False, "--paused", help="Start paused (space resumes)."),
        pick: bool = typer.Option(False, "--pick", help="Open the start form to choose trace, title, ABR and mode."),
        settings: Optional[List[str]] = typer.Option(None, "--set", help="Session setting override, e.g. --set max_buffer_s=30 (repeatable)."),
        out_dir: Path = typer.Option(Path("."), "--out-dir", help="Where saved events (e) and screenshots (p) go."),
        drop_factor: float = typer.Option(0.25, "--drop-factor", help="Capacity factor of the drop key (0 = outage)."),
        drop_s: float = typer.Option(20.0, "--drop-seconds", help="How long the drop key's drop lasts."),
    ) -> None:
        """Watch a simulated session live: buffer, rungs, throughput, stalls, KPIs, events.

        Keys: space pause, +/- speed, a switch ABR (b: the second in compare mode),
        d bandwidth drop, e save events (JSON Lines), p screenshot (SVG, PNG with
        cairosvg), n new session, q quit; ctrl+p for the command palette."""
        from player.cli import UserError
        from player.cli.replay_cmd import parse_settings
        from player.tui.app import TuiOptions, run

        if mode not in MODES:
            raise UserError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
        if not speed > 0:
            raise UserError("--speed must be positive")
        if not 0 <= drop_factor < 1 or not drop_s > 0:
            raise UserError("--drop-factor must be in [0, 1) and --drop-seconds positive")
        run(
            TuiOptions(
                trace=str(trace) if trace else None,
                title=str(content) if content else None,
                abr=abr,
                compare=compare,
                mode=mode,
                settings=parse_settings(settings),
                speed=speed,
                paused=paused,
                pick=pick,
                out_dir=str(out_dir),
                drop_factor=drop_factor,
                drop_s=drop_s,
            )
        )
