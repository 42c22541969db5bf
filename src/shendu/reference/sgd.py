"""SGD, momentum and Nesterov momentum as textbook Algorithms 8.1-8.3 (textbook 8.3.1-8.3.3), one step at a
time on NumPy arrays. Reference for shendu.optim.SGD.

Algorithm 8.1: theta <- theta - eps g.
Algorithm 8.2: v <- alpha v - eps g;  theta <- theta + v.
Algorithm 8.3: theta~ = theta + alpha v;  g = grad(theta~);  v <- alpha v - eps g;  theta <- theta + v.
PyTorch form (shendu's default): b <- mu b + (1 - dampening) g (b = g on the first step),
theta <- theta - lr b, or with nesterov theta <- theta - lr (g + mu b). It is Algorithm 8.2 with v = -lr b
while lr is constant, and Algorithm 8.3 rewritten in the look-ahead variable theta~ (so its gradient is
taken at the stored parameters). weight_decay adds wd * theta to g (L2, textbook 7.1.1).
"""
from __future__ import annotations

import numpy as np


def sgd_step(theta, g, lr):
    """Algorithm 8.1."""
    return theta - lr * g


def momentum_step(theta, g, state, lr, alpha):
    """Algorithm 8.2 literally; ``state`` holds the velocity v (zero at first)."""
    v = state.get("v", np.zeros_like(theta))
    v = alpha * v - lr * g
    state["v"] = v
    return theta + v


def nesterov_step(theta, grad_fn, state, lr, alpha):
    """Algorithm 8.3 literally: the gradient is taken at the interim point theta + alpha v."""
    v = state.get("v", np.zeros_like(theta))
    g = grad_fn(theta + alpha * v)
    v = alpha * v - lr * g
    state["v"] = v
    return theta + v


def pytorch_sgd_step(theta, g, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """PyTorch's SGD form (see the module docstring); ``state`` holds the buffer b."""
    g = g + weight_decay * theta
    if momentum:
        b = state.get("b")
        b = g.copy() if b is None else momentum * b + (1.0 - dampening) * g
        state["b"] = b
        g = g + momentum * b if nesterov else b
    return theta - lr * g
