"""AdaGrad as textbook Algorithm 8.4 (textbook 8.5.1), one step at a time. Reference for shendu.optim.Adagrad.

Algorithm 8.4: r <- r + g * g;  theta <- theta - eps / (delta + sqrt(r)) * g   (delta ~1e-7, outside the root).
PyTorch form: the same with delta = eps (default 1e-10), plus a decaying rate lr / (1 + (t - 1) lr_decay),
L2 weight decay (g + wd theta) and an initial accumulator value r_0.
"""
from __future__ import annotations

import numpy as np


def adagrad_step(theta, g, state, lr=1e-2, delta=1e-7, lr_decay=0.0, weight_decay=0.0, initial_accumulator=0.0):
    """One AdaGrad step; ``state`` holds r and the step count t."""
    g = g + weight_decay * theta
    r = state.get("r", np.full_like(theta, initial_accumulator))
    t = state.get("t", 0) + 1
    r = r + g * g
    state["r"], state["t"] = r, t
    rate = lr / (1.0 + (t - 1) * lr_decay)
    return theta - rate / (delta + np.sqrt(r)) * g
