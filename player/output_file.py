"""Writing an output file without losing what is already there.

Results, event logs and trained models can take minutes to make, so a path that cannot
be written is refused before the work starts (:func:`check_output_path`), and the file
is written beside its destination and renamed into place only when complete
(:func:`atomic_open`): a run that fails or is interrupted leaves an earlier file of
the same name as it was, and no half-written file behind.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator


class OutputError(ValueError):
    """An output path that cannot be written; ``str(err)`` names the path and the problem."""

    def __init__(self, message: str, path: str | os.PathLike[str]):
        self.path = str(path)
        self.problem = message
        super().__init__(f"{path}: {message}")


def partial_path(path: str | os.PathLike[str]) -> Path:
    """Where ``path`` is written before it is renamed into place (a hidden sibling)."""
    p = Path(path)
    return p.with_name(f".{p.name}.partial")


def check_output_path(path: str | os.PathLike[str], extensions: tuple[str, ...] | None = None) -> Path:
    """Refuse now what would fail at the end: an unknown extension, a directory, a
    missing parent directory, a place where no file can be created."""
    p = Path(path)
    if extensions is not None and p.suffix.lower() not in extensions:
        raise OutputError(f"unknown output format {p.suffix or '(none)'!r}; use {', '.join(extensions)}", p)
    if p.is_dir():
        raise OutputError("is a directory", p)
    parent = p.parent
    if not parent.is_dir():
        raise OutputError(f"directory {parent} does not exist", p)
    # Probe by creating the file we would write first (permissions, read-only or
    # special file systems: os.access cannot tell, and says yes to root everywhere).
    tmp = partial_path(p)
    try:
        with open(tmp, "ab"):
            pass
    except OSError as e:
        raise OutputError(f"cannot write ({e.strerror})", p) from None
    tmp.unlink(missing_ok=True)
    return p


def finish(tmp: Path, path: Path) -> None:
    """Move a completely written ``tmp`` into place at ``path`` (removing ``tmp`` on failure)."""
    try:
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write ({e.strerror})", path) from None


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(path, mode)`` whose content replaces ``path`` only if the block completes."""
    p = Path(path)
    tmp = partial_path(p)
    try:
        fh = open(tmp, mode, **kwargs)
    except OSError as e:
        raise OutputError(f"cannot write ({e.strerror})", p) from None
    try:
        with fh:
            yield fh
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finish(tmp, p)
