"""Delta-bar-delta (Textbook 8.5 opening, Jacobs 1988): one learning rate per parameter, raised while the
partial derivative keeps its sign and lowered when the sign flips. Full-batch method (as the text says).

The text gives no constants; Jacobs' rule with additive increase kappa, multiplicative decrease phi and the
exponential average bar_delta of past gradients (theta = smoothing):
    delta = g;   if delta * bar_delta > 0: eps <- eps + kappa;   elif delta * bar_delta < 0: eps <- eps (1 - phi)
    p <- p - eps * delta;    bar_delta <- (1 - theta) delta + theta bar_delta
"""
from __future__ import annotations

from .optimizer import Optimizer

__all__ = ["DeltaBarDelta"]


class DeltaBarDelta(Optimizer):
    """DeltaBarDelta(params, lr=1e-2, kappa=1e-3, phi=0.5, theta=0.7): per-parameter rates (state "lr")."""

    def __init__(self, params, lr=1e-2, kappa=1e-3, phi=0.5, theta=0.7):
        if lr <= 0 or kappa < 0 or not 0 <= phi < 1 or not 0 <= theta < 1:
            raise ValueError(f"DeltaBarDelta: need lr > 0, kappa >= 0, 0 <= phi < 1, 0 <= theta < 1; got lr={lr}, "
                             f"kappa={kappa}, phi={phi}, theta={theta}")
        super().__init__(params, dict(lr=lr, kappa=kappa, phi=phi, theta=theta))

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            for g, d, xp, st in self._params_with_grad(group):
                if "lr" not in st:
                    st.update(lr=xp.full_like(d, group["lr"]), bar=xp.zeros_like(d), step=0)
                eps, bar = st["lr"], st["bar"]
                agree = g * bar
                eps[...] = xp.where(agree > 0, eps + group["kappa"], xp.where(agree < 0, eps * (1 - group["phi"]), eps))
                d -= (eps * g).astype(d.dtype, copy=False)
                bar[...] = (1 - group["theta"]) * g + group["theta"] * bar
                st["step"] += 1
        return loss
