"""The versioned telemetry event schema.

Every session, simulated or over HTTP, emits these events; the QoE metrics, the
collector and the TUI all read them. An event is a small dataclass with a ``type``
name and a session-clock time ``t`` in seconds; ``to_dict``/``from_dict`` give the
JSON form ``{"type": ..., "v": SCHEMA_VERSION, ...fields}``.

Versioning: ``SCHEMA_VERSION`` changes only when a field changes meaning or is
removed. Adding an optional field keeps the version; readers ignore unknown fields,
so a newer producer can talk to an older collector.

For speed the session core records events as plain tuples ``(EventClass, t, *fields)``
in an :class:`EventLog`; typed objects are made when someone reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Iterator

SCHEMA_VERSION = 1


class SchemaError(ValueError):
    """An event dict that does not match the schema."""


@dataclass(slots=True)
class Event:
    t: float
    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "v": SCHEMA_VERSION}
        for f in fields(self):
            d[f.name] = getattr(self, f.name)
        return d


@dataclass(slots=True)
class SessionStart(Event):
    session_id: str
    title: str
    abr: str
    mode: str
    trace: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    type: ClassVar[str] = "session_start"


@dataclass(slots=True)
class ManifestLoaded(Event):
    url: str
    format: str
    bitrates_bps: list[int]
    duration_s: float
    type: ClassVar[str] = "manifest"


@dataclass(slots=True)
class SegmentRequested(Event):
    media: str
    index: int
    rung: int
    bitrate_bps: int
    size_bytes: int
    buffer_s: float
    type: ClassVar[str] = "segment_requested"


@dataclass(slots=True)
class SegmentLoaded(Event):
    """A segment arrived. ``stall_s`` is the stall time since the previous load (what
    Pensieve calls the chunk's rebuffer); ``buffer_s`` the buffer level after adding it."""

    media: str
    index: int
    rung: int
    bitrate_bps: int
    size_bytes: int
    ttfb_s: float
    transfer_s: float
    buffer_s: float
    stall_s: float
    duration_s: float
    type: ClassVar[str] = "segment_loaded"


@dataclass(slots=True)
class SegmentAbandoned(Event):
    media: str
    index: int
    rung: int
    bytes_loaded: int
    size_bytes: int
    to_rung: int | None
    type: ClassVar[str] = "segment_abandoned"


@dataclass(slots=True)
class QualitySwitch(Event):
    """The rung chosen for ``index`` differs from the one before it (a download-side switch)."""

    media: str
    index: int
    from_rung: int
    to_rung: int
    from_bitrate_bps: int
    to_bitrate_bps: int
    type: ClassVar[str] = "quality_switch"


@dataclass(slots=True)
class BufferLevel(Event):
    media: str
    buffer_s: float
    type: ClassVar[str] = "buffer_level"


@dataclass(slots=True)
class PlaybackStart(Event):
    startup_s: float
    type: ClassVar[str] = "playback_start"


@dataclass(slots=True)
class StallStart(Event):
    position_s: float
    type: ClassVar[str] = "stall_start"


@dataclass(slots=True)
class StallEnd(Event):
    duration_s: float
    type: ClassVar[str] = "stall_end"


@dataclass(slots=True)
class Error(Event):
    kind: str
    message: str
    fatal: bool = False
    url: str | None = None
    type: ClassVar[str] = "error"


@dataclass(slots=True)
class AbrChanged(Event):
    """The user (or a controller) handed ``media``'s decisions to another algorithm
    mid-session. ``abr``/``previous`` are the algorithms' descriptions (name and
    parameters), as in ``session_start``, so a saved log says which decisions were
    whose."""

    media: str
    abr: str
    previous: str = ""
    type: ClassVar[str] = "abr_changed"


@dataclass(slots=True)
class SessionEnd(Event):
    reason: str
    played_s: float
    type: ClassVar[str] = "session_end"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        SessionStart,
        ManifestLoaded,
        SegmentRequested,
        SegmentLoaded,
        SegmentAbandoned,
        QualitySwitch,
        BufferLevel,
        PlaybackStart,
        StallStart,
        StallEnd,
        Error,
        AbrChanged,
        SessionEnd,
    )
}


def event_from_dict(d: dict[str, Any]) -> Event:
    """Parse one event dict; unknown fields are ignored, missing required ones rejected."""
    if not isinstance(d, dict):
        raise SchemaError(f"event must be an object, got {type(d).__name__}")
    kind = d.get("type")
    cls = EVENT_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise SchemaError(f"unknown event type {kind!r}")
    v = d.get("v", SCHEMA_VERSION)
    if not isinstance(v, int) or v > SCHEMA_VERSION:
        raise SchemaError(f"event schema version {v!r} is newer than this reader ({SCHEMA_VERSION})")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in d:
            kwargs[f.name] = d[f.name]
    try:
        ev = cls(**kwargs)
    except TypeError as e:
        raise SchemaError(f"{kind}: {e}") from None
    if not isinstance(ev.t, (int, float)) or isinstance(ev.t, bool):
        raise SchemaError(f"{kind}: t must be a number")
    return ev


class EventLog:
    """An append-only event log stored as tuples ``(EventClass, t, *fields)``.

    The session core appends tuples (cheap on the simulator's hot path); iterating
    yields typed events. ``enabled=False`` keeps nothing (for runs that want only KPIs).
    """

    __slots__ = ("rows", "enabled")

    def __init__(self, enabled: bool = True) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.enabled = enabled

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Event]:
        for row in self.rows:
            yield row[0](*row[1:])

    def append(self, event: Event) -> None:
        if self.enabled:
            self.rows.append((type(event),) + tuple(getattr(event, f.name) for f in fields(event)))

    def of_type(self, cls: type[Event]) -> list[Event]:
        return [row[0](*row[1:]) for row in self.rows if row[0] is cls]

    def to_dicts(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self]
