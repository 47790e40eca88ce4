"""Signed, expiring URL tokens: the control plane signs, edges verify.

Like CDN URL signing (Akamai/CloudFront signed URLs, Open Connect's steering tokens),
a token rides in the URL path (``/t/{token}/titles/...``) so relative URLs inside a
manifest carry it to every segment without the player knowing about it. It binds:

- ``exp``: expiry, Unix seconds (wall clock; ``--speed`` does not scale it);
- ``sid``: the playback session, which is also the edge's shaping key, so all of a
  session's connections share one shaped link;
- ``title``: the only title the token opens.

Format: ``v1.{exp}.{sid}.{title}.{sig}`` with ``sig`` the first 32 characters of
base64url(HMAC-SHA256(secret, "v1.{exp}.{sid}.{title}")) (192 bits). Every field is
URL-safe; ``sid`` and ``title`` may not contain dots.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import time
from dataclasses import dataclass
from typing import Callable

_FIELD = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
SIG_CHARS = 32


class TokenError(Exception):
    """Why a token was refused: ``missing``, ``malformed``, ``forged``, ``expired``,
    ``scope``."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class Claims:
    exp: int
    sid: str
    title: str


class Signer:
    def __init__(self, secret: str | bytes, clock: Callable[[], float] = time.time) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._key = key
        self._clock = clock

    def _sig(self, payload: str) -> str:
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:SIG_CHARS]

    def sign(self, sid: str, title: str, ttl_s: float) -> str:
        for name, v in (("session id", sid), ("title", title)):
            if not _FIELD.match(v):
                raise ValueError(f"{name} {v!r} cannot go in a token (letters, digits, _ and - only)")
        exp = math.ceil(self._clock() + ttl_s)  # whole seconds, never shorter than asked
        payload = f"v1.{exp}.{sid}.{title}"
        return f"{payload}.{self._sig(payload)}"

    def verify(self, token: str | None, title: str | None = None) -> Claims:
        if not token:
            raise TokenError("missing")
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != "v1" or not parts[1].isdigit():
            raise TokenError("malformed")
        payload = ".".join(parts[:4])
        # Compare MACs in constant time before trusting any field.
        if not hmac.compare_digest(parts[4].encode(), self._sig(payload).encode()):
            raise TokenError("forged")
        claims = Claims(int(parts[1]), parts[2], parts[3])
        if self._clock() >= claims.exp:
            raise TokenError("expired")
        if title is not None and title != claims.title:
            raise TokenError("scope", f"token is for {claims.title!r}")
        return claims
