"""The edges a session may fetch from, in steering order, each with a circuit breaker.

URLs in a manifest fetched from one edge point at that edge (``{base}/titles/...``
where ``base`` is ``http://edge/t/{token}`` for the stub). Failing over means asking
another edge for the same path: :meth:`EdgeSet.rebase` swaps the base. A URL under no
known base (a manifest that points at a third-party CDN) can only be fetched where it
points.

Failover is sticky: after an error the session moves to the next edge whose breaker
allows it and stays there, instead of returning to a failing edge on every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from player.http.resilience import CircuitBreaker

# A stub edge URL: the signed base is everything up to and including the token.
_STUB_BASE_RE = re.compile(r"^(https?://[^/]+/t/[A-Za-z0-9_.-]+)/")


@dataclass
class Endpoint:
    name: str
    base: str  # URL prefix; "" for a URL taken as it is
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    session_url: str | None = None  # where a stub edge takes trace registrations
    registered: bool = False
    requests: int = 0
    failures: int = 0
    old_bases: list[str] = field(default_factory=list)  # before token refreshes

    def prefixes(self) -> list[str]:
        return [self.base, *self.old_bases] if self.base else []

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "base": self.base, "breaker": self.breaker.state, "requests": self.requests, "failures": self.failures}


def stub_base(url: str) -> str | None:
    """The signed base of a stub edge URL (``http://host/t/{token}``), else None."""
    m = _STUB_BASE_RE.match(url)
    return m.group(1) if m else None


class EdgeSet:
    def __init__(self, endpoints: Iterable[Endpoint]) -> None:
        self.endpoints = list(endpoints)
        if not self.endpoints:
            raise ValueError("no endpoints")
        self.current = 0
        self.failovers = 0

    @classmethod
    def for_url(cls, url: str, breaker_threshold: int = 3, cooldown_s: float = 2.0) -> "EdgeSet":
        """A single endpoint for a manifest URL (a stub edge URL keeps its base, so the
        trace can be registered there)."""
        base = stub_base(url)
        if base is not None:
            host = base.split("/")[2]
            return cls([Endpoint(host, base, CircuitBreaker(breaker_threshold, cooldown_s), session_url=base + "/session")])
        host = url.split("/")[2] if "://" in url else url
        return cls([Endpoint(host, "", CircuitBreaker(breaker_threshold, cooldown_s))])

    def rebase(self, url: str, ep: Endpoint) -> str:
        if not ep.base:
            return url
        for other in self.endpoints:
            for prefix in other.prefixes():
                if url.startswith(prefix + "/"):
                    return ep.base + url[len(prefix):]
        return url

    def can_serve(self, url: str, ep: Endpoint) -> bool:
        if not ep.base:
            return True
        return any(url.startswith(p + "/") for o in self.endpoints for p in o.prefixes())

    def pick(self, url: str, now: float) -> Endpoint | None:
        """The current edge if its breaker allows, else the next one that does."""
        n = len(self.endpoints)
        for k in range(n):
            i = (self.current + k) % n
            ep = self.endpoints[i]
            if self.can_serve(url, ep) and ep.breaker.allows(now):
                if i != self.current:
                    self.current = i
                    self.failovers += 1
                return ep
        return None

    def failed(self, ep: Endpoint, now: float) -> None:
        """``ep`` failed a request: note it, and move the session off it."""
        ep.failures += 1
        ep.breaker.on_failure(now)
        if self.endpoints[self.current] is ep and len(self.endpoints) > 1:
            self.current = (self.current + 1) % len(self.endpoints)
            self.failovers += 1

    def succeeded(self, ep: Endpoint) -> None:
        ep.breaker.on_success()

    def replace_bases(self, bases: dict[str, str]) -> None:
        """New signed bases for the same edges (a refreshed token)."""
        for ep in self.endpoints:
            if ep.name in bases and bases[ep.name] != ep.base:
                ep.old_bases.append(ep.base)
                ep.base = bases[ep.name]
                ep.session_url = ep.base + "/session"
