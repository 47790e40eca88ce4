"""URL resolution: BaseURL chains, playlist URIs, local paths.

Relative references are resolved with RFC 3986 rules (``urllib.parse.urljoin``) against
the manifest's own URL; a manifest read from a local file gets a ``file://`` URL so the
same rules apply. Windows paths written by some packagers (``C:\\HLS Video\\a.ts``) are
tolerated: backslashes become slashes and unsafe characters are percent-encoded.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_UNSAFE = re.compile(r"[\s\"<>{}|^`]")  # characters RFC 3986 never allows in a reference


def source_url(source: str) -> str:
    """The URL a manifest is resolved against: itself if a URL, else a ``file://`` URL."""
    if _SCHEME.match(source) and not _WINDOWS_DRIVE.match(source):
        return source
    return Path(source).resolve().as_uri()


def is_remote(source: str) -> bool:
    # Read the scheme without urlsplit, which raises on a malformed authority
    # ("http://[::1"); such a URL is remote and fails when fetched, with its name.
    m = _SCHEME.match(source)
    return bool(m) and m.group(0)[:-1].lower() in ("http", "https")


def clean_reference(ref: str) -> tuple[str, bool]:
    """``ref`` made a valid URI reference; the flag says whether it had to be repaired."""
    ref = ref.strip()
    fixed = ref
    if "\\" in fixed:
        fixed = fixed.replace("\\", "/")
    if _WINDOWS_DRIVE.match(fixed):
        fixed = "file:///" + fixed
    if _UNSAFE.search(fixed):
        fixed = quote(fixed, safe=":/?#[]@!$&'()*+,;=%~")
    return fixed, fixed != ref


def resolve(base: str | None, ref: str) -> str:
    """``ref`` resolved against ``base`` (either may be relative; None means no base)."""
    ref, _ = clean_reference(ref)
    if not base:
        return ref
    return urljoin(base, ref)
