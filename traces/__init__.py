"""Network traces: the model, file formats, statistics, windows, filters and generators.

Where things live:

- ``traces.model``: ``Trace`` (piecewise-constant capacity, per-entry latency, loops),
  ``Provenance``, ``TraceError``, ``constant_trace``;
- ``traces.formats``: Sabre JSON, Pensieve cooked, Mahimahi, abrlab CSV; detection by
  content; load/save/convert;
- ``traces.capacity``: cumulative capacity, binning, and the round-trip error measure;
- ``traces.stats``: duration, mean/median/p10/p90 rate, outage share;
- ``traces.windows`` / ``traces.filters``: N-second windows, rate bounds (Pensieve's);
- ``traces.generators`` / ``traces.markov`` / ``traces.fit``: constant, step and Markov
  generators, the profile model, and the script fitting it to the real traces;
- ``traces.provenance``: ``from_provenance`` rebuilds any trace from where it came from;
- ``traces.bundle``: the small generated set shipped in ``traces/bundled/``.
"""

from traces.formats import detect_format, iter_trace_files, load_trace, save_trace
from traces.model import Provenance, Trace, TraceError, constant_trace
from traces.provenance import from_provenance

__all__ = [
    "Provenance",
    "Trace",
    "TraceError",
    "constant_trace",
    "detect_format",
    "from_provenance",
    "iter_trace_files",
    "load_trace",
    "save_trace",
]
