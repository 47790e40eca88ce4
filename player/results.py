"""The per-session result schema and streaming writers (CSV, JSON Lines, Parquet).

One row per session. Every row carries the trace's provenance and hash, the title's
source and hash, the ABR spec and its resolved parameters, the mode and the full
session configuration, so any row can be re-run (:func:`player.replay.rerun`).
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable

from player.output_file import check_output_path, finish, partial_path
from qoe.metrics import kpis, qoe

SCHEMA_VERSION = 1

# (column, type) in output order. Types: str, int, float.
RESULT_COLUMNS: list[tuple[str, type]] = [
    ("trace", str),
    ("trace_sha256", str),
    ("trace_provenance", str),
    ("content", str),
    ("content_sha256", str),
    ("abr", str),
    ("abr_spec", str),
    ("params", str),
    ("mode", str),
    ("config", str),
    ("session_id", str),
    ("segments", int),
    ("startup_s", float),
    ("rebuffer_s", float),
    ("stalls", int),
    ("stall_ratio", float),
    ("avg_bitrate_kbps", float),
    ("switches", int),
    ("switch_magnitude_kbps", float),
    ("played_s", float),
    ("time_per_rung_s", str),
    ("qoe_lin", float),
    ("qoe_log", float),
    ("qoe_hd", float),
    ("qoe_yin", float),
    ("schema", int),
    # Optional (null unless the replay asked for regret, ``--regret MODEL``): the offline
    # optimum's upper bound for this (trace, title, mode) under QoE model ``regret_model``
    # (player.optimum), the QoE its best path achieves when replayed, and
    # regret = qoe_optimum - this session's QoE under that model (never negative).
    ("regret_model", str),
    ("qoe_optimum", float),
    ("qoe_optimum_path", float),
    ("regret", float),
]
OPTIONAL_COLUMNS = ("regret_model", "qoe_optimum", "qoe_optimum_path", "regret")
COLUMN_NAMES = [c for c, _ in RESULT_COLUMNS]
METRICS = ["startup_s", "rebuffer_s", "stalls", "avg_bitrate_kbps", "switches", "qoe_lin", "qoe_log", "qoe_hd"]


def result_row(session: Any, trace: Any, abr_spec: str, content: str) -> dict[str, Any]:
    """The result row of a finished session (``player.session.Session``)."""
    cfg = session.config
    rec = session.record()
    k = kpis(rec, n_rungs=len(session.title.video.rungs))
    pensieve = cfg.mode == "pensieve"
    # Pensieve reports the sum of per-chunk rewards over chunks 2..N, so the startup
    # delay (chunk 1's rebuffer) is reported but not penalised. Elsewhere the startup
    # delay counts as the first segment's rebuffering, as Pensieve's QoE defines it.
    q = {m: qoe(rec, m, drop_first=pensieve) for m in ("lin", "log", "hd", "yin")}
    abr = session.video.abr
    params = getattr(abr, "params", {}) or {}
    return {
        "trace": trace.name,
        "trace_sha256": trace.sha256,
        "trace_provenance": json.dumps(trace.provenance.to_dict(), sort_keys=True),
        "content": content,
        "content_sha256": session.title.sha256,
        "abr": str(getattr(abr, "name", type(abr).__name__)),
        "abr_spec": abr_spec,
        "params": json.dumps(params, sort_keys=True, default=_jsonable),
        "mode": cfg.mode,
        "config": json.dumps(cfg.to_dict(), sort_keys=True),
        "session_id": session.session_id,
        "segments": k.segments,
        "startup_s": k.startup_s,
        "rebuffer_s": k.rebuffer_s,
        "stalls": k.stalls,
        "stall_ratio": k.stall_ratio,
        "avg_bitrate_kbps": k.avg_bitrate_kbps,
        "switches": k.switches,
        "switch_magnitude_kbps": k.switch_magnitude_kbps,
        "played_s": k.played_s,
        "time_per_rung_s": json.dumps([round(x, 9) for x in k.time_per_rung_s]),
        "qoe_lin": q["lin"],
        "qoe_log": q["log"],
        "qoe_hd": q["hd"],
        "qoe_yin": q["yin"],
        "schema": SCHEMA_VERSION,
        "regret_model": None,
        "qoe_optimum": None,
        "qoe_optimum_path": None,
        "regret": None,
    }


def add_regret(row: dict[str, Any], model: str, bound: float, path_qoe: float | None) -> dict[str, Any]:
    """Fill the optional regret columns of ``row`` from the offline optimum."""
    row["regret_model"] = model
    row["qoe_optimum"] = bound
    row["qoe_optimum_path"] = path_qoe
    row["regret"] = bound - row[f"qoe_{model}"]
    return row


def _jsonable(x: Any) -> Any:
    if isinstance(x, tuple):
        return list(x)
    return str(x)


class ResultWriter:
    """Streams rows to ``path``; the format follows the extension (.csv, .jsonl, .parquet).

    Rows are written as they come (Parquet in row groups of ``batch`` rows), so a batch
    of any size runs in flat memory. The file is written to a temporary name and moved
    into place on ``close()``, so an interrupted run never clobbers an earlier result.
    """

    FORMATS = (".csv", ".jsonl", ".parquet")

    def __init__(self, path: str | os.PathLike[str], batch: int = 1000) -> None:
        # Refused here, before any session runs, rather than when the file is closed.
        self.path = check_output_path(path, self.FORMATS)
        self.format = self.path.suffix.lower()[1:]
        self.batch = batch
        self.rows_written = 0
        self._tmp = partial_path(self.path)
        self._pending: list[dict[str, Any]] = []
        self._fh: Any = None
        self._csv: Any = None
        self._pq: Any = None
        if self.format == "csv":
            self._fh = open(self._tmp, "w", newline="")
            self._csv = csv.DictWriter(self._fh, fieldnames=COLUMN_NAMES, extrasaction="ignore")
            self._csv.writeheader()
        elif self.format == "jsonl":
            self._fh = open(self._tmp, "w")

    def write(self, row: dict[str, Any]) -> None:
        self.rows_written += 1
        if self.format == "csv":
            self._csv.writerow(row)
        elif self.format == "jsonl":
            self._fh.write(json.dumps({c: row.get(c) for c in COLUMN_NAMES}, allow_nan=True) + "\n")
        else:
            self._pending.append(row)
            if len(self._pending) >= self.batch:
                self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._pending:
            return
        arrays = []
        fields = []
        for name, typ in RESULT_COLUMNS:
            pa_type = {str: pa.string(), int: pa.int64(), float: pa.float64()}[typ]
            arrays.append(pa.array([r.get(name) for r in self._pending], type=pa_type))
            fields.append(pa.field(name, pa_type))
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        if self._pq is None:
            self._pq = pq.ParquetWriter(str(self._tmp), table.schema)
        self._pq.write_table(table)
        self._pending.clear()

    def close(self) -> None:
        if self.format == "parquet":
            self._flush_parquet()
            if self._pq is None:  # no rows: still write a valid empty file with the schema
                import pyarrow as pa
                import pyarrow.parquet as pq

                schema = pa.schema(
                    [pa.field(n, {str: pa.string(), int: pa.int64(), float: pa.float64()}[t]) for n, t in RESULT_COLUMNS]
                )
                pq.write_table(schema.empty_table(), str(self._tmp))
            else:
                self._pq.close()
        elif self._fh is not None:
            self._fh.close()
        finish(self._tmp, self.path)

    def abort(self) -> None:
        try:
            if self._pq is not None:
                self._pq.close()
            if self._fh is not None:
                self._fh.close()
        finally:
            if self._tmp.exists():
                self._tmp.unlink()

    def __enter__(self) -> "ResultWriter":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a results file written by :class:`ResultWriter` back into row dicts."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(str(p)).to_pylist()
    if ext == ".jsonl":
        with open(p) as fh:
            return [json.loads(line) for line in fh if line.strip()]
    if ext == ".csv":
        types = dict(RESULT_COLUMNS)
        out = []
        with open(p, newline="") as fh:
            for raw in csv.DictReader(fh):
                row: dict[str, Any] = {}
                for k, v in raw.items():
                    t = types.get(k, str)
                    if k in OPTIONAL_COLUMNS and v in ("", None):
                        row[k] = None  # optional column not filled: null, as in JSONL/Parquet
                    else:
                        row[k] = v if t is str else (t(v) if v not in ("", None) else None)
                out.append(row)
        return out
    raise ValueError(f"{p}: unknown results format {ext!r}")


def finite(x: float) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def rows_by(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(str(r[key]), []).append(r)
    return out
