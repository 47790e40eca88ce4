"""``abrlab abr``: list the algorithms and their parameters."""

from __future__ import annotations

import json
from pathlib import Path

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

    @abr_app.command("train")
    def train_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="Where to write the model JSON."),
        seed: int = typer.Option(0, "--seed", help="Seed of the training traces, title and tree (same seed, same file)."),
        traces: int = typer.Option(80, "--traces", min=1, help="Number of generated training traces."),
        max_depth: int = typer.Option(7, "--max-depth", min=1, max=20, help="Depth of the decision tree."),
        mode: str = typer.Option("default", "--mode", "-m", help="Simulator mode the optimum is computed in."),
    ) -> None:
        """Train the learned ABR by imitating the offline optimum; use it with
        --abr learned:model=PATH."""
        from player.cli import UserError
        from player.config import MODES
        from player.imitation import train

        if mode not in MODES:
            raise UserError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
        if out.parent and not out.parent.exists():
            raise UserError(f"{out}: directory {out.parent} does not exist")
        try:
            model = train(out, seed=seed, n_traces=traces, max_depth=max_depth, mode=mode)
        except RuntimeError as e:
            raise UserError(str(e)) from None
        meta = model["meta"]
        Console().print(
            f"wrote {out}: {len(model['tree']['left'])} tree nodes from {meta['samples']} decisions "
            f"on {traces} traces (train accuracy {meta['train_accuracy']:.3f})"
        )
