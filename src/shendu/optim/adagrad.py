"""AdaGrad (Textbook 8.5.1, Algorithm 8.4): per-parameter rates from the sum of all squared gradients.

With g = grad + weight_decay * p and t the step count (PyTorch's form, which is Algorithm 8.4 with delta = eps):
    r <- r + g*g;   p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(r) + eps)
The textbook's delta is about 1e-7 (outside the square root); PyTorch's default eps is 1e-10.
``eps_inside_sqrt=True`` gives the seeds' form (002, section 2.9): p <- p - lr * g / sqrt(r + eps), eps = 1e-8.
Reference: shendu.reference.adagrad.adagrad_step.
"""
from __future__ import annotations

from ._rescale import rescaled_
from .optimizer import Optimizer, _grad_with_decay, _scratch

__all__ = ["Adagrad", "AdaGrad"]


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
    eps_inside_sqrt=False); ``initial_accumulator`` is accepted for initial_accumulator_value."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 eps_inside_sqrt=False, *, maximize=False, initial_accumulator=None):
        if initial_accumulator is not None:  # the issue's / textbook-style name
            initial_accumulator_value = initial_accumulator
        for k, v in dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                         initial_accumulator_value=initial_accumulator_value).items():
            if v < 0:
                raise ValueError(f"Adagrad: invalid {k} {v} (expected >= 0)")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                                      eps_inside_sqrt=eps_inside_sqrt))

    def step(self, closure=None):
        """One AdaGrad update of every parameter with a gradient; returns the closure's loss (if given)."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, wd, eps, maximize = (group["lr"], group["lr_decay"], group["weight_decay"], group["eps"],
                                               group["maximize"])
            inside = group["eps_inside_sqrt"]
            for g, d, xp, st in self._params_with_grad(group):
                if "sum" not in st:
                    st.update(step=0, sum=xp.full_like(d, group["initial_accumulator_value"]))
                t = _scratch(st, "_t", d)
                g = _grad_with_decay(st, g, d, wd, maximize, xp)
                st["step"] = step = st["step"] + 1
                clr = lr / (1.0 + (step - 1) * lr_decay)
                r = st["sum"]
                xp.multiply(g, g, out=t)
                r += t
                rescaled_(xp, g, r, eps, inside, t)
                t *= -clr
                d += t
        return loss


AdaGrad = Adagrad
