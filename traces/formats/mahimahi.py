"""Mahimahi packet-delivery traces: one integer millisecond timestamp per line.

What mm-link does with such a file (Netravali et al., USENIX ATC 2015; the mm-link(1)
man page; ``src/frontend/link_queue.cc``):

- each line is a *delivery opportunity*: at that millisecond the link may deliver one
  MTU-sized packet; "each delivery opportunity represents the ability to deliver 1500
  bytes" (man page). The source's ``PACKET_SIZE`` constant is 1504 (the TUN payload);
  we follow the documented 1500, and ``packet_bytes`` lets a caller choose;
- a timestamp repeated k times is k opportunities in that millisecond;
- timestamps must be non-decreasing, and the last one must be > 0;
- the schedule repeats: on wrap-around mm-link adds the *last timestamp* to its base, so
  the period is the last timestamp and an opportunity stamped 0 falls on the same
  instant as one stamped T (the period) in the previous pass.

Our capacity curve: an opportunity stamped p delivers its bytes over the millisecond
[p-1, p) (it is the capacity the link accumulated in that millisecond, the convention of
Pensieve's ``convert_mahimahi_format.py``, which stamps packets at the end of their
millisecond). So after every whole millisecond our cumulative bits equal mm-link's
cumulative deliveries exactly. Opportunities stamped 0 are the same instants as those
stamped T, so they go into the last millisecond [T-1, T). The one difference this leaves:
mm-link's very first pass starts with the 0-stamped packets at t=0, ours gets them at the
end of the pass (a handful of packets, once).

Consecutive milliseconds with the same count become one entry, so a long steady or idle
stretch is one entry, not thousands.

Writing (any trace -> Mahimahi) quantises: the period is rounded to whole milliseconds
(time is scaled by at most 0.5 ms over the whole trace), cumulative capacity is rounded
to whole packets at every millisecond, and if the last millisecond would hold no packet
(the period must end on an opportunity) the last packet is moved there. The cumulative
difference therefore stays within about one packet (12,000 bits) plus one millisecond of
capacity, whatever the trace's length. Mahimahi cannot carry latency (mm-delay is a
separate shell), a trace with less than one packet per period, or sub-millisecond timing.
"""

from __future__ import annotations

import re

import numpy as np

from traces.capacity import cumulative_bits
from traces.formats._text import name_of
from traces.model import Provenance, Trace, TraceError

PACKET_BYTES = 1500  # bytes per delivery opportunity (mm-link(1))
_PLAIN = re.compile(r"\A(?:[0-9]+\n)*[0-9]+\n?\Z")


def read_mahimahi(text: str, path: str = "<string>", packet_bytes: int = PACKET_BYTES) -> Trace:
    lines: list[str] | None = None
    if _PLAIN.match(text):
        # A clean file (digits and newlines only): numpy parses millions of lines at once.
        ts = np.fromstring(text, dtype=np.int64, sep="\n")
    else:
        lines = text.split("\n")
        while lines and not lines[-1].strip():
            lines.pop()  # a final newline (or trailing blank lines) is not an empty entry
        if not lines:
            raise TraceError("file is empty", path)
        ts = _parse_lines(lines, path)
    if ts.size == 0:
        raise TraceError("file is empty", path)
    bad = np.flatnonzero(ts < 0)
    if bad.size:
        raise TraceError(f"negative timestamp {ts[bad[0]]}", path, int(bad[0]) + 1)
    back = np.flatnonzero(np.diff(ts) < 0)
    if back.size:
        i = int(back[0]) + 1
        raise TraceError(
            f"timestamps must not decrease ({ts[i]} after {ts[i - 1]})", path, i + 1
        )
    period_ms = int(ts[-1])
    if period_ms <= 0:
        raise TraceError("the last timestamp must be > 0 (it is the period of the trace)", path, int(ts.size))
    counts = np.bincount(ts, minlength=period_ms + 1)
    per_ms = counts[1:].astype(np.float64)  # millisecond [p-1, p) <- opportunities stamped p
    per_ms[-1] += counts[0]  # stamped 0 == stamped T, one period later
    starts = np.concatenate(([0], np.flatnonzero(np.diff(per_ms)) + 1))
    lengths = np.diff(np.append(starts, period_ms))
    bits_per_ms = per_ms[starts] * (packet_bytes * 8)
    return Trace(
        durations_s=lengths / 1000.0,
        rates_bps=bits_per_ms * 1000.0,
        latencies_s=np.zeros(starts.size),
        name=name_of(path),
        provenance=Provenance("file", str(path), "mahimahi"),
    )


def _parse_lines(lines: list[str], path: str) -> np.ndarray:
    out = np.empty(len(lines), dtype=np.int64)
    for i, raw in enumerate(lines):
        s = raw.strip()
        if not s:
            raise TraceError("empty line (mm-link rejects these)", path, i + 1)
        try:
            out[i] = int(s)
        except ValueError:
            raise TraceError(f"expected one integer millisecond timestamp, got {s[:40]!r}", path, i + 1) from None
    return out


def mahimahi_counts(trace: Trace, packet_bytes: int = PACKET_BYTES) -> np.ndarray:
    """Delivery opportunities per millisecond (index j = stamped j+1) for ``trace``."""
    period_ms = max(1, int(round(trace.duration_s * 1000.0)))
    # Scale time so the period lands on a whole millisecond (off by <= 0.5 ms in total).
    t = np.arange(period_ms + 1) * (trace.duration_s / period_ms)
    cum = cumulative_bits(trace, t[:-1])
    cum = np.append(cum, trace.total_bits)
    packets = np.floor(cum / (packet_bytes * 8) + 0.5).astype(np.int64)
    packets[0] = 0
    counts = np.diff(packets)
    if packets[-1] <= 0:
        raise TraceError(
            f"carries less than one {packet_bytes}-byte packet per pass "
            f"({trace.total_bits:.0f} bits); Mahimahi cannot express it",
            trace.provenance.source,
        )
    if counts[-1] == 0:
        # The period is the last timestamp, so the last millisecond must hold a packet.
        j = int(np.flatnonzero(counts)[-1])
        counts[j] -= 1
        counts[-1] = 1
    return counts


def write_mahimahi(trace: Trace, packet_bytes: int = PACKET_BYTES) -> str:
    counts = mahimahi_counts(trace, packet_bytes)
    stamps = np.repeat(np.arange(1, counts.size + 1, dtype=np.int64), counts)
    # Tens of millions of lines for a long fast trace: format them with numpy, in chunks
    # (bounded memory), rather than one Python str per line.
    return "".join(_decimal_lines(stamps[i : i + _CHUNK]) for i in range(0, stamps.size, _CHUNK))


_CHUNK = 1 << 20
_POW10 = 10 ** np.arange(1, 19, dtype=np.int64)


def _decimal_lines(values: np.ndarray) -> str:
    """``"\n".join(map(str, values)) + "\n"`` for non-negative int64, vectorised."""
    if values.size == 0:
        return ""
    ndigits = np.searchsorted(_POW10, values, side="right") + 1
    width = int(ndigits.max())
    buf = np.empty((values.size, width + 1), dtype=np.uint8)
    v = values.copy()
    for col in range(width - 1, -1, -1):
        buf[:, col] = 48 + v % 10
        v //= 10
    buf[:, width] = 10  # "\n"
    keep = np.arange(width + 1)[None, :] >= (width - ndigits)[:, None]
    return buf[keep].tobytes().decode("ascii")
