"""Batch replays: many traces x many ABR algorithms, in one process or several.

Python API::

    from player.replay import run_session, replay
    out = run_session("trace.json", "movie.json", "bola:gamma_p=5", mode="sabre")
    out.row          # the result row (see player.results.RESULT_COLUMNS)
    list(out.events) # the typed event log

    for row in replay(["traces/"], "movie.json", ["bba", "bola"], mode="pensieve", jobs=2):
        ...

Rows come out in a fixed order (algorithm by algorithm, traces in sorted path order)
whatever the number of jobs, and each worker process builds every algorithm once and
reuses it (``reset()`` between sessions), so ``jobs=N`` gives the same rows as
``jobs=1``.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from abr.registry import create, load_class, parse_spec
from player.config import SessionConfig, mode_config
from player.presentation import Title, load_title
from player.optimum import offline_optimum, utilities
from player.results import add_regret, result_row
from player.session import Session
from player.sim import simulate
from qoe.events import EventLog
from traces.formats import iter_trace_files, load_trace
from traces.model import Trace

CHUNK = 16  # traces per task handed to a worker process


@dataclass
class SessionOutcome:
    row: dict[str, Any]
    session: Session

    @property
    def events(self) -> EventLog:
        return self.session.log


def _as_trace(trace: Trace | str | os.PathLike[str]) -> Trace:
    if isinstance(trace, Trace):
        return trace
    return load_trace(Path(trace).resolve())


def _as_title(title: Title | str | os.PathLike[str]) -> tuple[Title, str]:
    if isinstance(title, Title):
        return title, title.source
    p = Path(title).resolve()
    return load_title(p), str(p)


def _config(mode: str, overrides: dict[str, Any] | None) -> SessionConfig:
    return mode_config(mode, **(overrides or {}))


def run_session(
    trace: Trace | str | os.PathLike[str],
    title: Title | str | os.PathLike[str],
    abr: Any = "bba",
    mode: str = "default",
    *,
    config: dict[str, Any] | None = None,
    keep_events: bool = True,
    regret: str | None = None,
) -> SessionOutcome:
    """Play one session in simulation; returns its result row and the session (events).
    With ``regret="lin"`` (or another QoE model) the row also carries the offline
    optimum and the regret (see :mod:`player.optimum`)."""
    tr = _as_trace(trace)
    tl, content = _as_title(title)
    if isinstance(abr, str):
        spec = abr
        algo = create(abr, mode=mode)
    else:
        algo = abr
        spec = str(getattr(abr, "describe", lambda: getattr(abr, "name", type(abr).__name__))())
    cfg = _config(mode, config)
    session = simulate(tl, tr, algo, config=cfg, keep_events=keep_events)
    row = result_row(session, tr, spec, content)
    if regret is not None:
        opt = offline_optimum(tl, tr, cfg, regret)
        add_regret(row, regret, opt.qoe_bound, opt.qoe_path)
    return SessionOutcome(row, session)


# ----------------------------------------------------------------------------- workers
_W: dict[str, Any] = {}


def _init_worker(content: str, mode: str, overrides: dict[str, Any] | None) -> None:
    _W.clear()
    _W["title"] = load_title(content)
    _W["content"] = content
    _W["mode"] = mode
    _W["config"] = _config(mode, overrides)
    _W["abrs"] = {}


def _run_chunk(task: tuple[str, list[str]]) -> list[dict[str, Any]]:
    spec, paths = task
    abrs = _W["abrs"]
    algo = abrs.get(spec)
    if algo is None:
        algo = abrs[spec] = create(spec, mode=_W["mode"])
    rows = []
    for path in paths:
        tr = load_trace(path)
        session = simulate(_W["title"], tr, algo, config=_W["config"], keep_events=False)
        rows.append(result_row(session, tr, spec, _W["content"]))
    return rows


def _optimum_task(task: tuple[str, str]) -> tuple[str, float, float | None]:
    path, model = task
    opt = offline_optimum(_W["title"], load_trace(path), _W["config"], model)
    return path, opt.qoe_bound, opt.qoe_path


def _sequential_only(spec: str, mode: str | None = None) -> bool:
    """Algorithms whose state deliberately carries over from one session to the next
    (a reproduced reference quirk) must see the traces in order in one process. The
    flag is read from the configured instance, so a parameter can switch it on
    (``robustmpc:pensieve_quirks=true``) while other specs of the class run in parallel."""
    cls = load_class(parse_spec(spec).name)
    if not hasattr(cls, "carries_state_across_sessions"):
        return False
    return bool(getattr(create(spec, mode=mode), "carries_state_across_sessions", False))


TRACE_ORDERS = ("auto", "sorted", "listdir")


def resolve_order(order: str, abrs: Sequence[str], mode: str | None = None) -> str:
    """``auto``: ``listdir`` when an algorithm carries state from one trace to the next
    (then the order is part of the result, and the reference it reproduces read the
    directory with ``os.listdir``), else ``sorted`` (stable across machines)."""
    if order != "auto":
        return order
    return "listdir" if any(_sequential_only(spec, mode) for spec in abrs) else "sorted"


def collect_traces(paths: Iterable[str | os.PathLike[str]], order: str = "sorted") -> list[str]:
    """The trace files under ``paths``, directory by directory. ``order="sorted"`` (the
    default) sorts each directory's files by name; ``order="listdir"`` keeps the order
    ``os.listdir`` returns, which is how Pensieve's load_trace.py reads a directory, so a
    reference whose state carries across traces (RobustMPC's error history) can be
    replayed in its own order."""
    if order not in TRACE_ORDERS:
        raise ValueError(f"unknown trace order {order!r} (known: {', '.join(TRACE_ORDERS)})")
    if order == "auto":
        order = "sorted"  # no algorithm to ask here: see resolve_order
    out: list[str] = []
    for p in paths:
        files = iter_trace_files(p)
        if order == "listdir" and Path(p).is_dir():
            rank = {name: i for i, name in enumerate(os.listdir(p))}
            files = sorted(files, key=lambda f: rank.get(f.name, len(rank)))
        out.extend(str(f.resolve()) for f in files)
    return out


def plan(trace_paths: Sequence[str], abr_specs: Sequence[str], chunk: int = CHUNK, mode: str | None = None) -> list[tuple[str, list[str]]]:
    tasks = []
    for spec in abr_specs:
        size = len(trace_paths) if _sequential_only(spec, mode) else chunk
        for i in range(0, len(trace_paths), max(size, 1)):
            tasks.append((spec, list(trace_paths[i : i + size])))
    return tasks


def replay(
    traces: Iterable[str | os.PathLike[str]],
    content: str | os.PathLike[str],
    abrs: Sequence[str],
    mode: str = "default",
    *,
    jobs: int = 1,
    config: dict[str, Any] | None = None,
    order: str = "auto",
    regret: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one result row per (algorithm, trace), streaming (nothing is held).

    ``order``: see :func:`collect_traces`. ``regret``: a QoE model name (``lin``, ``log``,
    ``hd``, ``yin``); each row then carries the offline optimum of its trace and its
    regret (optional result columns), the optimum computed once per trace."""
    content_path = str(Path(content).resolve())
    load_title(content_path)  # fail early, in this process, with a clear message
    _config(mode, config)
    for spec in abrs:
        create(spec, mode=mode)  # validate every spec before starting work
    trace_paths = collect_traces(traces, resolve_order(order, abrs, mode))
    # Every trace is read once before any session runs (~0.5 ms each): a broken file
    # late in a directory of thousands must not end an hour's batch at its last trace.
    for p in trace_paths:
        load_trace(p)
    tasks = plan(trace_paths, list(abrs), mode=mode)
    if regret is not None:
        utilities(tuple(load_title(content_path).video.bitrates_bps), regret)  # valid model?
    opt_tasks = [(p, regret) for p in trace_paths] if regret is not None else []

    def annotate(rows: list[dict[str, Any]], optima: dict[str, tuple[float, float | None]]) -> list[dict[str, Any]]:
        if regret is not None:
            for row, path in zip(rows, _paths_of(rows)):
                bound, path_qoe = optima[path]
                add_regret(row, regret, bound, path_qoe)
        return rows

    if jobs <= 1:
        _init_worker(content_path, mode, config)
        # The optimum is computed once per (trace, title, mode), however many algorithms.
        optima = {p: (b, q) for p, b, q in map(_optimum_task, opt_tasks)}
        for task in tasks:
            yield from annotate(_run_chunk(task), optima)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(content_path, mode, config)) as ex:
        optima = {p: (b, q) for p, b, q in ex.map(_optimum_task, opt_tasks, chunksize=4)}
        for rows in ex.map(_run_chunk, tasks):
            yield from annotate(rows, optima)


def _paths_of(rows: list[dict[str, Any]]) -> list[str]:
    return [json.loads(r["trace_provenance"])["source"] for r in rows]


def rerun(row: dict[str, Any], keep_events: bool = True) -> SessionOutcome:
    """Run again the session a result row describes (same trace, title, ABR, config)."""
    prov = json.loads(row["trace_provenance"])
    from traces.model import Provenance

    trace = trace_from_provenance(Provenance.from_dict(prov))
    cfg = json.loads(row["config"])
    mode = cfg.pop("mode")
    return run_session(trace, row["content"], row["abr_spec"], mode=mode, config=cfg, keep_events=keep_events)


def trace_from_provenance(prov: Any) -> Trace:
    try:
        from traces import from_provenance  # type: ignore[attr-defined]
    except ImportError:
        from_provenance = None
    if from_provenance is not None:
        return from_provenance(prov)
    if prov.kind != "file":
        raise ValueError(f"cannot rebuild a trace from provenance {prov.describe()}")
    return load_trace(prov.source, prov.format)
