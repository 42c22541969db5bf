"""RMSProp (Textbook 8.5.2, Algorithm 8.5) and RMSProp with Nesterov momentum (Algorithm 8.6).

PyTorch's form (default), g = grad + weight_decay * p:
    r <- alpha r + (1 - alpha) g*g;   (centered: a <- alpha a + (1 - alpha) g, r~ = r - a*a)
    d = g / (sqrt(r~) + eps);   momentum: b <- momentum b + d, p <- p - lr b;   else p <- p - lr d
``eps_inside_sqrt=True`` gives Algorithm 8.5's d = g / sqrt(eps + r) (textbook delta ~1e-6, inside the root).
``nesterov=True`` is Algorithm 8.6 written in the look-ahead variable theta~ = theta + momentum v (as PyTorch's
Nesterov SGD): b <- momentum b + d, p <- p - lr (d + momentum b); with eps=0 it is literally Algorithm 8.6
(whose v is -lr b). ``rho`` is accepted as the textbook's name for ``alpha``.
Reference: shendu.reference.rmsprop (rmsprop_step, rmsprop_nesterov_step, pytorch_rmsprop_step).
"""
from __future__ import annotations

from ._blocked import blocks
from ._rescale import rescaled_
from .optimizer import Optimizer, _grad_with_decay

__all__ = ["RMSprop", "RMSProp"]


def _rmsprop_(xp, piece, lr, alpha, eps, mom, centered, nesterov, inside):
    """One RMSProp update in place: piece = (p, g, r[, a][, b], t[, u]) (a: centered, b: momentum; t, u scratch),
    as the module docstring."""
    d, g, r = piece[0], piece[1], piece[2]
    i = 3
    if centered:
        a, i = piece[i], i + 1
    if mom > 0:
        b = piece[i]
    t = piece[-2] if mom > 0 and nesterov else piece[-1]
    r *= alpha
    xp.multiply(g, g, out=t)
    t *= 1.0 - alpha
    r += t
    if centered:
        xp.subtract(g, a, out=t)
        t *= 1.0 - alpha
        a += t
        xp.multiply(a, a, out=t)
        xp.subtract(r, t, out=t)
        v = t
    else:
        v = r                   # no copy: the next pass reads r and writes t
    rescaled_(xp, g, v, eps, inside, t)  # t = d, the rescaled gradient
    if mom > 0:
        b *= mom
        b += t
        if nesterov:
            u = piece[-1]
            xp.multiply(b, mom, out=u)
            t += u
            t *= -lr
        else:
            xp.multiply(b, -lr, out=t)
    else:
        t *= -lr
    d += t


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
    nesterov=False, eps_inside_sqrt=False)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 nesterov=False, eps_inside_sqrt=False, *, rho=None, maximize=False):
        if rho is not None:
            alpha = rho
        for k, v in dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum).items():
            if v < 0:
                raise ValueError(f"RMSprop: invalid {k} {v} (expected >= 0)")
        if alpha >= 1:
            raise ValueError(f"RMSprop: alpha (rho) must be in [0, 1), got {alpha}")
        if nesterov and momentum <= 0:
            raise ValueError("RMSprop: nesterov=True requires a momentum > 0")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, nesterov=nesterov, eps_inside_sqrt=eps_inside_sqrt,
                                      maximize=maximize))

    def step(self, closure=None):
        """One RMSProp update of every parameter with a gradient; returns the closure's loss (if given)."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            mom, centered, nesterov, inside, maximize = (group["momentum"], group["centered"], group["nesterov"],
                                                         group["eps_inside_sqrt"], group["maximize"])
            for g, d, xp, st in self._params_with_grad(group):
                if "square_avg" not in st:
                    st.update(step=0, square_avg=xp.zeros_like(d))
                    if mom > 0:
                        st["momentum_buffer"] = xp.zeros_like(d)
                    if centered:
                        st["grad_avg"] = xp.zeros_like(d)
                g = _grad_with_decay(st, g, d, wd, maximize, xp)
                st["step"] += 1
                state = [st["square_avg"]]
                if centered:
                    if st.get("grad_avg") is None:
                        st["grad_avg"] = xp.zeros_like(d)
                    state.append(st["grad_avg"])
                if mom > 0:
                    if st.get("momentum_buffer") is None:
                        st["momentum_buffer"] = xp.zeros_like(d)
                    state.append(st["momentum_buffer"])
                for piece in blocks(st, (d, g, *state), 2 if mom > 0 and nesterov else 1):
                    _rmsprop_(xp, piece, lr, alpha, eps, mom, centered, nesterov, inside)
        return loss


RMSProp = RMSprop
