"""``abrlab play``: headless playback over HTTP with a live status line and a QoE summary."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, List, Optional

import typer


def _fmt_rate(bps: float | None) -> str:
    if bps is None:
        return "-"
    return f"{bps / 1e6:.2f} Mbps" if bps >= 1e6 else f"{bps / 1e3:.0f} kbps"


def status_line(st: Any) -> str:
    rung = "-" if st.rung is None else f"r{st.rung} {_fmt_rate(st.bitrate_bps)}"
    return (
        f"t {st.t_s:7.1f}s  {st.state:<8} buf {st.buffer_s:5.1f}s  {rung:<16} "
        f"seg {st.loaded}/{st.total}  stalls {st.stalls} ({st.rebuffer_s:.1f}s)  "
        f"tput {_fmt_rate(st.last_rate_bps)}  {st.edge}  err {st.errors} fo {st.failovers}"
    )


def summary(result: Any) -> dict[str, Any]:
    from qoe.metrics import kpis, qoe

    s = result.session
    rec = s.record()
    k = kpis(rec, s.video.track.n_rungs)
    return {
        "title": s.title.name,
        "session_id": s.session_id,
        "end": s.end_reason,
        "abr": getattr(s.video.abr, "name", "?"),
        "qoe_lin": qoe(rec, "lin"),
        "qoe_log": qoe(rec, "log"),
        "qoe_hd": qoe(rec, "hd"),
        "startup_s": k.startup_s,
        "rebuffer_s": k.rebuffer_s,
        "stalls": k.stalls,
        "avg_bitrate_kbps": k.avg_bitrate_kbps,
        "switches": k.switches,
        "segments": k.segments,
        **result.stats(),
    }


def register(app: typer.Typer) -> None:
    @app.command("play")
    def play_cmd(
        url: Optional[str] = typer.Argument(None, help="Manifest URL (DASH .mpd, HLS .m3u8) or a stub title.json URL."),
        title: Optional[str] = typer.Option(None, "--title", help="Play this title through the control plane instead of a URL."),
        control: Optional[str] = typer.Option(None, "--control", envvar="ABRLAB_CONTROL", help="Control-plane URL (for --title)."),
        api_key: Optional[str] = typer.Option(None, "--api-key", envvar="ABRLAB_API_KEY", help="Control-plane API key (for --title)."),
        abr: Optional[str] = typer.Option(None, "--abr", "-a", help="ABR spec, e.g. 'bola:gamma_p=5'. Default: the control plane's recommendation, or bola."),
        trace: Optional[Path] = typer.Option(None, "--trace", help="Trace for the edge to shape this session by (needs an abrlab edge)."),
        speed: Optional[float] = typer.Option(None, "--speed", help="Play k times faster (must match the stub's --speed)."),
        manifest: str = typer.Option("dash", "--manifest", help="With --title: dash, hls, dash_ranges, hls_ranges or native."),
        mode: str = typer.Option("default", "--mode", "-m", help="Session configuration preset (default, sabre, pensieve)."),
        settings: Optional[List[str]] = typer.Option(None, "--set", help="Session setting override, e.g. --set max_buffer_s=30."),
        events: Optional[Path] = typer.Option(None, "--events", help="Write the session's events as JSON lines."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No live status line."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Play a title over HTTP, headless: live status line, then a QoE summary."""
        from rich.console import Console
        from rich.live import Live
        from rich.table import Table
        from rich.text import Text

        from player.cli import UserError
        from player.cli.replay_cmd import parse_settings
        from player.config import mode_config
        from player.http.driver import PlayError
        from player.http.play import MANIFEST_KINDS, play_title, play_url
        from player.output_file import atomic_open, check_output_path
        from traces.formats import load_trace

        if (url is None) == (title is None):
            raise UserError("give a manifest URL or --title NAME (not both)")
        if title is not None and (not control or not api_key):
            raise UserError("--title needs --control URL and --api-key KEY (or ABRLAB_CONTROL / ABRLAB_API_KEY)")
        if manifest not in MANIFEST_KINDS:
            raise UserError(f"--manifest must be one of {', '.join(MANIFEST_KINDS)}")
        if speed is not None and not speed > 0:
            raise UserError("--speed must be positive")
        cfg = mode_config(mode, **parse_settings(settings))
        tr = load_trace(trace) if trace is not None else None
        if events is not None:
            check_output_path(events)  # before the session, not after it
        err = Console(stderr=True)
        live = Live(Text(""), console=err, refresh_per_second=8, transient=True) if not quiet else None

        def on_status(st: Any) -> None:
            if live is not None:
                live.update(Text(status_line(st)))

        async def go() -> Any:
            if title is not None:
                return await play_title(control, api_key, title, abr, manifest=manifest, trace=tr, speed=speed, mode=mode, config=cfg, on_status=on_status)  # type: ignore[arg-type]
            return await play_url(url, abr or "bola", trace=tr, speed=speed or 1.0, mode=mode, config=cfg, on_status=on_status)  # type: ignore[arg-type]

        try:
            if live is not None:
                with live:
                    result = asyncio.run(go())
            else:
                result = asyncio.run(go())
        except PlayError as e:
            raise UserError(str(e)) from None
        if events is not None:
            try:
                with atomic_open(events) as f:
                    for ev in result.session.log:
                        f.write(json.dumps(ev.to_dict()) + "\n")
            except OSError as e:
                raise UserError(f"{events}: cannot write ({e.strerror})") from None
        s = summary(result)
        for w in s["warnings"]:
            err.print(f"abrlab: warning: {w}", markup=False, highlight=False)
        if as_json:
            print(json.dumps(s, default=str))
            return
        table = Table(title=f"{s['title']} with {s['abr']}: {s['end']}", show_header=False)
        for key in ("qoe_lin", "qoe_log", "qoe_hd", "startup_s", "rebuffer_s", "stalls", "avg_bitrate_kbps", "switches", "segments", "requests", "errors", "failovers"):
            v = s[key]
            table.add_row(key, f"{v:.3f}" if isinstance(v, float) else str(v))
        Console().print(table)
        if s["end"] != "completed":
            raise typer.Exit(1)
