"""The ``abrlab`` command line (typer).

Each command group lives in its own module here and registers itself on ``app`` via a
``register(app)`` function listed in ``COMMAND_MODULES``. User errors (bad trace, bad
title, bad ABR spec, bad manifest...) print one line and exit with status 2, never a
traceback.
"""

from __future__ import annotations

import importlib
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
    from player.presentation import ContentError
    from traces.model import TraceError

    errs: list[type[BaseException]] = [UserError, AbrError, ConfigError, ContentError, TraceError]
    try:
        from player.manifest.errors import ManifestError  # type: ignore[import-not-found]

        errs.append(ManifestError)
    except ImportError:
        pass
    return tuple(errs)


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def main(argv: Sequence[str] | None = None) -> None:
    _register()
    errors = _user_errors()
    try:
        # Standalone mode: typer handles usage errors and Ctrl-C itself; anything else
        # a command raises comes out here.
        app(args=list(argv) if argv is not None else None)
    except errors as e:  # type: ignore[misc]
        print(f"abrlab: error: {e}", file=sys.stderr)
        sys.exit(2)
