"""Continuation methods: a sequence of blurred objectives (textbook 8.7.6, eq. 8.40).

J^(i)(theta) = E_{theta' ~ N(theta, sigma_i^2 I)} J(theta'), estimated by sampling; sigma_i decreases with i and
the minimiser of each J^(i) initialises the next. For J = theta^T theta in n dims,
J^(i) = theta^T theta + n sigma^2 (W8.19).
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import generator_for, namespace_of

__all__ = ["blurred_objective", "continuation"]


def blurred_objective(J, theta: Tensor, sigma: float, n_samples: int = 1000, antithetic: bool = True):
    """Monte-Carlo J_sigma(theta) = mean_s J(theta + sigma eps_s), eps_s ~ N(0, I) (reparameterised: differentiable
    in theta). J maps a batch (S, *theta.shape) to (S,) values. ``antithetic`` pairs eps with -eps."""
    if sigma < 0 or int(n_samples) < 1:
        raise ValueError(f"blurred_objective: need sigma >= 0 and n_samples >= 1, got {sigma}, {n_samples}")
    arr = theta._data
    s = int(n_samples)
    half = (s + 1) // 2 if antithetic else s
    eps = generator_for(arr).standard_normal((half,) + tuple(arr.shape), dtype=arr.dtype)
    if antithetic:
        eps = namespace_of(eps).concatenate([eps, -eps])[:s]
    vals = J(theta.unsqueeze(0) + _wrap(eps * sigma))
    if tuple(vals.shape) != (s,):
        raise ValueError(f"blurred_objective: J must map (S, *theta.shape) to (S,), got {tuple(vals.shape)}")
    return vals.mean()


def continuation(J, theta0, sigmas, steps_per_stage: int = 100, lr: float = 0.05, n_samples: int = 200):
    """Minimise J^(0), ..., J^(n) (blur ``sigmas``, last usually 0) by gradient descent, each from the previous
    solution. theta0: a Tensor (copied). Returns (theta, [theta after each stage as host arrays])."""
    from ...autograd.engine import grad as _grad
    from ...backend import to_host

    theta = theta0.detach().clone().requires_grad_(True)
    path = []
    for sigma in sigmas:
        for _ in range(int(steps_per_stage)):
            obj = blurred_objective(J, theta, sigma, n_samples) if sigma > 0 else J(theta.unsqueeze(0)).mean()
            (g,) = _grad(obj, [theta])
            theta = (theta.detach() - lr * g.detach()).requires_grad_(True)
        path.append(np.array(to_host(theta._data)))
    return theta.detach(), path
