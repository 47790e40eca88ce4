"""Session configuration and the three simulator modes.

A mode is a :class:`SessionConfig` preset plus a link model (see ``player.link``):

- ``pensieve`` reproduces the Pensieve simulator (hongzimao/pensieve, test/fixed_env.py):
  playback starts with the first chunk, whose download counts as the startup delay;
  the first chunk is fetched at the 750 kbps default rung; buffer cap 60 s, enforced
  after each chunk by sleeping in 500 ms steps (the sleep advances the trace and drains
  the buffer); 48 chunks; rebuffer = max(delay - buffer, 0).
- ``sabre`` reproduces Sabre (UMass-LIDS/sabre, src/sabre.py): playback starts with
  the first segment (startup = its download time, latency excluded, as Sabre reports
  it); before each request the player waits until the next segment fits under the
  25 s buffer cap; all segments are played.
- ``default`` is our own realistic model with no hidden constants, following Media3's
  ``DefaultLoadControl``: playback starts at 2.5 s of buffer
  (DEFAULT_BUFFER_FOR_PLAYBACK_MS), resumes after a stall at 5 s
  (DEFAULT_BUFFER_FOR_PLAYBACK_AFTER_REBUFFER_MS), buffers up to 50 s
  (DEFAULT_MAX_BUFFER_MS); the player requests the next segment as soon as it fits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SessionConfig:
    mode: str = "default"
    # Playback starts once every pipeline holds this much (or all segments are loaded).
    startup_buffer_s: float = 2.5
    # After a stall, playback resumes once every pipeline holds this much.
    resume_buffer_s: float = 5.0
    max_buffer_s: float = 50.0
    # "room": wait before a request until the segment fits under max_buffer_s;
    # "pensieve": after a load, if over max_buffer_s sleep ceil(excess/quantum)*quantum.
    wait_policy: str = "room"
    wait_quantum_s: float = 0.5
    # Fetch the first segment at the rung nearest this bitrate instead of asking the ABR.
    first_rung_bps: int | None = None
    # The first segment's rung when the ABR has no first_rung() hook (Sabre's
    # Abr.get_first_quality() returns 0); None asks the ABR's decide().
    default_first_rung: int | None = None
    # Play at most this many segments of the title (Pensieve plays 48 of Envivio's 49).
    max_segments: int | None = None
    # Whether the first request's latency counts toward the startup delay.
    startup_counts_latency: bool = True
    # Whether ABR abandonment hooks are consulted during downloads.
    abandonment: bool = True

    def __post_init__(self) -> None:
        if self.wait_policy not in ("room", "pensieve"):
            raise ConfigError(f"wait_policy must be 'room' or 'pensieve', not {self.wait_policy!r}")
        if self.max_buffer_s <= 0:
            raise ConfigError("max_buffer_s must be positive")
        if self.startup_buffer_s < 0 or self.resume_buffer_s < 0:
            raise ConfigError("startup_buffer_s and resume_buffer_s must be >= 0")
        if max(self.startup_buffer_s, self.resume_buffer_s) > self.max_buffer_s:
            raise ConfigError(
                f"startup_buffer_s ({self.startup_buffer_s}) and resume_buffer_s ({self.resume_buffer_s}) "
                f"cannot exceed max_buffer_s ({self.max_buffer_s})"
            )
        if self.wait_policy == "pensieve" and self.wait_quantum_s <= 0:
            raise ConfigError("wait_quantum_s must be positive")
        if self.max_segments is not None and self.max_segments < 1:
            raise ConfigError("max_segments must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        # Cached: every session logs its configuration, and asdict() is slow.
        d = self.__dict__.get("_as_dict")
        if d is None:
            d = asdict(self)
            object.__setattr__(self, "_as_dict", d)
        return dict(d)

    def with_(self, **changes: Any) -> "SessionConfig":
        unknown = set(changes) - set(self.to_dict())
        if unknown:
            raise ConfigError(f"unknown session setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)


MODES: dict[str, SessionConfig] = {
    "pensieve": SessionConfig(
        mode="pensieve",
        startup_buffer_s=0.0,
        resume_buffer_s=0.0,
        max_buffer_s=60.0,
        wait_policy="pensieve",
        wait_quantum_s=0.5,
        first_rung_bps=750_000,
        max_segments=48,
        startup_counts_latency=True,
        abandonment=False,
    ),
    "sabre": SessionConfig(
        mode="sabre",
        startup_buffer_s=0.0,
        resume_buffer_s=0.0,
        max_buffer_s=25.0,
        wait_policy="room",
        default_first_rung=0,
        startup_counts_latency=False,
    ),
    "default": SessionConfig(),
}


def mode_config(mode: str, **overrides: Any) -> SessionConfig:
    try:
        base = MODES[mode]
    except KeyError:
        raise ConfigError(f"unknown mode {mode!r} (known: {', '.join(MODES)})") from None
    return base.with_(**overrides) if overrides else base
