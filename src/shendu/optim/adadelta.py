"""AdaDelta (Zeiler 2012; named among the popular adaptive methods in Textbook 8.5.4), PyTorch's form:
    r <- rho r + (1 - rho) g*g;  delta = sqrt(u + eps) / sqrt(r + eps) * g;  u <- rho u + (1 - rho) delta*delta;
    p <- p - lr * delta      (g = grad + weight_decay * p)
"""
from __future__ import annotations

from ._blocked import blocks
from .optimizer import Optimizer, _grad_with_decay

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0)."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
        if lr < 0 or eps < 0 or weight_decay < 0 or not 0 <= rho <= 1:
            raise ValueError(f"Adadelta: invalid options lr={lr}, rho={rho}, eps={eps}, weight_decay={weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def step(self, closure=None):
        """One AdaDelta update of every parameter with a gradient; returns the closure's loss (if given)."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, rho, eps, wd, maximize = group["lr"], group["rho"], group["eps"], group["weight_decay"], \
                group["maximize"]
            for g, d, xp, st in self._params_with_grad(group):
                if "square_avg" not in st:
                    st.update(step=0, square_avg=xp.zeros_like(d), acc_delta=xp.zeros_like(d))
                g = _grad_with_decay(st, g, d, wd, maximize, xp)
                st["step"] += 1
                for piece in blocks(st, (d, g, st["square_avg"], st["acc_delta"]), 2):
                    _adadelta_(xp, *piece, rho, eps, lr)
        return loss


def _adadelta_(xp, d, g, r, acc, t, u, rho, eps, lr):
    """One AdaDelta update in place of parameter d and state r, acc (t, u: scratch), as the module docstring."""
    r *= rho                    # r <- rho r + (1 - rho) g*g
    xp.multiply(g, g, out=t)
    t *= 1.0 - rho
    r += t
    xp.add(r, eps, out=t)       # std = sqrt(r + eps)
    xp.sqrt(t, out=t)
    xp.add(acc, eps, out=u)     # delta = sqrt(u + eps) / std * g
    xp.sqrt(u, out=u)
    u /= t
    u *= g
    acc *= rho                  # u <- rho u + (1 - rho) delta*delta
    xp.multiply(u, u, out=t)
    t *= 1.0 - rho
    acc += t
    if lr != 1:                 # p <- p - lr delta (lr = 1, the usual: one pass fewer)
        u *= lr
    d -= u
