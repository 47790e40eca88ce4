"""Where the bundled defaults live (our own generated title and traces)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def default_content() -> Path:
    """The bundled demo title, made by ``player.titlegen.generate_title()``."""
    return _HERE / "data" / "demo-title.json"


def default_traces() -> Path:
    """The bundled trace set, made by our Markov generator (see ``traces.generators``)."""
    import traces

    return Path(traces.__file__).resolve().parent / "bundled"
