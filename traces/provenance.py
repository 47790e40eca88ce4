"""Rebuilding a trace from its provenance.

A trace's :class:`~traces.model.Provenance` is one of:

- ``file``: ``source`` is the path, ``format`` the format it was read as;
- ``generator``: ``source`` names a function in :data:`traces.generators.GENERATORS`,
  ``params`` are all its arguments (seed included);
- ``derived``: ``source`` names an operation applied to ``parent`` with ``params``:
  ``window`` (start_s, duration_s) or ``convert`` (format).

Filtering selects traces without changing them, so a filtered trace keeps its own
provenance. ``memory`` (a Trace built by hand) cannot be rebuilt.
"""

from __future__ import annotations

from typing import Any, Callable

from traces.formats import convert, load_trace
from traces.generators import generate
from traces.model import Provenance, Trace, TraceError
from traces.windows import window

DERIVATIONS: dict[str, Callable[..., Trace]] = {
    "window": window,
    "convert": lambda trace, format: convert(trace, format),
}


def from_provenance(prov: Provenance | dict[str, Any]) -> Trace:
    """The trace ``prov`` describes, made again (a file is read again, a generator rerun
    with the same seed, a derivation reapplied to its rebuilt parent)."""
    if isinstance(prov, dict):
        prov = Provenance.from_dict(prov)
    if prov.kind == "file":
        return load_trace(prov.source, prov.format)
    if prov.kind == "generator":
        return generate(prov.source, **prov.params)
    if prov.kind == "derived":
        if prov.parent is None:
            raise TraceError(f"derived trace {prov.describe()} names no parent")
        op = DERIVATIONS.get(prov.source)
        if op is None:
            raise TraceError(f"unknown derivation {prov.source!r} (known: {', '.join(DERIVATIONS)})")
        return op(from_provenance(prov.parent), **prov.params)
    raise TraceError(f"a trace with provenance {prov.kind!r} ({prov.describe()}) cannot be rebuilt")
