"""``abrlab abr``: list the algorithms and their parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from abr.registry import describe_all


def register(app: typer.Typer) -> None:
    abr_app = typer.Typer(help="ABR algorithms.", no_args_is_help=True)
    app.add_typer(abr_app, name="abr")

    @abr_app.command("list")
    def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Every algorithm with its family, parameters, defaults and source, and the
        abandonment rules any of them takes (NAME:abandon=RULE)."""
        from abr.abandon import describe_rules

        rows = describe_all() + describe_rules()
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
            params = "\n".join(_param_line(k, v) for k, v in r["params"].items())
            presets = "\n".join(f"{k}: {v}" for k, v in r["presets"].items())
            if r["mode_presets"]:
                presets += "\n" + ", ".join(f"--mode {m} -> {p}" for m, p in r["mode_presets"].items())
            table.add_row(r["name"], r["family"], params, presets.strip(), r["source"])
        Console().print(table)

    @abr_app.command("train")
    def train_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="Where to write the model JSON."),
        seed: int = typer.Option(0, "--seed", min=0, help="Seed of the traces, titles, exploration and trees (same seed, same file)."),
        rounds: int = typer.Option(5, "--rounds", min=1, help="DAgger rounds (round 0 follows the oracle)."),
        traces: int = typer.Option(75, "--traces", min=1, help="Generated episodes per round."),
        horizon: int = typer.Option(10, "--horizon", min=1, help="Segments the oracle looks ahead."),
        step: float = typer.Option(0.05, "--step", min=1e-6, help="The oracle's time grid (seconds)."),
        explore: float = typer.Option(0.1, "--explore", min=0.0, max=0.99, help="Chance of a random neighbouring rung per decision."),
        rounds_trees: int = typer.Option(60, "--rounds-trees", min=1, help="Trees of the intermediate policies."),
        trees: int = typer.Option(150, "--trees", min=1, help="Trees in the final ensemble."),
        depth: int = typer.Option(5, "--depth", min=1, max=8, help="Depth of each tree."),
        min_leaf: int = typer.Option(20, "--min-leaf", min=1, help="Fewest samples in a leaf."),
        learning_rate: float = typer.Option(0.1, "--learning-rate", min=1e-6, help="Gradient-boosting shrinkage."),
        subsample: float = typer.Option(0.8, "--subsample", min=0.01, max=1.0, help="Share of the rows each tree sees."),
        clip: float = typer.Option(20.0, "--clip", min=0.001, help="Advantages below -CLIP are clipped to it."),
        mode: str = typer.Option("both", "--mode", "-m", help="Simulator mode of the episodes: default, pensieve or both (alternating)."),
    ) -> None:
        """Train the learned ABR with DAgger against an oracle that knows the trace; use
        it with --abr learned:model=PATH. The defaults make the bundled model."""
        from player.cli import UserError
        from player.imitation import TrainingError, TrainSpec, train

        from player.output_file import check_output_path

        check_output_path(out)  # now, not after minutes of training
        spec = TrainSpec(seed=seed, rounds=rounds, traces_per_round=traces, horizon=horizon, step_s=step, explore=explore,
                         rounds_trees=rounds_trees, n_estimators=trees, max_depth=depth, min_samples_leaf=min_leaf,
                         learning_rate=learning_rate, subsample=subsample, clip_advantage=clip, mode=mode)
        console = Console()
        try:
            model = train(out, spec, progress=console.print)
        except TrainingError as e:
            raise UserError(str(e)) from None
        meta = model["meta"]
        console.print(
            f"wrote {out}: {len(model['ensemble']['roots'])} trees from {meta['data']['decisions']} labelled "
            f"decisions ({meta['data']['episodes']} episodes); made by: {meta['command']}"
        )


def _param_line(name: str, p: dict[str, Any]) -> str:
    """``safety=0.9 (in (0, 1])  fraction of ...``: default, allowed values, doc."""
    allowed = p.get("bounds") or ("|".join(map(str, p["choices"])) if p.get("choices") else "")
    return f"{name}={p['default']!r}" + (f" ({allowed})" if allowed else "") + f"  {p['doc']}"
