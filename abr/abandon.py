"""Abandonment rules: decide, while a segment downloads, to drop it for a lower rung.

Rules are their own objects so any algorithm can use one: ``--abr NAME:abandon=dashjs``
(or ``abandon=hlsjs``) wraps the algorithm in :class:`WithAbandonment`, which answers the
session core's ``should_abandon(ctx, progress)`` hook with the rule and delegates
everything else. The simulated driver steps downloads in 50 ms slices whenever an
algorithm has that hook (``player.sim``).

- :class:`DashJsAbandon` - dash.js AbandonRequestsRule: after ``grace_s`` (500 ms,
  GRACE_TIME_THRESHOLD) of loading, with the throughput measured so far, if the whole
  download would take more than ``multiplier`` (1.8, ABANDON_MULTIPLIER) x the segment
  duration, abandon to the rung that throughput x ``bandwidth_safety`` (0.9) sustains,
  if lower (and if its segment is smaller than what is left to load).
- :class:`HlsJsAbandon` - hls.js's emergency switch-down (abr-controller.ts
  _abandonRulesCheck); see :mod:`abr.hlsjs`.
"""

from __future__ import annotations

from typing import Any

from abr.base import AbrContext, AbrError, Param, Progress, highest_rung_below


class DashJsAbandon:
    name = "dashjs"
    PARAMS = {
        "multiplier": Param(1.8, "abandon when the estimated download time exceeds this x segment duration", float),
        "grace_s": Param(0.5, "no decision before this much loading time", float),
        "bandwidth_safety": Param(0.9, "fraction of the measured throughput the new rung may use", float),
    }

    def __init__(self, multiplier: float = 1.8, grace_s: float = 0.5, bandwidth_safety: float = 0.9) -> None:
        self.multiplier = multiplier
        self.grace_s = grace_s
        self.bandwidth_safety = bandwidth_safety

    def __call__(self, ctx: AbrContext, progress: Progress) -> int | None:
        if progress.rung == 0 or progress.elapsed_s < self.grace_s or progress.bytes_loaded <= 0:
            return None
        ttfb = progress.ttfb_s or 0.0
        load_s = progress.elapsed_s - ttfb
        if load_s <= 0:
            return None
        rate = progress.bytes_loaded * 8.0 / load_s
        total_s = ttfb + progress.size_bytes * 8.0 / rate
        if total_s <= self.multiplier * ctx.segment_duration_s:
            return None
        q = highest_rung_below(ctx.bitrates_bps, rate * self.bandwidth_safety)
        if q >= progress.rung:
            return None
        left = progress.size_bytes - progress.bytes_loaded
        if ctx.next_sizes_bytes[q] >= left:
            return None
        return q


class HlsJsAbandon:
    name = "hlsjs"
    PARAMS: dict[str, Param] = {}

    def __init__(self) -> None:
        from abr.hlsjs import HlsJs

        self._hls = HlsJs()

    def __call__(self, ctx: AbrContext, progress: Progress) -> int | None:
        return self._hls.should_abandon(ctx, progress)


RULES = {"dashjs": DashJsAbandon, "hlsjs": HlsJsAbandon}


def make_rule(name: str) -> Any:
    try:
        return RULES[name]()
    except KeyError:
        raise AbrError(f"unknown abandonment rule {name!r} (known: {', '.join(RULES)})") from None


class WithAbandonment:
    """An algorithm plus an abandonment rule (which replaces the algorithm's own)."""

    def __init__(self, inner: Any, rule: Any, rule_name: str) -> None:
        self.inner = inner
        self.rule = rule
        self.rule_name = rule_name
        self.name = getattr(inner, "name", type(inner).__name__)
        self.decide = inner.decide
        for hook in ("first_rung", "on_download", "on_wait", "reset"):
            fn = getattr(inner, hook, None)
            if fn is not None:
                setattr(self, hook, fn)

    @property
    def estimator(self) -> Any:
        return getattr(self.inner, "estimator", None)

    @property
    def carries_state_across_sessions(self) -> bool:
        return bool(getattr(self.inner, "carries_state_across_sessions", False))

    @property
    def params(self) -> dict[str, Any]:
        p = dict(getattr(self.inner, "params", {}) or {})
        p["abandon"] = self.rule_name
        return p

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> int | None:
        return self.rule(ctx, progress)

    def describe(self) -> str:
        d = getattr(self.inner, "describe", None)
        base = d() if callable(d) else self.name
        sep = "," if ":" in base else ":"
        return f"{base}{sep}abandon={self.rule_name}"

    def __getattr__(self, item: str) -> Any:
        # Only reached for attributes not set above: the wrapped algorithm's own.
        return getattr(self.__dict__["inner"], item)
