"""The ABR plug-in boundary: what an algorithm sees (:class:`AbrContext`) and returns.

An algorithm is an object with a ``name`` and ``decide(ctx) -> Decision`` (an ``int``
is accepted as shorthand for ``Decision(rung)``), plus optional hooks:

- ``first_rung(ctx) -> int``: the rung of the first segment (default: ``decide``).
- ``should_abandon(ctx, progress) -> int | None``: called while a segment downloads;
  return a lower rung to abandon the download and refetch at that rung.
- ``on_download(sample, ctx)``: a transfer finished (feed your own estimator here).
- ``on_wait(wait_s)``: the player idled (buffer full or an ABR-requested delay).
- ``reset()``: forget per-session state (the object may be reused for a new session).

Algorithms never read a clock or do I/O: everything arrives in ``ctx``. Parameters are
declared with :class:`Param` so they can be listed, documented and overridden
(``--abr bola:gamma_p=5,buffer_s=25``); presets bundle overrides (``bba:preset=pensieve``)
and a simulator mode can pick a preset by default (``MODE_PRESETS``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, NamedTuple, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from abr.estimators import Estimator


class TransferSample(NamedTuple):
    """One finished transfer: ``t_s`` when it ended, its size, and how long it took.

    ``ttfb_s`` is the time to the first byte (request latency); ``transfer_s`` the time
    from first to last byte. ``rate_bps`` excludes the latency (Sabre, dash.js);
    ``rate_with_latency_bps`` includes it (Pensieve's MPC measures size / delay).
    """

    t_s: float
    size_bytes: int
    ttfb_s: float
    transfer_s: float

    @property
    def rate_bps(self) -> float:
        return self.size_bytes * 8.0 / self.transfer_s if self.transfer_s > 0 else float("inf")

    @property
    def rate_with_latency_bps(self) -> float:
        d = self.ttfb_s + self.transfer_s
        return self.size_bytes * 8.0 / d if d > 0 else float("inf")

    @property
    def duration_s(self) -> float:
        return self.ttfb_s + self.transfer_s


class Progress(NamedTuple):
    """An in-flight download, as the abandonment hook sees it."""

    index: int
    rung: int
    size_bytes: int
    bytes_loaded: int
    elapsed_s: float  # since the request was sent
    ttfb_s: float | None  # None until the first byte arrived


@dataclass(slots=True)
class Decision:
    """The rung for the next segment, and an optional idle time before fetching it
    (BOLA-O style oscillation damping)."""

    rung: int
    delay_s: float = 0.0
    reason: str = ""


class AbrContext:
    """Everything an algorithm may know when it decides, as plain attributes.

    The session updates one context object in place before each call; read what you
    need during the call and do not keep the object (``snapshot()`` gives a copy).
    Sizes are in bytes, rates in bits per second, times in seconds.
    """

    __slots__ = (
        "now_s",
        "media",
        "segment_index",
        "segment_count",
        "segment_duration_s",
        "buffer_s",
        "max_buffer_s",
        "startup",
        "stalled",
        "rungs",
        "bitrates_bps",
        "last_rung",
        "playing_rung",
        "samples",
        "stall_count",
        "rebuffer_s",
        "live_latency_s",
        "sizes_known",
        "_size_rows",
        "_durations",
        "_estimate",
    )

    def __init__(
        self,
        *,
        rungs: Sequence[Any],
        bitrates_bps: Sequence[int],
        size_rows: Sequence[Sequence[int]],
        durations: Sequence[float],
        max_buffer_s: float,
        media: str = "video",
        sizes_known: bool = True,
        estimate: Callable[[], float | None] | None = None,
    ) -> None:
        self.now_s = 0.0
        self.media = media
        self.segment_index = 0
        self.segment_count = len(size_rows)
        self.segment_duration_s = durations[0] if durations else 0.0
        self.buffer_s = 0.0
        self.max_buffer_s = max_buffer_s
        self.startup = True
        self.stalled = False
        self.rungs = tuple(rungs)
        self.bitrates_bps = tuple(bitrates_bps)
        self.last_rung: int | None = None
        self.playing_rung: int | None = None
        self.samples: list[TransferSample] = []
        self.stall_count = 0
        self.rebuffer_s = 0.0
        self.live_latency_s: float | None = None
        self.sizes_known = sizes_known
        self._size_rows = size_rows
        self._durations = durations
        self._estimate = estimate or (lambda: None)

    # Lazily computed views: only algorithms that read them pay for them.
    @property
    def next_sizes_bytes(self) -> Sequence[int]:
        """Size of the next segment at every rung."""
        return self._size_rows[self.segment_index]

    def sizes_bytes(self, index: int) -> Sequence[int]:
        """Sizes of segment ``index`` at every rung (lookahead for MPC-style algorithms)."""
        return self._size_rows[index]

    def duration_of(self, index: int) -> float:
        return self._durations[index]

    @property
    def segments_left(self) -> int:
        """Segments still to fetch in this session (``segment_count`` is where the
        session stops, which may be before the title's end, e.g. Pensieve's 48 of 49)."""
        return self.segment_count - self.segment_index

    @property
    def title_segments(self) -> int:
        """Segments in the title (sizes exist for indices below this)."""
        return len(self._size_rows)

    @property
    def throughput_bps(self) -> float | None:
        """The session's bandwidth estimate (the algorithm's own estimator if it has one),
        or None before the first sample."""
        return self._estimate()

    @property
    def n_rungs(self) -> int:
        return len(self.bitrates_bps)

    def snapshot(self) -> dict[str, Any]:
        return {
            "now_s": self.now_s,
            "media": self.media,
            "segment_index": self.segment_index,
            "segment_count": self.segment_count,
            "segment_duration_s": self.segment_duration_s,
            "buffer_s": self.buffer_s,
            "max_buffer_s": self.max_buffer_s,
            "startup": self.startup,
            "stalled": self.stalled,
            "bitrates_bps": list(self.bitrates_bps),
            "last_rung": self.last_rung,
            "playing_rung": self.playing_rung,
            "throughput_bps": self.throughput_bps,
            "samples": len(self.samples),
            "stall_count": self.stall_count,
            "rebuffer_s": self.rebuffer_s,
        }


class AbrError(ValueError):
    """A bad algorithm name, parameter or preset; the message says which."""


@dataclass(frozen=True)
class Param:
    """A tunable parameter: default, type, one-line documentation, and the values it allows.

    ``choices`` lists the allowed values of a string parameter. ``lo`` / ``hi`` bound a
    number (each element of a tuple) from below / above; ``lo_open`` / ``hi_open`` make
    that end exclusive, so a fraction in (0, 1] is ``lo=0, lo_open=True, hi=1``. The
    bounds are what the algorithm's reference semantics need (a window of 0 samples, a
    safety factor of 0, a negative duration mean nothing); constraints between two
    parameters are checked by the algorithm (:meth:`AbrAlgorithm.check_params`).
    """

    default: Any
    doc: str = ""
    type: type | None = None
    choices: tuple[Any, ...] | None = None
    lo: float | None = field(default=None, kw_only=True)
    hi: float | None = field(default=None, kw_only=True)
    lo_open: bool = field(default=False, kw_only=True)
    hi_open: bool = field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        # A declaration whose own default breaks its bounds is a bug in the algorithm.
        if self.lo is not None or self.hi is not None:
            for x in self._numbers(self.default):
                if not self.allows(x):
                    raise ValueError(f"Param default {self.default!r} is outside {self.bounds}")

    @staticmethod
    def _numbers(value: Any) -> tuple[Any, ...]:
        return value if isinstance(value, tuple) else (value,)

    def allows(self, x: float) -> bool:
        """Whether the number ``x`` is within the bounds."""
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            return False
        if self.hi is not None and (x >= self.hi if self.hi_open else x > self.hi):
            return False
        return True

    @property
    def bounds(self) -> str:
        """The allowed range as text: ``> 0``, ``>= 1``, ``in (0, 1]``; empty if unbounded."""
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None:
            return f"in {'(' if self.lo_open else '['}{lo:g}, {hi:g}{')' if self.hi_open else ']'}"
        if lo is not None:
            return f"{'>' if self.lo_open else '>='} {lo:g}"
        if hi is not None:
            return f"{'<' if self.hi_open else '<='} {hi:g}"
        return ""

    def describe(self) -> dict[str, Any]:
        """What ``abrlab abr list`` shows of the parameter."""
        out: dict[str, Any] = {"default": self.default, "doc": self.doc}
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if self.bounds:
            out.update(bounds=self.bounds, lo=self.lo, hi=self.hi, lo_open=self.lo_open, hi_open=self.hi_open)
        return out

    def coerce(self, name: str, value: Any) -> Any:
        typ = self.type or type(self.default)
        if isinstance(value, str) and typ is not str:
            text = value.strip()
            try:
                if typ is bool:
                    low = text.lower()
                    if low in ("1", "true", "yes", "on"):
                        value = True
                    elif low in ("0", "false", "no", "off"):
                        value = False
                    else:
                        raise ValueError(text)
                elif typ is int:
                    value = int(text)
                elif typ is float:
                    value = float(text)
                elif typ is tuple:
                    value = tuple(float(x) for x in text.replace("/", " ").split())
                else:
                    value = typ(text)
            except ValueError:
                raise AbrError(f"parameter {name}={value!r}: expected {typ.__name__}") from None
        elif typ is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif typ is int and isinstance(value, float) and value.is_integer():
            value = int(value)  # 5.0 from a JSON settings file or a notebook means 5
        elif typ is tuple and isinstance(value, list):
            value = tuple(value)
        if self.choices is not None and value not in self.choices:
            raise AbrError(f"parameter {name}={value!r}: choose one of {', '.join(map(str, self.choices))}")
        if typ in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise AbrError(f"parameter {name}={value!r}: expected {typ.__name__}")
        if typ is int and not isinstance(value, int):
            raise AbrError(f"parameter {name}={value!r}: expected int")
        # float('nan') and float('inf') parse, but no parameter means anything with them
        # (NaN compares false, so range checks downstream would let it through).
        numbers = self._numbers(value) if typ is tuple else (value,)
        if typ in (float, tuple) and any(isinstance(x, float) and not math.isfinite(x) for x in numbers):
            raise AbrError(f"parameter {name}={value!r}: expected a finite number")
        if typ in (int, float, tuple) and not all(self.allows(x) for x in numbers):
            raise AbrError(f"parameter {name}={value!r}: must be {self.bounds}")
        return value


class AbrAlgorithm:
    """Base class for algorithms (optional: any object with ``name`` and ``decide`` works).

    Subclasses declare ``PARAMS`` (name -> :class:`Param`); ``__init__`` turns keyword
    overrides into attributes of the same names. ``PRESETS`` maps a preset name to
    overrides, ``MODE_PRESETS`` maps a simulator mode to the preset used by default in
    that mode (so ``--mode pensieve --abr bba`` is Pensieve's BB without more flags).
    """

    name: ClassVar[str] = "abstract"
    family: ClassVar[str] = ""
    source: ClassVar[str] = ""
    PARAMS: ClassVar[dict[str, Param]] = {}
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}
    MODE_PRESETS: ClassVar[dict[str, str]] = {}

    def __init__(self, **params: Any) -> None:
        preset = params.pop("preset", None)
        values = {k: p.default for k, p in self.PARAMS.items()}
        if preset is not None:
            if preset not in self.PRESETS:
                known = ", ".join(self.PRESETS) or "none"
                raise AbrError(f"{self.name}: unknown preset {preset!r} (known: {known})")
            values.update(self.PRESETS[preset])
        for k, v in params.items():
            if k not in self.PARAMS:
                known = ", ".join(self.PARAMS) or "none"
                raise AbrError(f"{self.name}: unknown parameter {k!r} (known: {known})")
            try:
                values[k] = self.PARAMS[k].coerce(k, v)
            except AbrError as e:
                raise AbrError(f"{self.name}: {e}") from None
        self.preset = preset
        for k, v in values.items():
            setattr(self, k, v)
        self.check_params()
        self.reset()

    @property
    def params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.PARAMS}

    def describe(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}:{args}" if args else self.name

    def check_params(self) -> None:
        """Check constraints *between* parameters (each one's own range is declared in
        its :class:`Param`); raise :meth:`param_error` on a violation. Called once the
        parameters are attributes, before the first ``reset``."""

    def param_error(self, problem: str) -> AbrError:
        """The error for a bad combination of parameters: one line naming the algorithm,
        the parameters and their values (``dashjs: bola_off_s=20.0 must be <= bola_on_s=18.0``)."""
        return AbrError(f"{self.name}: {problem}")

    def reset(self) -> None:
        """Forget per-session state."""

    def decide(self, ctx: AbrContext) -> Decision | int:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


def js_round(x: float) -> int:
    """JavaScript's ``Math.round`` (halves round up; Python's ``round`` rounds them to
    even), for algorithms ported from JavaScript players."""
    return math.floor(x + 0.5)


def highest_rung_below(bitrates_bps: Sequence[int], rate_bps: float) -> int:
    """Index of the highest rung whose bitrate does not exceed ``rate_bps`` (0 if none)."""
    best = 0
    for i, b in enumerate(bitrates_bps):
        if b <= rate_bps:
            best = i
        else:
            break
    return best
