"""Abandonment rules: decide, while a segment downloads, to drop it for a lower rung.

Rules are their own objects so any algorithm can use one: ``--abr NAME:abandon=dashjs``
(or ``abandon=hlsjs``) wraps the algorithm in :class:`WithAbandonment`, which answers the
session core's ``should_abandon(ctx, progress)`` hook with the rule and delegates
everything else. The simulated driver steps downloads in 50 ms slices whenever an
algorithm has that hook (``player.sim``).

- :class:`DashJsAbandon` - dash.js v4 AbandonRequestsRule: below 12 s of buffer, once
  five progress reports have been averaged and 500 ms (GRACE_TIME_THRESHOLD) have passed
  since the first byte, if the whole download would take more than ``multiplier`` (1.8,
  ABANDON_MULTIPLIER) x the segment duration, abandon to the rung that the measured
  throughput x ``bandwidth_safety`` (0.9) sustains, if what is left to load exceeds that
  rung's segment (see the class).
- :class:`HlsJsAbandon` - hls.js's emergency switch-down (abr-controller.ts
  _abandonRulesCheck); see :mod:`abr.hlsjs`.
"""

from __future__ import annotations

from typing import Any

from abr.base import AbrContext, AbrError, Param, Progress, highest_rung_below, js_round


class DashJsAbandon:
    """dash.js v4 AbandonRequestsRule (src/streaming/rules/abr/AbandonRequestsRule.js).

    Silent while the buffer exceeds ``stable_buffer_s`` (stableBufferTime, 12 s) and
    before the first byte. On every progress report it stores the throughput since the
    first byte, ``Math.round(8 * bytes / ms)`` kbit/s; once it holds ``min_samples`` (5,
    MIN_LENGTH_TO_AVERAGE) of them, more than ``grace_s`` (500 ms, GRACE_TIME_THRESHOLD)
    have passed since the first byte and bytes remain, their rounded mean predicts the
    whole download: at least ``multiplier`` (1.8, ABANDON_MULTIPLIER) x the segment
    duration (rounded to 10 ms, ``toFixed(2)``) and not at the lowest rung, it abandons
    for the rung that mean x ``bandwidth_safety`` (0.9) sustains, if the bytes still to
    load exceed that rung's estimated size (this size x bitrate ratio). A segment is
    abandoned at most once (``abandonDict``).
    """

    name = "dashjs"
    source = "dash.js v4 AbandonRequestsRule.js (ABANDON_MULTIPLIER 1.8, GRACE_TIME_THRESHOLD 500 ms, MIN_LENGTH_TO_AVERAGE 5)"
    PARAMS = {
        "multiplier": Param(1.8, "abandon when the estimated download time exceeds this x segment duration", float, lo=0, lo_open=True),
        "grace_s": Param(0.5, "no decision before this much time since the first byte", float, lo=0),
        "min_samples": Param(5, "progress reports averaged before deciding", int, lo=1),
        "bandwidth_safety": Param(0.9, "fraction of the measured throughput the new rung may use", float, lo=0, lo_open=True, hi=1),
        "stable_buffer_s": Param(12.0, "no abandonment above this buffer level (stableBufferTime)", float, lo=0),
    }

    def __init__(self, multiplier: float = 1.8, grace_s: float = 0.5, min_samples: int = 5,
                 bandwidth_safety: float = 0.9, stable_buffer_s: float = 12.0) -> None:
        given = dict(multiplier=multiplier, grace_s=grace_s, min_samples=min_samples,
                     bandwidth_safety=bandwidth_safety, stable_buffer_s=stable_buffer_s)
        for k, v in given.items():
            try:
                setattr(self, k, self.PARAMS[k].coerce(k, v))
            except AbrError as e:
                raise AbrError(f"abandon={self.name}: {e}") from None
        self.reset()

    def reset(self) -> None:
        self._request: tuple[int, int] | None = None
        self._kbps: list[int] = []
        self._abandoned: set[int] = set()

    def __call__(self, ctx: AbrContext, progress: Progress) -> int | None:
        if ctx.buffer_s > self.stable_buffer_s or progress.ttfb_s is None or progress.index in self._abandoned:
            return None
        key = (progress.index, progress.rung)
        if key != self._request:  # the first progress report of this request
            self._request = key
            self._kbps = []
        elapsed_ms = (progress.elapsed_s - progress.ttfb_s) * 1000.0
        loaded = progress.bytes_loaded
        if loaded > 0 and elapsed_ms > 0:
            self._kbps.append(js_round(loaded * 8.0 / elapsed_ms))
        if len(self._kbps) < self.min_samples or elapsed_ms <= 1000.0 * self.grace_s or loaded >= progress.size_bytes:
            return None
        measured = js_round(sum(self._kbps) / len(self._kbps))
        if measured <= 0:
            return None
        estimate_s = round(progress.size_bytes * 8.0 / measured / 1000.0, 2)
        if estimate_s < ctx.segment_duration_s * self.multiplier or progress.rung == 0:
            return None
        bitrates = ctx.bitrates_bps
        q = highest_rung_below(bitrates, measured * self.bandwidth_safety * 1000.0)
        other = progress.size_bytes * bitrates[q] / bitrates[progress.rung]
        if progress.size_bytes - loaded <= other:
            return None
        self._abandoned.add(progress.index)
        return q


