"""xs:duration and xs:dateTime values as seconds, with ``isodate``.

MPD durations are ISO 8601 durations (``PT1M52.43S``, ``P0Y0M0DT0H0M16S``). ``isodate``
returns a ``timedelta`` (microsecond precision, which is what the INDEX of real manifests
uses too) or, when years or months are given, a ``Duration``; like dash.js
(``DashParser``: SECONDS_IN_YEAR = 365 days, SECONDS_IN_MONTH = 30 days) and Shaka
(``TextParser.parseDuration``) we count a year as 365 days and a month as 30 days.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Callable

import isodate

from player.manifest.errors import ManifestError

_DURATION_SHAPE = re.compile(r"^\s*-?P(?!$)[0-9YMDTHS.,W]*\s*$")


def parse_duration_s(text: str, where: str, source: str | None = None, max_s: float = math.inf,
                     warn: Callable[[str], None] | None = None) -> float:
    """Seconds in an xs:duration; ManifestError naming ``where`` if it is not one.

    xs:duration designators are upper case, but packagers write ``PT1M00s`` (dash.js's own
    samples do, and dash.js reads it as 60 s): with a ``warn`` callback, lower-case
    designators are read as upper case and reported; the value is unambiguous."""
    raw = text.strip()
    if warn is not None and raw != raw.upper() and _DURATION_SHAPE.match(raw.upper()):
        warn(f"{where}: {text!r} has lower-case designators; read as {raw.upper()!r}")
        raw = raw.upper()
    if not _DURATION_SHAPE.match(raw) or raw.endswith("T"):
        raise ManifestError(f"{text!r} is not an ISO 8601 duration", source, where)
    try:
        d = isodate.parse_duration(raw)
    except (isodate.ISO8601Error, ValueError, OverflowError, TypeError):
        raise ManifestError(f"{text!r} is not an ISO 8601 duration", source, where) from None
    try:
        if isinstance(d, _dt.timedelta):
            secs = d.total_seconds()
        else:  # isodate.Duration: years/months plus a timedelta
            secs = (
                float(d.years) * 365 * 86400.0
                + float(d.months) * 30 * 86400.0
                + d.tdelta.total_seconds()
            )
    except (OverflowError, ValueError):
        raise ManifestError(f"duration {text!r} is out of range", source, where) from None
    if not math.isfinite(secs):
        raise ManifestError(f"duration {text!r} is out of range", source, where)
    if secs < 0:
        raise ManifestError(f"duration {text!r} is negative", source, where)
    if secs > max_s:
        raise ManifestError(f"duration {text!r} exceeds the limit of {max_s:g} s", source, where)
    return secs


def parse_datetime_epoch_s(text: str, where: str, source: str | None = None) -> float:
    """POSIX seconds of an xs:dateTime (no zone means UTC, as DASH-IF IOP requires)."""
    try:
        dt = isodate.parse_datetime(text.strip())
    except (isodate.ISO8601Error, ValueError, OverflowError, TypeError, AttributeError):
        raise ManifestError(f"{text!r} is not an ISO 8601 date-time", source, where) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.timezone.utc)
    try:
        return dt.timestamp()
    except (OverflowError, ValueError, OSError):
        raise ManifestError(f"date-time {text!r} is out of range", source, where) from None
