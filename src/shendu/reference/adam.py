"""Adam as textbook Algorithm 8.7 (textbook 8.5.3), one step at a time. Reference for shendu.optim.Adam.

    t <- t + 1
    s <- rho1 s + (1 - rho1) g            (biased first moment)
    r <- rho2 r + (1 - rho2) g * g        (biased second moment)
    s^ = s / (1 - rho1^t);  r^ = r / (1 - rho2^t)
    theta <- theta - eps * s^ / (sqrt(r^) + delta)
Defaults eps = 1e-3, rho1 = 0.9, rho2 = 0.999, delta = 1e-8. PyTorch's Adam is the same update (it folds the
corrections into a step size); its extras: weight_decay adds wd * theta to g (L2), AdamW instead shrinks
theta <- theta (1 - lr wd) before the step (decoupled), and amsgrad uses the running max of r in the denominator.
"""
from __future__ import annotations

import numpy as np


def adam_step(theta, g, state, lr=1e-3, rho1=0.9, rho2=0.999, delta=1e-8, weight_decay=0.0, decoupled=False,
              amsgrad=False):
    """One Adam step; ``state`` holds s, r, t (and r_max with amsgrad)."""
    if decoupled:
        theta = theta * (1.0 - lr * weight_decay)
    else:
        g = g + weight_decay * theta
    t = state.get("t", 0) + 1
    s = rho1 * state.get("s", np.zeros_like(theta)) + (1.0 - rho1) * g
    r = rho2 * state.get("r", np.zeros_like(theta)) + (1.0 - rho2) * g * g
    state["t"], state["s"], state["r"] = t, s, r
    if amsgrad:
        r = state["r_max"] = np.maximum(state.get("r_max", r), r)
    s_hat = s / (1.0 - rho1 ** t)
    r_hat = r / (1.0 - rho2 ** t)
    return theta - lr * s_hat / (np.sqrt(r_hat) + delta)
