"""Errors and expansion limits for manifest parsing.

A :class:`ManifestError` always says *which* file or URL, *where* in it (an element path
such as ``MPD/Period[2]/AdaptationSet[id=1]/Representation[id=720p]@bandwidth`` or a
playlist line such as ``line 12``), and *what* is wrong. The CLI prints ``str(err)`` as a
one-line user error (exit status 2).

:class:`Limits` bounds every expansion a manifest can ask for (segment counts from
templates, timelines and ``r``/``r=-1`` repeats, nesting depth, element and line counts,
file size, fetch rounds), so a cyclic, hostile or merely enormous input fails fast with
a clear error instead of hanging or exhausting memory.
"""

from __future__ import annotations

from dataclasses import dataclass


class ManifestError(ValueError):
    """A manifest that cannot be used: ``str(err)`` is ``"<source>: <where>: <problem>"``."""

    def __init__(self, problem: str, source: str | None = None, where: str | None = None):
        self.problem = problem
        self.source = source
        self.where = where
        parts = [p for p in (source, where) if p]
        super().__init__(": ".join(parts + [problem]))

    def located(self, source: str) -> "ManifestError":
        """The same error with ``source`` filled in when it was not known yet."""
        if self.source:
            return self
        return ManifestError(self.problem, source, self.where)


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one manifest may make us do.

    The defaults are far above anything a real origin serves (a 24-hour title with 1 s
    segments has 86,400 segments; the largest real playlist in our corpus has 40,001
    segments, the largest real MPD a few thousand elements) and low enough that an input
    at every limit at once is read, or refused, in well under a second (measured on the
    corpus of adversarial inputs in tests/test_manifest_limits.py: a 100,000-segment
    playlist parses in about 0.4 s, a 100,000-S timeline in about 0.3 s).
    """

    max_bytes: int = 32 * 1024 * 1024  # manifest body
    max_segments: int = 100_000  # per Representation / media playlist, after expansion
    max_total_segments: int = 2_000_000  # whole manifest, after expansion
    max_timeline_entries: int = 100_000  # <S> elements per SegmentTimeline
    max_periods: int = 1_000
    max_representations: int = 5_000  # whole MPD / master playlist (~100 us each to read)
    max_elements: int = 1_000_000  # XML elements, counted by the fast pre-scan
    # XML elements that go into the DOM: all but the S and SegmentURL elements the
    # pre-scan keeps aside (minidom costs ~10 us an element).
    max_dom_elements: int = 30_000
    max_depth: int = 32  # XML nesting
    max_lines: int = 1_000_000  # playlist lines
    max_fetches: int = 2_000  # sub-resources fetched while resolving one manifest
    max_sidx_depth: int = 4  # hierarchical sidx nesting
    # Any single time value. Live packagers that set availabilityStartTime to the epoch
    # (DASH-IF livesim2, many encoders) put Period@start some 55 years after it, so the
    # bound must clear the present date by a wide margin; it exists only to keep
    # arithmetic finite and expansions countable.
    max_duration_s: float = 200 * 365 * 86400.0


DEFAULT_LIMITS = Limits()

# The last byte a byte range may name: 2**53 - 1 (8 PiB, JavaScript's largest exact
# integer, so no web player could address beyond it), and far inside the int64 that
# sizes are kept in.
MAX_BYTE_POSITION = 2**53 - 1


MAX_WARNINGS = 200


class Reader:
    """What the DASH and HLS readers share: where the manifest came from, its limits, and
    the warnings (tolerated violations) collected while reading it."""

    def __init__(self, source: str, url: str, limits: Limits):
        self.source = source
        self.url = url
        self.limits = limits
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
