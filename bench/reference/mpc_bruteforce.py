"""RobustMPC by plain exhaustive enumeration, vectorised with numpy.

The straightforward way to implement Yin et al.'s search: every rung sequence of the
horizon (6^5 = 7,776 for Envivio) scored at once per decision, the rebuffering simulated
position by position over all sequences as numpy arrays, the best one picked. It uses
abrlab's throughput predictor (so both see the same inputs) but none of its search code;
``bench/abr_speed.py`` runs it side by side with ``abr.mpc`` to check that the decisions
are identical and to print the speed-up.
"""

from __future__ import annotations

import itertools

import numpy as np

from abr.mpc import RobustMpc


class BruteForcePlanner:
    def __init__(self, bitrates_bps, rebuf_penalty=4.3, smooth_penalty=1.0):
        self.bitrates_bps = tuple(int(b) for b in bitrates_bps)
        self.rates = np.asarray(self.bitrates_bps, dtype=np.int64)
        self.mu = float(rebuf_penalty)
        self.ls = float(smooth_penalty)
        self.n = len(self.bitrates_bps)
        self._combos = {}

    def combos(self, h):
        c = self._combos.get(h)
        if c is None:
            c = self._combos[h] = np.array(list(itertools.product(range(self.n), repeat=h)), dtype=np.int64)
        return c

    def best_first_rung(self, dl, durs, b0, last, ties_last=False):
        h = len(dl)
        if h == 0:
            return 0
        C = self.combos(h)
        d = np.asarray(dl, dtype=np.float64)
        buf = np.full(len(C), float(b0))
        reb = np.zeros(len(C))
        for k in range(h):
            x = d[k, C[:, k]]
            reb += np.maximum(x - buf, 0.0)
            buf = np.maximum(buf - x, 0.0) + durs[k]
        r = self.rates[C]
        prev = np.concatenate([np.full((len(C), 1), self.rates[last]), r[:, :-1]], axis=1)
        smooth = np.abs(r - prev).sum(axis=1)
        s = smooth / 1e6 if self.ls == 1.0 else self.ls * (smooth / 1e6)
        score = r.sum(axis=1) / 1e6 - self.mu * reb - s
        best = np.flatnonzero(score == score.max())
        return int(C[best[-1] if ties_last else best[0], 0])


class BruteForceRobustMpc(RobustMpc):
    """RobustMPC whose search is exhaustive numpy enumeration."""

    name = "robustmpc-bruteforce"

    def planner(self, bitrates_bps):
        p = self._planner
        if p is None or p.bitrates_bps != tuple(bitrates_bps):
            p = self._planner = BruteForcePlanner(bitrates_bps, self.rebuf_penalty, self.smooth_penalty)
        return p
