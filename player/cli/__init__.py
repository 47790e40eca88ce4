"""The ``abrlab`` command line (typer).

Each command group lives in its own module here and registers itself on ``app`` via a
``register(app)`` function listed in ``COMMAND_MODULES``. User errors (bad trace, bad
title, bad ABR spec, bad manifest...) print one line and exit with status 2, never a
traceback.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Sequence

import typer

app = typer.Typer(
    name="abrlab",
    help="abrlab: adaptive-bitrate player and QoE lab.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = [
    "player.cli.replay_cmd",
    "player.cli.abr_cmd",
    "player.cli.inspect_cmd",
    "player.cli.traces_cmd",
    "player.cli.tui_cmd",
    "player.cli.serve_cmd",
    "player.cli.play_cmd",
]


class UserError(Exception):
    """Raised by commands for a problem the user can fix; printed as one line."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from abr.base import AbrError
    from player.config import ConfigError
    from player.output_file import OutputError
    from player.presentation import ContentError
    from traces.model import TraceError

    errs: list[type[BaseException]] = [UserError, AbrError, ConfigError, ContentError, TraceError, OutputError]
    try:
        from player.manifest.errors import ManifestError  # type: ignore[import-not-found]

        errs.append(ManifestError)
    except ImportError:
        pass
    return tuple(errs)


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    _short_helps(app)


def _short_helps(t: typer.Typer) -> None:
    """A command list shows each command's first docstring paragraph as one line (typer
    would keep the docstring's own line breaks there, breaking sentences mid-table)."""
    for info in t.registered_commands:
        doc = info.help or (info.callback.__doc__ if info.callback else None)
        if info.short_help is None and doc:
            first = inspect.cleandoc(doc).split("\n\n")[0]
            info.short_help = " ".join(first.split())
    for group in t.registered_groups:
        if group.typer_instance is not None:
            _short_helps(group.typer_instance)


def _click_exceptions():  # type: ignore[no-untyped-def]
    try:
        from typer._click import exceptions  # typer >= 0.20 carries its own copy of click
    except ImportError:  # pragma: no cover - older typer on top of click
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def main(argv: Sequence[str] | None = None) -> None:
    _register()
    errors = _user_errors()
    ce = _click_exceptions()
    try:
        # Not standalone: typer would draw usage errors (a bad option value, an unknown
        # command) as a many-line box; we print them as one line, like our own errors.
        code = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except errors as e:  # type: ignore[misc]
        print(f"abrlab: error: {e}", file=sys.stderr)
        sys.exit(2)
    except ce.NoArgsIsHelpError as e:
        sys.exit(e.exit_code)  # typer has printed the help already
    except ce.UsageError as e:
        where = e.ctx.command_path if e.ctx is not None else "abrlab"
        message = " ".join(e.format_message().split())
        print(f"{where}: error: {message} (see {where} --help)", file=sys.stderr)
        sys.exit(e.exit_code)
    except ce.ClickException as e:
        print(f"abrlab: error: {' '.join(e.format_message().split())}", file=sys.stderr)
        sys.exit(e.exit_code)
    except typer.Abort:
        print("abrlab: aborted", file=sys.stderr)
        sys.exit(1)
    if isinstance(code, int) and not isinstance(code, bool):
        sys.exit(code)  # typer.Exit(code) raised by a command, or 130 after Ctrl-C
