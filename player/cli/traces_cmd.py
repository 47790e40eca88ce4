"""``abrlab traces``: convert, describe, cut, filter and generate network traces.

Every command reads traces by content (the format is detected, never guessed from the
name), refuses to overwrite its input, refuses to overwrite existing outputs unless
``--force``, and reports a bad trace as one line naming the file and line (exit 2).
The library behind it is the ``traces`` package; this module only parses arguments
and prints.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from traces.filters import PRESETS, RateBounds
from traces.formats import FORMATS, conversion_losses, format_for_path, get_format, iter_trace_files, load_trace, save_trace
from traces.generators import load_profiles, markov_trace, step_trace
from traces.model import Trace, constant_trace
from traces.stats import DEFAULT_BIN_S, DEFAULT_OUTAGE_FRACTION, summarize_stats, trace_stats
from traces.windows import has_capacity, window, window_starts


def _user_error(message: str) -> Exception:
    from player.cli import UserError

    return UserError(message)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.resolve().samefile(b.resolve())
    except OSError:
        return False


def _check_output(out: Path, inputs: list[Path], force: bool) -> None:
    for src in inputs:
        if out.resolve() == src.resolve() or _same_file(out, src):
            raise _user_error(f"{out}: refusing to overwrite the input trace")
    if out.exists() and not force:
        raise _user_error(f"{out}: already exists (use --force to overwrite)")


def _note(trace: Trace, fmt: str, seen: set[str]) -> None:
    """Say once per kind what the output format cannot carry (plain one-line notes)."""
    for loss in conversion_losses(trace, fmt):
        if loss not in seen:
            seen.add(loss)
            print(f"note: writing {fmt} {loss}", file=sys.stderr)


def _out_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise _user_error(f"{path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _user_error(f"{path}: cannot create the directory ({e.strerror})") from None


def _finite(**options: float | None) -> None:
    """typer's ``min=`` refuses NaN but lets ``inf`` through; no option here means
    anything infinite (an infinite bin is no bin, an infinite trace cannot be written)."""
    for name, value in options.items():
        if value is not None and not math.isfinite(value):
            raise _user_error(f"--{name.replace('_', '-')} must be a finite number, got {value:g}")


def _ordered(low_name: str, low: float | None, high_name: str, high: float | None) -> None:
    if low is not None and high is not None and low > high:
        raise _user_error(f"--{low_name} {low:g} is above --{high_name} {high:g}: no trace can pass")


# A longer generated trace is a user's typo, not a trace: 10^6 s is 11.6 days of 1 s
# steps, already a 30 MB Sabre file; 10^12 s asked numpy for terabytes.
MAX_GENERATED_S = 1e6


def _ext(fmt: str) -> str:
    return get_format(fmt).extensions[0]


def _mbps(x: float) -> str:
    return f"{x / 1e6:.3f}"


def register(app: typer.Typer) -> None:
    traces_app = typer.Typer(help="Network traces: convert, stats, window, filter, generate.", no_args_is_help=True)
    app.add_typer(traces_app, name="traces")

    @traces_app.command("convert")
    def convert_cmd(
        src: Path = typer.Argument(..., help="Trace file (any supported format), or a directory of them."),
        out: Path = typer.Argument(..., help="Output file (format from its extension), or a directory when SRC is one."),
        to: Optional[str] = typer.Option(None, "--to", help=f"Output format: {', '.join(FORMATS)} (default: from OUT's extension)."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing output files."),
    ) -> None:
        """Convert traces between Sabre JSON, Pensieve cooked, Mahimahi and CSV."""
        if to is not None:
            get_format(to)
        seen: set[str] = set()
        if src.is_dir():
            if to is None:
                raise _user_error("converting a directory needs --to FORMAT")
            files = iter_trace_files(src)
            _out_dir(out)
            targets = [out / (f.stem + _ext(to)) for f in files]
            for f, target in zip(files, targets):
                _check_output(target, files, force)
            for f, target in zip(files, targets):
                tr = load_trace(f)
                _note(tr, to, seen)
                save_trace(tr, target, to)
            print(f"converted {len(files)} traces to {to} in {out}")
            return
        fmt = to or format_for_path(out)
        _check_output(out, [src], force)
        tr = load_trace(src)
        _note(tr, fmt, seen)
        save_trace(tr, out, fmt)
        print(f"{src} ({tr.provenance.format}) -> {out} ({fmt})")

    @traces_app.command("stats")
    def stats_cmd(
        paths: List[Path] = typer.Argument(..., help="Trace files or directories."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        bin_s: float = typer.Option(DEFAULT_BIN_S, "--bin-s", min=1e-3, help="Bin width for percentiles and outages (s)."),
        outage_fraction: float = typer.Option(
            DEFAULT_OUTAGE_FRACTION, "--outage-fraction", min=0, help="Outage: a bin below this fraction of the trace's mean rate."
        ),
        outage_below_mbps: Optional[float] = typer.Option(None, "--outage-below-mbps", min=0, help="Outage: a bin below this absolute rate instead."),
    ) -> None:
        """Duration, mean/median/p10/p90 rate and outage share of each trace (see traces.stats)."""
        _finite(bin_s=bin_s, outage_fraction=outage_fraction, outage_below_mbps=outage_below_mbps)
        below = outage_below_mbps * 1e6 if outage_below_mbps is not None else None
        files = [f for p in paths for f in iter_trace_files(p)]
        rows = [trace_stats(load_trace(f), bin_s, outage_fraction, below) for f in files]
        summary = summarize_stats(rows)
        if as_json:
            print(json.dumps({"traces": [r.to_dict() for r in rows], "summary": summary}, indent=1))
            return
        table = Table(title=f"{len(rows)} traces (rates in Mbps over {bin_s:g} s bins)")
        for col in ("trace", "duration_s", "mean", "median", "p10", "p90", "outage"):
            table.add_column(col, justify="left" if col == "trace" else "right")
        for r in rows:
            table.add_row(
                r.name, f"{r.duration_s:.1f}", _mbps(r.mean_bps), _mbps(r.median_bps), _mbps(r.p10_bps),
                _mbps(r.p90_bps), f"{r.outage_share * 100:.1f} %",
            )
        if len(rows) > 1:
            table.add_section()
            table.add_row(
                "all (time-weighted)", f"{summary['total_duration_s']:.1f}", _mbps(summary["mean_bps"]),
                "", "", "", f"{summary['outage_share'] * 100:.1f} %",
            )
        Console().print(table)

    @traces_app.command("window")
    def window_cmd(
        src: Path = typer.Argument(..., help="Trace file or directory."),
        out_dir: Path = typer.Argument(..., help="Directory for the windows."),
        length: float = typer.Option(..., "--length", "-l", min=1e-3, help="Window length (s), e.g. 320 as Pensieve."),
        step: Optional[float] = typer.Option(None, "--step", min=1e-3, help="Start a window every STEP s (default: LENGTH, back to back)."),
        to: str = typer.Option("sabre", "--to", help=f"Output format: {', '.join(FORMATS)}."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing output files."),
    ) -> None:
        """Cut traces into LENGTH-second windows (sliding with --step), one file each."""
        _finite(length=length, step=step)
        get_format(to)
        files = iter_trace_files(src)
        _out_dir(out_dir)
        seen: set[str] = set()
        written = short = outages = 0
        for f in files:
            tr = load_trace(f)
            starts = window_starts(tr, length, step)
            short += not starts
            for k, start in enumerate(starts):
                if not has_capacity(tr, start, length):
                    outages += 1  # a window of pure outage is not a playable trace
                    continue
                w = window(tr, start, length)
                target = out_dir / f"{f.stem}_w{k:03d}{_ext(to)}"
                _check_output(target, files, force)
                _note(w, to, seen)
                save_trace(w, target, to)
                written += 1
        msg = f"wrote {written} windows of {length:g} s to {out_dir}"
        if short:
            msg += f"; {short} traces shorter than one window"
        if outages:
            msg += f"; left out {outages} windows with no capacity at all"
        print(msg)

    @traces_app.command("filter")
    def filter_cmd(
        src: Path = typer.Argument(..., help="Trace file or directory."),
        out_dir: Path = typer.Argument(..., help="Directory receiving copies of the traces that pass."),
        preset: Optional[str] = typer.Option(None, "--preset", help=f"Named bounds: {', '.join(PRESETS)} (mean < 6 Mbps, min > 0.2 Mbps)."),
        min_mean: Optional[float] = typer.Option(None, "--min-mean-mbps", min=0),
        max_mean: Optional[float] = typer.Option(None, "--max-mean-mbps", min=0),
        min_rate: Optional[float] = typer.Option(None, "--min-rate-mbps", min=0, help="Every bin at least this."),
        max_rate: Optional[float] = typer.Option(None, "--max-rate-mbps", min=0, help="Every bin at most this."),
        bin_s: float = typer.Option(1.0, "--bin-s", min=1e-3, help="Bin width for the min/max rate bounds (s)."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing output files."),
    ) -> None:
        """Copy the traces whose rates are within bounds (files are copied unchanged)."""
        _finite(min_mean_mbps=min_mean, max_mean_mbps=max_mean, min_rate_mbps=min_rate, max_rate_mbps=max_rate, bin_s=bin_s)
        _ordered("min-mean-mbps", min_mean, "max-mean-mbps", max_mean)
        _ordered("min-rate-mbps", min_rate, "max-rate-mbps", max_rate)
        if preset is not None:
            if preset not in PRESETS:
                raise _user_error(f"unknown preset {preset!r} (known: {', '.join(PRESETS)})")
            base = PRESETS[preset]
        else:
            base = RateBounds()
        bounds = RateBounds(
            min_mean_bps=min_mean * 1e6 if min_mean is not None else base.min_mean_bps,
            max_mean_bps=max_mean * 1e6 if max_mean is not None else base.max_mean_bps,
            min_rate_bps=min_rate * 1e6 if min_rate is not None else base.min_rate_bps,
            max_rate_bps=max_rate * 1e6 if max_rate is not None else base.max_rate_bps,
            bin_s=bin_s,
        )
        files = iter_trace_files(src)
        _out_dir(out_dir)
        kept = 0
        for f in files:
            if bounds.admits(load_trace(f)):
                target = out_dir / f.name
                _check_output(target, files, force)
                shutil.copyfile(f, target)
                kept += 1
        print(f"kept {kept} of {len(files)} traces ({bounds.describe()}) in {out_dir}")

    @traces_app.command("generate")
    def generate_cmd(
        out: Path = typer.Argument(..., help="Output file, or a directory with --count > 1."),
        profile: Optional[str] = typer.Option(None, "--profile", "-p", help="Markov profile: " + ", ".join(load_profiles()) + "."),
        constant_mbps: Optional[float] = typer.Option(None, "--constant-mbps", help="A constant link instead."),
        steps: Optional[str] = typer.Option(None, "--steps", help="A step schedule instead: 'SECONDS:MBPS,SECONDS:MBPS,...'."),
        duration: float = typer.Option(300.0, "--duration", "-d", min=1e-3, help="Length (s) for profiles and constant links."),
        seed: int = typer.Option(0, "--seed", min=0, help="Seed (Markov profiles); trace k of --count uses SEED + k."),
        count: int = typer.Option(1, "--count", "-n", min=1, help="How many traces (Markov profiles)."),
        latency_ms: float = typer.Option(0.0, "--latency-ms", min=0, help="Latency for constant and step links."),
        to: Optional[str] = typer.Option(None, "--to", help="Output format (default: from OUT's extension, or sabre for a directory)."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing output files."),
    ) -> None:
        """Generate traces: a Markov profile, a constant link or a step schedule."""
        _finite(duration=duration, latency_ms=latency_ms)
        if duration > MAX_GENERATED_S:
            raise _user_error(f"--duration {duration:g}: at most {MAX_GENERATED_S:g} s")
        chosen = [x is not None for x in (profile, constant_mbps, steps)]
        if sum(chosen) != 1:
            raise _user_error("give exactly one of --profile, --constant-mbps, --steps")
        if profile is not None:
            made = [markov_trace(profile, duration, seed + k) for k in range(count)]
        elif count != 1:
            raise _user_error("--count applies to Markov profiles only")
        elif constant_mbps is not None:
            made = [constant_trace(constant_mbps * 1e6, duration, latency_ms / 1000.0)]
        else:
            made = [step_trace(_parse_steps(steps or ""), latency_s=latency_ms / 1000.0)]
        if count > 1 or out.is_dir():
            fmt = to or "sabre"
            get_format(fmt)
            _out_dir(out)
            targets = [out / f"{t.name}{_ext(fmt)}" for t in made]
        else:
            fmt = to or format_for_path(out)
            targets = [out]
        seen: set[str] = set()
        for t, target in zip(made, targets):
            _check_output(target, [], force)
            _note(t, fmt, seen)
            save_trace(t, target, fmt)
        print(f"wrote {len(made)} trace(s): {', '.join(str(t) for t in targets[:3])}{' ...' if len(targets) > 3 else ''}")

    @traces_app.command("profiles")
    def profiles_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """The Markov profiles and the statistics they were fitted to."""
        profiles = load_profiles()
        if as_json:
            print(json.dumps({n: {"label": p.label, "step_s": p.step_s, "states": p.n_states, "fitted": p.fitted, "source": p.source} for n, p in profiles.items()}, indent=1))
            return
        table = Table(title="Markov profiles (fitted by python -m traces.fit)")
        for col in ("profile", "step", "states", "mean", "std", "p10", "p90", "acf1"):
            table.add_column(col, no_wrap=True)
        for n, p in profiles.items():
            f = p.fitted
            table.add_row(
                n, f"{p.step_s:g} s", str(p.n_states), _mbps(f["mean_bps"]), _mbps(f["std_bps"]),
                _mbps(f["p10_bps"]), _mbps(f["p90_bps"]), f"{f['acf']['1']:.3f}",
            )
        table.caption = "rates in Mbps; acf1: lag-1 autocorrelation per step"
        console = Console()
        console.print(table)
        for n, p in profiles.items():
            console.print(f"{n}: {p.label}", highlight=False)

    @traces_app.command("fit")
    def fit_cmd(
        shared: Optional[Path] = typer.Option(None, "--shared", help="Folder holding hsdpa3g/, belgium4g/, fcc_sd/."),
        check: bool = typer.Option(False, "--check", help="Compare a new fit with the shipped profiles instead of writing."),
    ) -> None:
        """Fit the Markov profiles from the real traces (same as python -m traces.fit)."""
        from traces import fit

        argv = (["--shared", str(shared)] if shared else []) + (["--check"] if check else [])
        code = fit.main(argv)
        if code:
            raise typer.Exit(code)

    @traces_app.command("bundle")
    def bundle_cmd(check: bool = typer.Option(False, "--check", help="Verify the bundled set instead of writing it.")) -> None:
        """Regenerate the bundled trace set (same as python -m traces.bundle)."""
        from traces import bundle

        code = bundle.main(["--check"] if check else [])
        if code:
            raise typer.Exit(code)


def _parse_steps(text: str) -> list[list[float]]:
    steps = []
    for part in text.split(","):
        secs, sep, mbps = part.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            steps.append([float(secs), float(mbps) * 1e6])
        except ValueError:
            raise _user_error(f"--steps {part.strip()!r}: expected SECONDS:MBPS") from None
    return steps
