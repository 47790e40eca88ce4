"""A gymnasium-style environment over the simulator, for training your own ABR agents.

    env = AbrEnv(title, traces, mode="default", seed=0)
    obs, info = env.reset()
    while True:
        obs, reward, terminated, truncated, info = env.step(action)  # action = rung index
        if terminated or truncated: break

It follows gymnasium's ``reset(seed=None) -> (obs, info)`` and ``step(action) -> (obs,
reward, terminated, truncated, info)`` protocol without importing gymnasium (wrap it with
``gymnasium.Env`` if you use that library). Each episode plays one title over one trace
(picked at random from ``traces`` with the env's RNG); each step fetches the next segment
at the chosen rung and returns its QoE_lin reward, exactly ``qoe.metrics``' per-segment
reward (bitrate in Mbps - 4.3 x stall - |change|; the startup delay is the first
segment's stall). Observations are :func:`abr.learned.state_features` of the context the
next decision would see (buffer, stall flag, last bitrate, throughput over several
horizons, last download time, latency, segment duration, content left), as a numpy
array (names in ``FEATURES``; zeros before the first download). ``info["candidates"]``
holds :func:`abr.learned.candidate_matrix`, the per-rung features the bundled learned
ABR scores.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from abr.base import AbrContext
from abr.learned import STATE_FEATURES, candidate_matrix, state_features
from player.config import SessionConfig, mode_config
from player.link import make_link
from player.presentation import Title
from player.session import FetchSegment, Session, Wait
from qoe.metrics import per_segment_rewards
from traces.model import Trace


class _Agent:
    """The session's ABR during an episode: returns whatever the env was told."""

    name = "gym-agent"

    def __init__(self) -> None:
        self.action = 0

    def decide(self, ctx: AbrContext) -> int:
        return self.action


class AbrEnv:
    FEATURES = STATE_FEATURES

    def __init__(self, title: Title, traces: Sequence[Trace], mode: str = "default", config: SessionConfig | None = None, seed: int | None = None) -> None:
        if not traces:
            raise ValueError("AbrEnv needs at least one trace")
        self.title = title
        self.traces = list(traces)
        self.config = config or mode_config(mode)
        # the agent picks every rung, the first one included
        if self.config.first_rung_bps is not None:
            self.config = self.config.with_(first_rung_bps=None)
        self.n_actions = title.video.n_rungs
        self.rng = np.random.default_rng(seed)
        self.session: Session | None = None

    def _context(self) -> AbrContext:
        s = self.session
        assert s is not None
        p = s.video
        ctx = p.ctx
        ctx.now_s = self._now
        ctx.buffer_s = p.level_s
        ctx.last_rung = p.last_rung
        ctx.segment_index = min(p.next_index, p.end_index - 1)
        ctx.segment_duration_s = ctx.duration_of(ctx.segment_index)
        return ctx

    def _obs(self) -> np.ndarray:
        x = state_features(self._context())
        return np.zeros(len(STATE_FEATURES)) if x is None else np.asarray(x, dtype=np.float64)

    def candidates(self) -> np.ndarray | None:
        """Per-rung features of the next decision (None before the first download)."""
        ctx = self._context()
        x = state_features(ctx)
        return None if x is None else candidate_matrix(ctx, x)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        trace = self.traces[int(self.rng.integers(len(self.traces)))]
        if options and "trace" in options:
            trace = options["trace"]
        self._agent = _Agent()
        self.session = Session(self.title, self._agent, self.config, trace_name=trace.name, keep_events=False)
        self._link = make_link(self.config.mode if self.config.mode in ("pensieve", "sabre") else "default", trace)
        self._now = 0.0
        self.session.start(0.0)
        self._scored = 0
        return self._obs(), {"trace": trace.name}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        s = self.session
        if s is None:
            raise RuntimeError("call reset() first")
        a = int(action)
        if not 0 <= a < self.n_actions:
            raise ValueError(f"action {action!r} out of range 0..{self.n_actions - 1}")
        self._agent.action = a
        fetched = False
        while True:
            act = s.next_action(self._now)
            if isinstance(act, Wait):
                dt = act.until_s - self._now
                if dt > 0:
                    self._link.idle(dt)
                    self._now = act.until_s
                continue
            if isinstance(act, FetchSegment):
                ttfb, transfer = self._link.download(act.size_bytes)
                self._now += ttfb + transfer
                s.segment_loaded(self._now, act, act.size_bytes, ttfb, transfer)
                fetched = True
                break
            break  # Done
        rec = s.record()
        rewards = per_segment_rewards(rec, "lin")
        reward = float(sum(rewards[self._scored:]))
        self._scored = len(rewards)
        done = s.video.next_index >= s.video.end_index
        if done:
            s.next_action(self._now)  # play the buffer out: the session ends
        info = {"rung": a, "buffer_s": s.video.level_s, "fetched": fetched, "candidates": self.candidates()}
        return self._obs(), reward, done, False, info
