"""Network traces: the model, file formats, statistics and generators."""

from traces.formats import detect_format, iter_trace_files, load_trace, save_trace
from traces.model import Provenance, Trace, TraceError, constant_trace

__all__ = [
    "Provenance",
    "Trace",
    "TraceError",
    "constant_trace",
    "detect_format",
    "iter_trace_files",
    "load_trace",
    "save_trace",
]
