"""Clock synchronisation for live DASH: the MPD's ``UTCTiming`` elements.

A live MPD says which segments exist in terms of wall-clock time
(``availabilityStartTime`` + the segment's end), so a player whose clock is off by a
few seconds asks for segments that do not exist yet (404s) or starts further behind the
live edge than it meant to. ISO/IEC 23009-1 5.8.5.7 (and DASH-IF IOP 4.7) give the MPD
``UTCTiming`` elements naming a time source; players fetch one and play on the
server's clock (dash.js ``TimeSyncController``, Shaka ``PresentationTimeline``
``setClockOffset``). abrlab does the same:

- ``urn:mpeg:dash:utc:http-iso:2014`` and ``http-xsdate:2014`` (and their 2012 spellings,
  which dash.js also accepts): GET the URL(s) in ``@value`` (space-separated, resolved
  against the manifest URL); the body is an ISO 8601 / xs:dateTime instant. A body that
  is a bare number is read as POSIX seconds (``time.akamai.com`` without ``?iso``
  answers that way; dash.js tolerates it too).
- ``urn:mpeg:dash:utc:direct:2014``: ``@value`` is the instant itself (when the MPD was
  generated, so it is as fresh as the fetch of the manifest).
- ``http-head``, ``ntp`` and ``http-ntp`` need a HEAD request's Date header (whole
  seconds) or UDP: not supported, skipped like any scheme we do not know.

Sources are tried in document order; the first that answers wins. If none does, the
player keeps its own clock and says so in :attr:`TimeSync.warnings` (dash.js falls
back the same way). The instant is taken as the server's clock at the middle of the
request (half the round trip, as NTP's offset estimate assumes a symmetric path).

Under ``--speed k`` the stub's live clock runs k times faster than the wall clock, so
the server time advances k event seconds per wall second after the sync:
``event_now = server_s + (wall - wall_mid) * k``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Sequence
from urllib.parse import urljoin

from player.manifest.errors import ManifestError
from player.manifest.isotime import parse_datetime_epoch_s

Fetch = Callable[[str, "tuple[int, int] | None"], Awaitable[bytes]]

_HTTP_SCHEMES = {
    "urn:mpeg:dash:utc:http-iso:2014",
    "urn:mpeg:dash:utc:http-xsdate:2014",
    "urn:mpeg:dash:utc:http-iso:2012",
    "urn:mpeg:dash:utc:http-xsdate:2012",
}
_DIRECT_SCHEMES = {"urn:mpeg:dash:utc:direct:2014", "urn:mpeg:dash:utc:direct:2012"}
MAX_BODY_CHARS = 200  # a time stamp, not a document


class TimeSourceError(ValueError):
    """A time source's answer is not an instant."""


def parse_instant(text: str, where: str) -> float:
    """POSIX seconds of a time source's answer (ISO 8601 / xs:dateTime, or a bare number)."""
    s = text.strip()
    if not s or len(s) > MAX_BODY_CHARS:
        raise TimeSourceError(f"{where}: not a time stamp ({len(s)} characters)")
    try:
        v = float(s)
    except ValueError:
        pass
    else:
        if not math.isfinite(v) or v < 0:
            raise TimeSourceError(f"{where}: {s!r} is not a time")
        return v
    try:
        return parse_datetime_epoch_s(s, where)
    except ManifestError:
        raise TimeSourceError(f"{where}: {s!r} is not an ISO 8601 date-time") from None


@dataclass
class TimeSync:
    """The server's clock as seen from ours: ``server_s`` at our ``wall_s``."""

    server_s: float
    wall_s: float
    scheme: str = ""
    url: str | None = None
    rtt_s: float = 0.0

    @property
    def offset_s(self) -> float:
        """Server minus local wall clock at the sync (the clock error corrected)."""
        return self.server_s - self.wall_s

    def now(self, wall_s: float, speed: float = 1.0) -> float:
        return self.server_s + (wall_s - self.wall_s) * speed


@dataclass
class SyncOutcome:
    sync: TimeSync | None
    warnings: list[str] = field(default_factory=list)


async def synchronise(
    utc_timing: Sequence[tuple[str, str]],
    manifest_url: str,
    fetch: Fetch,
    wall: Callable[[], float] = time.time,
) -> SyncOutcome:
    """Try the MPD's UTCTiming sources in order; the first usable one gives the sync."""
    warnings: list[str] = []
    for scheme, value in utc_timing:
        scheme = scheme.strip()
        if scheme in _DIRECT_SCHEMES:
            try:
                return SyncOutcome(TimeSync(parse_instant(value, f"UTCTiming {scheme}"), wall(), scheme), warnings)
            except TimeSourceError as e:
                warnings.append(str(e))
                continue
        if scheme not in _HTTP_SCHEMES:
            warnings.append(f"UTCTiming scheme {scheme!r} is not supported; skipped")
            continue
        for ref in value.split():
            url = urljoin(manifest_url, ref)
            sent = wall()
            try:
                body = await fetch(url, None)
            except Exception as e:  # any failure of one source: try the next, as dash.js does
                warnings.append(f"UTCTiming {url}: {type(e).__name__}: {e}")
                continue
            got = wall()
            try:
                text = body[: MAX_BODY_CHARS * 4].decode("utf-8", "replace")
                server = parse_instant(text, f"UTCTiming {url}")
            except TimeSourceError as e:
                warnings.append(str(e))
                continue
            return SyncOutcome(TimeSync(server, (sent + got) / 2.0, scheme, url, got - sent), warnings)
    if utc_timing:
        warnings.append("no UTCTiming source answered; the live window follows the local clock")
    return SyncOutcome(None, warnings)
