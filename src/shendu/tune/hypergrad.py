"""Gradient of the validation error with respect to continuous hyperparameters (textbook 11.4.5; Maclaurin et
al. 2015): unroll ``steps`` gradient-descent steps with the graph kept (create_graph), then back-propagate the
validation loss through the whole training run to the hyperparameters."""
from __future__ import annotations

__all__ = ["hypergradient"]


def hypergradient(train_loss, val_loss, params, hparams, *, steps=10, lr=0.1):
    """(validation loss, {name: d val_loss / d hparam}) after ``steps`` unrolled steps of plain gradient descent
    theta <- theta - lr * grad train_loss(theta, hparams), started from ``params`` (a list of tensors; not changed).

    train_loss(params, hparams) and val_loss(params) return scalar tensors; hparams: {name: tensor} (each made to
    require grad), e.g. {'wd': weight decay, 'lr': the step size itself (then it replaces ``lr``)}. Memory grows
    with ``steps`` (the whole run is kept), so this suits small models and short runs."""
    from ..autograd.engine import grad
    from ..autograd.tensor import Tensor

    if not hparams:
        raise ValueError("hypergradient: give at least one hyperparameter tensor")
    hs = {}
    for k, v in hparams.items():
        if not isinstance(v, Tensor):
            raise TypeError(f"hypergradient: hyperparameter {k!r} must be a shendu Tensor, got {type(v).__name__}")
        hs[k] = v if v.requires_grad else v.detach().requires_grad_(True)
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"hypergradient: steps must be an int >= 1, got {steps!r}")
    step = hs.get("lr", lr)
    theta = [p.detach().requires_grad_(True) for p in params]
    for _ in range(steps):
        gs = grad(train_loss(theta, hs), theta, create_graph=True, allow_unused=True)
        theta = [t if g is None else t - step * g for t, g in zip(theta, gs)]
    v = val_loss(theta)
    names = list(hs)
    out = grad(v, [hs[n] for n in names], allow_unused=True)
    return v.detach(), {n: (None if g is None else g.detach()) for n, g in zip(names, out)}
