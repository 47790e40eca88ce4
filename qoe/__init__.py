"""QoE: the telemetry event schema, KPIs and QoE models (depends on no other package of ours)."""

from qoe.events import SCHEMA_VERSION, Event, EventLog, event_from_dict
from qoe.metrics import Kpis, PlaybackRecord, kpis, qoe

__all__ = ["SCHEMA_VERSION", "Event", "EventLog", "Kpis", "PlaybackRecord", "event_from_dict", "kpis", "qoe"]
