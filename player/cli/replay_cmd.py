"""``abrlab replay``: batch replays of traces x algorithms in simulation."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from abr.registry import split_specs
from player.config import MODES
from player.defaults import default_content, default_traces
from player.replay import TRACE_ORDERS, collect_traces, replay, resolve_order
from player.results import METRICS, ResultWriter
from qoe.metrics import QOE_MODELS, summarize


def parse_settings(items: list[str] | None) -> dict[str, Any]:
    """``--set max_buffer_s=30`` session settings, typed from SessionConfig's defaults."""
    from player.cli import UserError
    from player.config import SessionConfig

    defaults = SessionConfig().to_dict()
    out: dict[str, Any] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in defaults or key == "mode":
            known = ", ".join(k for k in defaults if k != "mode")
            raise UserError(f"--set {item!r}: expected key=value with key one of {known}")
        d = defaults[key]
        v: Any = value.strip()
        try:
            if isinstance(d, bool):
                v = v.lower() in ("1", "true", "yes", "on")
            elif isinstance(d, float) or key.endswith("_s"):
                v = float(v)
            elif isinstance(d, int) or key in ("first_rung_bps", "max_segments"):
                v = None if v.lower() == "none" else int(v)
        except ValueError:
            raise UserError(f"--set {item!r}: not a number") from None
        if isinstance(v, float) and not math.isfinite(v):
            # NaN passes every "must be positive" check in SessionConfig (it compares false).
            raise UserError(f"--set {item!r}: not a finite number")
        out[key] = v
    return out


def summary_table(rows_by_abr: dict[str, dict[str, list[float]]], title: str, metrics: list[str] | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("abr")
    table.add_column("n", justify="right")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("median", justify="right")
    table.add_column("p10", justify="right")
    for abr, metrics in rows_by_abr.items():
        first = True
        n = len(next(iter(metrics.values()))) if metrics else 0
        for m in metrics or METRICS:
            s = summarize(metrics.get(m, []))
            table.add_row(
                abr if first else "",
                str(n) if first else "",
                m,
                _fmt(s["mean"]),
                _fmt(s["median"]),
                _fmt(s["p10"]),
            )
            first = False
        table.add_section()
    return table


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.3f}" if abs(x) < 1e4 else f"{x:.4g}"


def register(app: typer.Typer) -> None:
    @app.command("replay")
    def replay_cmd(
        trace: Optional[List[Path]] = typer.Option(None, "--trace", "-t", help="Trace file or directory (repeatable). Default: the bundled generated traces."),
        content: Optional[Path] = typer.Option(None, "--content", "-c", help="Title: Sabre movie JSON or abrlab title JSON. Default: the bundled demo title."),
        abr: List[str] = typer.Option(["bba,throughput,bola"], "--abr", "-a", help="ABR spec(s), comma-separated, e.g. 'bba,bola:gamma_p=5,buffer_s=25'."),
        mode: str = typer.Option("default", "--mode", "-m", help=f"Simulator mode: {', '.join(MODES)}."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write per-session results (.csv, .jsonl or .parquet)."),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes."),
        settings: Optional[List[str]] = typer.Option(None, "--set", help="Session setting override, e.g. --set max_buffer_s=30 (repeatable)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
        regret: Optional[str] = typer.Option(None, "--regret", help="Also compute each trace's offline optimum under this QoE model (lin, log, hd, yin) and report every session's regret (optimum minus achieved)."),
        order: str = typer.Option("auto", "--order", help="Trace order within a directory: 'sorted' by name, 'listdir' (os.listdir order, as Pensieve's load_trace reads them), or 'auto' = listdir when an algorithm's state carries across sessions (robustmpc:pensieve_quirks=true), else sorted."),
    ) -> None:
        """Replay traces x ABR algorithms in simulation; print a summary, write results."""
        from player.cli import UserError

        if mode not in MODES:
            raise UserError(f"unknown mode {mode!r} (known: {', '.join(MODES)})")
        specs = [s for item in abr for s in split_specs(item)]
        if not specs:
            raise UserError("no ABR algorithm given")
        trace_inputs = list(trace) if trace else [default_traces()]
        content_path = content or default_content()
        overrides = parse_settings(settings)
        if regret is not None and regret not in QOE_MODELS:
            raise UserError(f"--regret {regret!r}: choose one of {', '.join(QOE_MODELS)}")
        if order not in TRACE_ORDERS:
            raise UserError(f"--order {order!r}: choose one of {', '.join(TRACE_ORDERS)}")
        metrics = METRICS + (["qoe_optimum", "regret"] if regret else [])
        paths = collect_traces(trace_inputs, resolve_order(order, specs, mode))
        total = len(paths) * len(specs)
        console = Console(stderr=True)
        writer = ResultWriter(out) if out else None
        stats: dict[str, dict[str, list[float]]] = {}
        rows_iter = replay(trace_inputs, content_path, specs, mode, jobs=jobs, config=overrides, order=order, regret=regret)
        try:
            with Progress(
                TextColumn("[bold]replay"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=console,
                disable=quiet,
                transient=True,
            ) as progress:
                task = progress.add_task("sessions", total=total)
                for row in rows_iter:
                    if writer:
                        writer.write(row)
                    per = stats.setdefault(row["abr_spec"], {})
                    for m in metrics:
                        per.setdefault(m, []).append(row[m])
                    progress.advance(task)
        except BaseException:
            if writer:
                writer.abort()
            raise
        if writer:
            writer.close()
        out_console = Console()
        out_console.print(
            summary_table(stats, f"{total} sessions: {len(paths)} traces x {len(specs)} ABR, mode {mode}, content {Path(content_path).name}", metrics)
        )
        if out:
            out_console.print(f"results: {out} ({writer.rows_written if writer else 0} rows)")
