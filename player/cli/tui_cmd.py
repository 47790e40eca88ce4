"""``abrlab tui``: watch and steer a player session live (simulated, or over HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from player.config import MODES


def register(app: typer.Typer) -> None:
    @app.command("tui")
    def tui_cmd(
        trace: Optional[Path] = typer.Option(None, "--trace", "-t", help="Trace file (or a directory: its first trace). Simulated: the link; over HTTP: what the edge shapes the session by. Default: the first bundled trace (HTTP: unshaped)."),
        content: Optional[Path] = typer.Option(None, "--content", "-c", help="Simulated title: Sabre movie JSON, abrlab title JSON or a local manifest. Default: the bundled demo title."),
        url: Optional[str] = typer.Option(None, "--url", help="Play over HTTP: a DASH/HLS manifest URL (or a stub title.json URL)."),
        title: Optional[str] = typer.Option(None, "--title", help="Play over HTTP: this title through the stub's control plane (steered edges, signed URLs)."),
        control: Optional[str] = typer.Option(None, "--control", envvar="ABRLAB_CONTROL", help="Control-plane URL (with --title)."),
        api_key: Optional[str] = typer.Option(None, "--api-key", envvar="ABRLAB_API_KEY", help="Control-plane API key (with --title)."),
        manifest: str = typer.Option("dash", "--manifest", help="With --title: dash, hls, dash_ranges, hls_ranges or native."),
        abr: Optional[str] = typer.Option(None, "--abr", "-a", help="ABR spec, e.g. 'bola:gamma_p=5'. Default: bba (with --title: the control plane's recommendation)."),
        compare: Optional[str] = typer.Option(None, "--compare", help="A second ABR spec: both side by side on the same trace, in lockstep (over HTTP: two sessions at once)."),
        mode: str = typer.Option("default", "--mode", "-m", help=f"Session configuration preset: {', '.join(MODES)}."),
        speed: Optional[float] = typer.Option(None, "--speed", "-s", help="Session seconds per wall-clock second (default 1). Over HTTP it must be the stub's (--title: taken from it)."),
        paused: bool = typer.Option(False, "--paused", help="Start paused (space resumes; over HTTP the display starts frozen)."),
        pick: bool = typer.Option(False, "--pick", help="Open the start form (simulated or HTTP), filled in from the other options."),
        settings: Optional[List[str]] = typer.Option(None, "--set", help="Session setting override, e.g. --set max_buffer_s=30 (repeatable)."),
        out_dir: Path = typer.Option(Path("."), "--out-dir", help="Where saved events (e) and screenshots (p) go."),
        drop_factor: float = typer.Option(0.25, "--drop-factor", help="Capacity factor of the drop key (0 = outage)."),
        drop_s: float = typer.Option(20.0, "--drop-seconds", help="How long the drop key's drop lasts (session seconds)."),
    ) -> None:
        """Watch a session live: buffer, rungs, throughput, stalls, KPIs, events.

        Simulated by default; over HTTP with --url URL or --title NAME (through
        the stub's control plane), on the same session core with the same events.

        Keys: space pause, +/- speed, . step 1 s, a switch ABR (b: the second one
        in compare mode), d bandwidth drop, e save events (JSON Lines),
        p screenshot (SVG; PNG with cairosvg), n new session (simulated, a
        URL, or a title through --control), q quit;
        ctrl+p for the command palette.

        Over HTTP the session runs on the wall clock at the stub's speed, as the
        edge's trace does: space freezes the display while the session streams
        on (space again catches up); +/- and . are off; d re-registers the
        session's trace with the edge, its capacity times --drop-factor for
        --drop-seconds, from the next request on (needs --trace)."""
        from player.cli import UserError
        from player.cli.replay_cmd import parse_settings
        from player.tui.app import TuiOptions, run
        from player.tui.http_source import DEFAULT_ABR, HttpSpec

        if mode not in MODES:
            raise UserError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
        if speed is not None and not speed > 0:
            raise UserError("--speed must be positive")
        if not 0 <= drop_factor < 1 or not drop_s > 0:
            raise UserError("--drop-factor must be in [0, 1) and --drop-seconds positive")
        http = None
        if url is not None or title is not None:
            if content is not None:
                raise UserError("--content is a simulated session's title; over HTTP the title comes from --url or --title")
            if trace is not None and trace.is_dir():
                raise UserError(f"{trace}: over HTTP --trace is one trace file, not a directory")
            http = HttpSpec(url=url, title=title, control=control, api_key=api_key,
                            trace=str(trace) if trace else None, manifest=manifest, speed=speed)
            problem = http.problem(compare=compare is not None)
            if problem is not None:
                raise UserError(problem)
        run(
            TuiOptions(
                trace=str(trace) if trace and http is None else None,
                title=str(content) if content else None,
                abr=abr if abr is not None or http is not None else DEFAULT_ABR,
                compare=compare,
                mode=mode,
                settings=parse_settings(settings),
                speed=speed or 1.0,
                paused=paused,
                pick=pick,
                out_dir=str(out_dir),
                drop_factor=drop_factor,
                drop_s=drop_s,
                http=http,
                control=control,  # the start form (n, --pick) can play titles through it
                api_key=api_key,
            )
        )
