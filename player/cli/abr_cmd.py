"""``abrlab abr``: list the algorithms and their parameters."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from abr.registry import describe_all


def register(app: typer.Typer) -> None:
    abr_app = typer.Typer(help="ABR algorithms.", no_args_is_help=True)
    app.add_typer(abr_app, name="abr")

    @abr_app.command("list")
    def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Every algorithm with its family, parameters, defaults and source."""
        rows = describe_all()
        if as_json:
            print(json.dumps(rows, indent=2, default=str))
            return
        table = Table(title="ABR algorithms", show_lines=True)
        table.add_column("name", style="bold")
        table.add_column("family")
        table.add_column("parameters (default)")
        table.add_column("presets")
        table.add_column("source")
        for r in rows:
            if "error" in r:
                table.add_row(r["name"], "", r["error"], "", "")
                continue
            params = "\n".join(f"{k}={v['default']!r}  {v['doc']}" for k, v in r["params"].items())
            presets = "\n".join(f"{k}: {v}" for k, v in r["presets"].items())
            if r["mode_presets"]:
                presets += "\n" + ", ".join(f"--mode {m} -> {p}" for m, p in r["mode_presets"].items())
            table.add_row(r["name"], r["family"], params, presets.strip(), r["source"])
        Console().print(table)
