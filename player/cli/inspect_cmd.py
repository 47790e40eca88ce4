"""``abrlab inspect FILE|URL``: what a DASH MPD or HLS playlist contains."""

from __future__ import annotations

import json
import time

import typer
from rich.console import Console
from rich.table import Table


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    def inspect_cmd(
        source: str = typer.Argument(..., help="A DASH MPD or HLS playlist: a file path or an http(s) URL."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        resolve: bool = typer.Option(False, "--resolve", help="Also fetch sub-resources (sidx index ranges, HLS media playlists) to count every segment."),
    ) -> None:
        """Periods, adaptation sets, rungs (bandwidth, resolution, codecs), segment duration
        and count, live window. A malformed manifest exits with status 2."""
        from player.manifest.facts import manifest_facts
        from player.manifest.load import load_manifest
        from player.manifest.resolve import resolve_manifest

        m = load_manifest(source)
        if resolve:
            resolve_manifest(m)
        facts = manifest_facts(m, now_s=time.time())
        if as_json:
            print(json.dumps(facts, indent=2, default=str))
            return
        _print(facts)


def _fmt(x: object, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:g}{unit}"
    return f"{x}{unit}"


def _print(f: dict) -> None:
    con = Console()
    kind = {"mpd": "DASH MPD", "master": "HLS master playlist", "media": "HLS media playlist"}[f["kind"]]
    live = "live" if f["is_live"] else ("VOD" if f["is_live"] is False else "live or VOD (see media playlists)")
    con.print(f"[bold]{f['source']}[/bold]: {kind}, {live}")
    con.print(
        f"duration {_fmt(f['duration_s'], ' s')}, periods {_fmt(f['periods'])}, segment duration "
        f"{_fmt(f['segment_duration_s'], ' s')}, segments of the lowest rung {_fmt(f['first_video_segments'])}"
        + (f", target duration {_fmt(f['target_duration_s'], ' s')}" if f["target_duration_s"] is not None else "")
    )
    if f["periods_detail"] and len(f["periods_detail"]) > 1:
        t = Table(title="Periods")
        for c in ("id", "start (s)", "duration (s)", "video rungs"):
            t.add_column(c)
        for p in f["periods_detail"]:
            t.add_row(str(p["id"]), _fmt(p["start_s"]), _fmt(p["duration_s"]), str(p["video_rungs"]))
        con.print(t)
    if f["adaptation_sets"]:
        t = Table(title="Adaptation sets (first period)")
        for c in ("type", "id/group", "lang", "roles", "rungs", "protection"):
            t.add_column(c)
        for a in f["adaptation_sets"]:
            t.add_row(a["content_type"] + (" (trick)" if a["trick_mode"] else ""), str(a["id"] or a["group_id"] or "-"),
                      a["lang"] or "-", ",".join(a["roles"]) or "-", str(a["representations"]),
                      ",".join(a["content_protection"]) or "-")
        con.print(t)
    for media in ("video", "audio"):
        if f[media]:
            t = Table(title=f"{media.capitalize()} rungs")
            for c in ("bandwidth (kbps)", "avg (kbps)", "resolution", "codecs", "fps", "id"):
                t.add_column(c)
            for r in f[media]:
                res = f"{r['width']}x{r['height']}" if r["width"] and r["height"] else "-"
                avg = r["average_bandwidth_bps"]
                bw = r["bandwidth_bps"]
                t.add_row(f"{bw / 1000:g}" if bw is not None else "-", f"{avg / 1000:g}" if avg else "-", res,
                          r["codecs"] or "-", _fmt(r["frame_rate"]), str(r["id"] or "-"))
            con.print(t)
    if f["text"]:
        con.print("text: " + ", ".join(f"{x['lang'] or '?'} ({x['codecs'] or x['mime_type'] or '?'})" for x in f["text"]))
    if f["iframe_streams"]:
        con.print(f"I-frame streams: {len(f['iframe_streams'])}")
    if f["live"]:
        con.print("live: " + ", ".join(f"{k}={v}" for k, v in f["live"].items() if v not in (None, [], 0)))
    for w in f["warnings"]:
        con.print(f"[yellow]warning:[/yellow] {w}")
