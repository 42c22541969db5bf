"""Proximal L1 step: soft-thresholding after each optimizer step (textbook 7.1.2, eq. 7.23).

For J~ = J + alpha*||w||_1 the proximal gradient method takes the plain gradient step on J, then
w <- sign(w) * max(|w| - lr*alpha, 0): weights that the step brings within lr*alpha of 0 become exactly 0,
which the subgradient alpha*sign(w) (7.20) never achieves. Exact proximal gradient for SGD without momentum;
with momentum or adaptive optimizers it is the usual heuristic (threshold lr*alpha with the group's lr).
"""
from __future__ import annotations

import numbers

from ..autograd.tensor import Tensor
from ..backend import namespace_of
from .penalties import _NO_DECAY, _ApplyAfterStep, _Selection

__all__ = ["soft_threshold", "ProximalL1"]


def soft_threshold(w, t):
    """sign(w) * max(|w| - t, 0), the proximal operator of t*||.||_1 (textbook eq. 7.23), elementwise.

    w: Tensor (differentiable: a composition of tensor ops) or array (same namespace and dtype); t >= 0, a
    number or a Tensor/array broadcasting against w.
    """
    if isinstance(t, numbers.Real) and not isinstance(t, bool) and t < 0:
        raise ValueError(f"soft_threshold: the threshold t must be >= 0, got {t!r}")
    if isinstance(w, Tensor):
        return w.sign() * (w.abs() - t).relu()
    if not hasattr(w, "dtype"):
        raise TypeError(f"soft_threshold: w must be a Tensor or an array, got {type(w).__name__}")
    xp = namespace_of(w)
    return xp.sign(w) * xp.maximum(xp.abs(w) - t, 0)


class ProximalL1(_Selection):
    """After each optimizer step, w <- soft_threshold(w, lr*alpha) on the selected weights (textbook 7.23).

    ``ProximalL1(1e-3).attach(optimizer, model)`` (a step post hook; returns its handle), or
    ``fit(..., constraints=[ProximalL1(1e-3)])``, or call ``apply(model, optimizer)`` / ``apply(model, lr=...)``.
    ``lr``: a fixed step size; by default the lr of the parameter's optimizer group at the time of the step.
    ``alpha``, ``include``, ``exclude`` as for the penalties (weights only by default).
    """

    def __init__(self, alpha, *, lr=None, include=None, exclude=_NO_DECAY):
        super().__init__(alpha, include=include, exclude=exclude)
        if lr is not None and (not isinstance(lr, numbers.Real) or lr <= 0):
            raise ValueError(f"ProximalL1: lr must be a number > 0 or None, got {lr!r}")
        self.lr = lr

    def apply(self, model, optimizer=None, lr=None):
        """Soft-threshold the selected parameters of ``model`` in place (no graph)."""
        lr = self.lr if lr is None else lr
        group_lr = {}
        if lr is None:
            if optimizer is None or not hasattr(optimizer, "param_groups"):
                raise ValueError("ProximalL1.apply: needs lr= or an optimizer with param_groups (threshold lr*alpha)")
            for g in optimizer.param_groups:
                for p in g["params"]:
                    group_lr[id(p)] = float(g["lr"])
        for _name, p, a in self.selected(model):
            step = lr if lr is not None else group_lr.get(id(p))
            if step is None:
                continue  # not trained by this optimizer
            d = p._data
            d[...] = soft_threshold(d, float(step) * a)

    def __call__(self, model, optimizer=None, lr=None):
        return self.apply(model, optimizer, lr)

    def attach(self, optimizer, model):
        """Register ``apply(model, optimizer)`` as a step post hook of ``optimizer``; returns the handle."""
        return optimizer.register_step_post_hook(_ApplyAfterStep(self, model))
