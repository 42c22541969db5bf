"""Momentum schedules (textbook 8.3.2: the momentum coefficient alpha is often raised over time, e.g. 0.5 -> 0.99).

``MomentumScheduler(optimizer, schedule)`` writes schedule(t) into every parameter group's momentum (SGD,
RMSprop: ``momentum``; Adam-style: ``betas[0]``) at construction (t = 0) and at each ``step()``.
Schedules: ``linear_momentum(start, end, steps)``;
``sutskever_momentum(t)`` = min(1 - 2^(-1 - log2(floor(t/250) + 1)), mu_max) (Sutskever et al. 2013).
"""
from __future__ import annotations

import math

__all__ = ["MomentumScheduler", "linear_momentum", "sutskever_momentum"]


def linear_momentum(start: float = 0.5, end: float = 0.9, steps: int = 100):
    """alpha_t = start + (end - start) * min(t / steps, 1)."""
    if steps <= 0 or not (0 <= start < 1 and 0 <= end < 1):
        raise ValueError(f"linear_momentum: need 0 <= start, end < 1 and steps > 0, got {start}, {end}, {steps}")
    return lambda t: start + (end - start) * min(t / steps, 1.0)


def sutskever_momentum(t: int, mu_max: float = 0.99, every: int = 250) -> float:
    """min(1 - 2^(-1 - log2(floor(t / every) + 1)), mu_max): 0.5, 0.75, 0.833..., rising to mu_max."""
    return min(1.0 - 2.0 ** (-1.0 - math.log2(t // every + 1)), mu_max)


class MomentumScheduler:
    """Set each group's momentum to ``schedule(t)``; ``step()`` advances t by one (call after optimizer.step())."""

    def __init__(self, optimizer, schedule):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"MomentumScheduler: expected an Optimizer, got {type(optimizer).__name__}")
        if not callable(schedule):
            raise TypeError(
                f"MomentumScheduler: schedule must be callable t -> momentum, got {type(schedule).__name__}"
            )
        self.optimizer, self.schedule, self.last_step = optimizer, schedule, -1
        for g in optimizer.param_groups:
            if "momentum" not in g and "betas" not in g:
                raise ValueError(f"MomentumScheduler: {type(optimizer).__name__} has no 'momentum' or 'betas' setting")
        self.step()

    def step(self):
        self.last_step += 1
        m = float(self.schedule(self.last_step))
        if not 0.0 <= m < 1.0:
            raise ValueError(f"MomentumScheduler: schedule({self.last_step}) = {m} is not in [0, 1)")
        for g in self.optimizer.param_groups:
            if "momentum" in g:
                g["momentum"] = m
            else:
                g["betas"] = (m,) + tuple(g["betas"][1:])
        self._last = m
        return m

    def get_last_momentum(self) -> float:
        return self._last

    def state_dict(self):
        return {"last_step": self.last_step}

    def load_state_dict(self, state):
        self.last_step = int(state["last_step"]) - 1
        self.step()
