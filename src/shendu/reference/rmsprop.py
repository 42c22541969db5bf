"""RMSProp as textbook Algorithm 8.5 and RMSProp with Nesterov momentum as Algorithm 8.6 (textbook 8.5.2),
one step at a time. Reference for shendu.optim.RMSprop.

Algorithm 8.5: r <- rho r + (1 - rho) g * g;  theta <- theta - eps / sqrt(delta + r) * g   (delta inside the root).
Algorithm 8.6: theta~ = theta + alpha v;  g = grad(theta~);  r <- rho r + (1 - rho) g * g;
               v <- alpha v - eps / sqrt(r) * g;  theta <- theta + v   (the book has no delta here).
PyTorch form: delta outside the root, g / (sqrt(r) + eps); optional 'centered' (r - a*a with a the mean of g)
and heavy-ball momentum on the rescaled gradient d: b <- mu b + d, theta <- theta - lr b.
"""
from __future__ import annotations

import numpy as np


def rmsprop_step(theta, g, state, lr=1e-2, rho=0.99, delta=1e-6):
    """Algorithm 8.5 literally; ``state`` holds r."""
    r = state.get("r", np.zeros_like(theta))
    r = rho * r + (1.0 - rho) * g * g
    state["r"] = r
    return theta - lr / np.sqrt(delta + r) * g


def rmsprop_nesterov_step(theta, grad_fn, state, lr, rho, alpha):
    """Algorithm 8.6 literally (no delta: the first gradient must be nonzero everywhere)."""
    r = state.get("r", np.zeros_like(theta))
    v = state.get("v", np.zeros_like(theta))
    g = grad_fn(theta + alpha * v)
    r = rho * r + (1.0 - rho) * g * g
    v = alpha * v - lr / np.sqrt(r) * g
    state["r"], state["v"] = r, v
    return theta + v


def pytorch_rmsprop_step(theta, g, state, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                         centered=False):
    """PyTorch's RMSprop form (see the module docstring)."""
    g = g + weight_decay * theta
    r = alpha * state.get("r", np.zeros_like(theta)) + (1.0 - alpha) * g * g
    state["r"] = r
    if centered:
        a = alpha * state.get("a", np.zeros_like(theta)) + (1.0 - alpha) * g
        state["a"] = a
        r = r - a * a
    d = g / (np.sqrt(r) + eps)
    if momentum:
        b = momentum * state.get("b", np.zeros_like(theta)) + d
        state["b"] = b
        d = b
    return theta - lr * d