class HlsJsAbandon:
    name = "hlsjs"
    source = "hls.js 1.5 abr-controller.ts _abandonRulesCheck (emergency switch-down, with hls.js's own estimators)"
    PARAMS: dict[str, Param] = {}

    def __init__(self) -> None:
        from abr.hlsjs import HlsJs

        self._hls = HlsJs()

    def on_download(self, sample: Any, ctx: AbrContext) -> None:
        # the emergency rule reads hls.js's own bandwidth and TTFB estimates
        self._hls.on_download(sample, ctx)

    def reset(self) -> None:
        self._hls.reset()

    def __call__(self, ctx: AbrContext, progress: Progress) -> int | None:
        return self._hls.should_abandon(ctx, progress)


RULES = {"dashjs": DashJsAbandon, "hlsjs": HlsJsAbandon}


def describe_rules() -> list[dict[str, Any]]:
    """The abandonment rules for ``abrlab abr list`` (attach one with ``NAME:abandon=RULE``)."""
    return [
        {
            "name": f"abandon={name}",
            "target": f"abr.abandon:{cls.__name__}",
            "family": "abandonment",
            "source": cls.source,
            "params": {k: p.describe() for k, p in cls.PARAMS.items()},
            "presets": {},
            "mode_presets": {},
        }
        for name, cls in RULES.items()
    ]


def make_rule(name: str) -> Any:
    try:
        return RULES[name]()
    except KeyError:
        raise AbrError(f"unknown abandonment rule {name!r} (known: {', '.join(RULES)})") from None


def _both(first: Any, second: Any) -> Any:
    def call(*args: Any) -> None:
        first(*args)
        second(*args)

    return call


class WithAbandonment:
    """An algorithm plus an abandonment rule (which replaces the algorithm's own)."""

    def __init__(self, inner: Any, rule: Any, rule_name: str) -> None:
        self.inner = inner
        self.rule = rule
        self.rule_name = rule_name
        self.name = getattr(inner, "name", type(inner).__name__)
        self.decide = inner.decide
        for hook in ("first_rung", "on_wait"):
            fn = getattr(inner, hook, None)
            if fn is not None:
                setattr(self, hook, fn)
        # a rule with its own estimator (hls.js's) sees the transfers and resets too
        for hook in ("on_download", "reset"):
            fns = [f for f in (getattr(inner, hook, None), getattr(rule, hook, None)) if f is not None]
            if len(fns) == 1:
                setattr(self, hook, fns[0])
            elif fns:
                setattr(self, hook, _both(*fns))

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
