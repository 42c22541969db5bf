"""The textbook's schedules as factors of the initial lr (textbook 8.3.1): linear decay to eps_tau,
exponential decay alpha_0 e^{-k t}, inverse time alpha_0 tau / max(t, tau), and a linear warmup.
"""
from __future__ import annotations

import math

from .base import LRScheduler


class _FactorLR(LRScheduler):
    """lr = base_lr * self.factor(epoch) (closed form, not chainable)."""

    def get_lr(self):
        return [self._closed_form(b, self.last_epoch) for b in self.base_lrs]

    def _closed_form(self, b, t):
        return b * self.factor(t)


class LinearDecayLR(_FactorLR):
    """Textbook 8.3.1: eps_k = (1 - a) eps_0 + a eps_tau with a = k / tau, then eps_tau for k >= tau.
    Give eps_tau as ``final_lr`` (same for every group) or as ``final_factor`` * eps_0 (default 0.01, the
    textbook's 'about 1% of eps_0')."""

    def __init__(self, optimizer, tau, final_factor=0.01, final_lr=None, last_epoch=-1):
        if tau <= 0:
            raise ValueError(f"LinearDecayLR: tau must be > 0, got {tau}")
        self.tau, self.final_factor, self.final_lr = tau, final_factor, final_lr
        super().__init__(optimizer, last_epoch)

    def _closed_form(self, b, t):
        a = min(t / self.tau, 1.0)
        end = self.final_lr if self.final_lr is not None else b * self.final_factor
        return (1.0 - a) * b + a * end


class ExponentialDecayLR(_FactorLR):
    """alpha_t = alpha_0 e^{-k t} (= ExponentialLR with gamma = e^{-k})."""

    def __init__(self, optimizer, k, last_epoch=-1):
        self.k = k
        super().__init__(optimizer, last_epoch)

    def factor(self, t):
        return math.exp(-self.k * t)


class InverseTimeLR(_FactorLR):
    """1/t decay: alpha_t = alpha_0 tau / max(t, tau) (constant for the first tau steps)."""

    def __init__(self, optimizer, tau, last_epoch=-1):
        if tau <= 0:
            raise ValueError(f"InverseTimeLR: tau must be > 0, got {tau}")
        self.tau = tau
        super().__init__(optimizer, last_epoch)

    def factor(self, t):
        return self.tau / max(t, self.tau)


class LinearWarmup(_FactorLR):
    """Linear warm-up: lr = base_lr * (start_factor + (1 - start_factor) * min(t, warmup_steps) / warmup_steps)."""

    def __init__(self, optimizer, warmup_steps, start_factor=0.0, last_epoch=-1):
        if warmup_steps <= 0:
            raise ValueError(f"LinearWarmup: warmup_steps must be > 0, got {warmup_steps}")
        self.warmup_steps, self.start_factor = warmup_steps, start_factor
        super().__init__(optimizer, last_epoch)

    def factor(self, t):
        return self.start_factor + (1.0 - self.start_factor) * min(t, self.warmup_steps) / self.warmup_steps
