"""Trace file formats: readers, writers, detection by content, conversion.

One module per format, each saying in its docstring what the format carries and what it
cannot: ``sabre`` (Sabre JSON), ``cooked`` (Pensieve), ``mahimahi`` (mm-link delivery
opportunities), ``plain_csv`` (abrlab CSV). ``detect`` picks the format from the
content; ``files`` holds the table of formats and the load/save/convert functions.
"""

from traces.formats.cooked import cooked_arrays, read_cooked, write_cooked
from traces.formats.detect import detect_format
from traces.formats.files import (
    FORMATS,
    READERS,
    WRITERS,
    TraceFormat,
    conversion_losses,
    convert,
    format_for_path,
    get_format,
    iter_trace_files,
    load_trace,
    read_trace_text,
    save_trace,
)
from traces.formats.mahimahi import PACKET_BYTES, read_mahimahi, write_mahimahi
from traces.formats.plain_csv import read_csv, write_csv
from traces.formats.sabre import read_sabre, write_sabre

__all__ = [
    "FORMATS",
    "PACKET_BYTES",
    "READERS",
    "WRITERS",
    "TraceFormat",
    "conversion_losses",
    "convert",
    "cooked_arrays",
    "detect_format",
    "format_for_path",
    "get_format",
    "iter_trace_files",
    "load_trace",
    "read_cooked",
    "read_csv",
    "read_mahimahi",
    "read_sabre",
    "read_trace_text",
    "save_trace",
    "write_cooked",
    "write_csv",
    "write_mahimahi",
    "write_sabre",
]
