"""DASH/HLS manifests into an :class:`~player.http.source.HttpTitle`, via ``player.manifest``."""

from __future__ import annotations

from typing import Awaitable, Callable

from player.presentation import ContentError


async def load(url: str, fetch_text: Callable[[str], Awaitable[str]]):  # type: ignore[no-untyped-def]
    try:
        import player.manifest  # noqa: F401
    except ImportError:
        raise ContentError(
            "DASH/HLS parsing (player.manifest) is not in this build; play the stub's title.json instead",
            url,
        ) from None
    raise ContentError("player.manifest is present but not wired to the HTTP driver yet", url)
