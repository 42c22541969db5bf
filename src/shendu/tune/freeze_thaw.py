"""Automatic freeze-thaw scheduling of trials (textbook 11.4.5; Swersky, Snoek & Adams 2014, simplified).

Several experiments stay alive. After a short warm-up of each, the scheduler repeatedly extrapolates every
trial's learning curve with l(t) ~ a + b exp(-c t) (least squares in (a, b) for each c on a grid; the asymptote
a is the predicted final loss, with an uncertainty from the residuals), **thaws** (resumes for ``chunk`` more
steps) the trial whose optimistic prediction a - kappa * sd is lowest and keeps the others **frozen** (their
state is kept, nothing is lost), until ``budget`` steps are spent. Unlike pruning on the current loss, a
slow-starting trial with the better asymptote is not discarded.

    sched = FreezeThawScheduler(step_fn, configs, budget=200)
    best_config, best_state = sched.run()
``step_fn(config, state, n)`` trains ``n`` more steps from ``state`` (None at first) and returns
``(state, losses)`` with the n new losses (validation losses, lower is better). Host-side bookkeeping only.
"""
from __future__ import annotations

import numpy as np

__all__ = ["extrapolate_curve", "FreezeThawScheduler"]

_RATES = np.geomspace(1e-3, 3.0, 60)


def extrapolate_curve(losses):
    """Fit l(t) = a + b exp(-c t), t = 1..n, to ``losses``: returns (a, sd, c) with the asymptote a, its
    uncertainty sd (residual std / sqrt(n), at least 1e-12) and the rate c. Fewer than 3 points: (last, inf, 0)."""
    y = np.asarray(losses, dtype=np.float64)
    n = y.size
    if n < 3:
        return (float(y[-1]) if n else np.inf), np.inf, 0.0
    t = np.arange(1, n + 1, dtype=np.float64)
    best = None
    for c in _RATES:
        A = np.stack([np.ones(n), np.exp(-c * t)], 1)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        if coef[1] < 0:                      # the curve must decrease toward its asymptote
            continue
        r = float(np.sum((A @ coef - y) ** 2))
        if best is None or r < best[0]:
            best = (r, float(coef[0]), float(c))
    if best is None:                         # not decreasing: predict the running minimum
        return float(y.min()), float(np.std(y) / np.sqrt(n) + 1e-12), 0.0
    r, a, c = best
    return a, float(np.sqrt(r / max(n - 2, 1)) / np.sqrt(n) + 1e-12), c


class FreezeThawScheduler:
    """Freeze-thaw over a fixed pool of ``configs``: ``warmup`` steps for each, then ``chunk`` steps at a time
    for the trial with the lowest a - kappa * sd, until ``budget`` total steps. ``max_steps`` caps one trial.
    After :meth:`run`: ``curves`` (losses per trial), ``states``, ``schedule`` (trial index per chunk)."""

    def __init__(self, step_fn, configs, budget, warmup=3, chunk=2, kappa=1.0, max_steps=None):
        self.configs = list(configs)
        if not self.configs:
            raise ValueError("FreezeThawScheduler: configs is empty")
        if warmup < 1 or chunk < 1:
            raise ValueError(f"FreezeThawScheduler: warmup and chunk must be >= 1, got {warmup}, {chunk}")
        if budget < warmup * len(self.configs):
            raise ValueError(f"FreezeThawScheduler: budget {budget} is smaller than the warm-up "
                             f"({warmup} steps x {len(self.configs)} trials)")
        self.step_fn, self.budget, self.warmup, self.chunk = step_fn, int(budget), warmup, chunk
        self.kappa, self.max_steps = kappa, max_steps
        self.curves = [[] for _ in self.configs]
        self.states = [None] * len(self.configs)
        self.schedule = []
        self.used = 0

    def _advance(self, i, n):
        state, losses = self.step_fn(self.configs[i], self.states[i], n)
        losses = [float(v) for v in losses]
        if len(losses) != n:
            raise ValueError(f"FreezeThawScheduler: step_fn returned {len(losses)} losses for n={n}")
        self.states[i] = state
        self.curves[i] += losses
        self.used += n
        self.schedule.append(i)

    def predictions(self):
        """(asymptote, sd) per trial from its curve so far."""
        return [extrapolate_curve(c)[:2] for c in self.curves]

    def run(self):
        """Warm up every trial, then thaw the most promising one chunk by chunk. Returns (config, state) of the
        trial with the lowest observed loss."""
        for i in range(len(self.configs)):
            self._advance(i, self.warmup)
        while self.used < self.budget:
            scores = []
            for i, (a, sd) in enumerate(self.predictions()):
                full = self.max_steps is not None and len(self.curves[i]) >= self.max_steps
                scores.append(np.inf if full else a - self.kappa * sd)
            i = int(np.argmin(scores))
            if not np.isfinite(scores[i]):
                break
            n = min(self.chunk, self.budget - self.used)
            if self.max_steps is not None:
                n = min(n, self.max_steps - len(self.curves[i]))
            self._advance(i, n)
        best = int(np.argmin([min(c) for c in self.curves]))
        self.best_index = best
        return self.configs[best], self.states[best]

    def steps_per_trial(self):
        """How many steps each trial received."""
        return [len(c) for c in self.curves]
