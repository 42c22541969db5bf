"""NAdam (Dozat 2016: Adam with Nesterov momentum, cf. Textbook 8.3.3 and 8.5.3) and Adamax, PyTorch's forms.

NAdam, with mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) (psi = momentum_decay) and m, v as in Adam:
    p <- p - lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) * g / den - lr mu_{t+1} / (1 - prod_{i<=t+1} mu_i) * m / den,
    den = sqrt(v / (1 - beta2^t)) + eps.
Adamax: u <- max(beta2 u, |g| + eps);  p <- p - lr / (1 - beta1^t) * m / u.
"""
from __future__ import annotations

from .adam import adam_moments_
from .optimizer import Optimizer, _grad_with_decay, _scratch

__all__ = ["NAdam", "Adamax"]


def _check(name, lr, betas, eps, wd):
    betas = tuple(betas)
    if lr < 0 or eps < 0 or wd < 0 or len(betas) != 2 or not all(0 <= b < 1 for b in betas):
        raise ValueError(f"{name}: invalid options lr={lr}, betas={betas}, eps={eps}, weight_decay={wd}")
    return betas


class NAdam(Optimizer):
    """NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        betas = _check("NAdam", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def step(self, closure=None):
        """One NAdam update of every parameter with a gradient; returns the closure's loss (if given)."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            psi, decoupled, maximize = group["momentum_decay"], group["decoupled_weight_decay"], group["maximize"]
            for g, d, xp, st in self._params_with_grad(group):
                if "exp_avg" not in st:
                    st.update(step=0, mu_product=1.0, exp_avg=xp.zeros_like(d), exp_avg_sq=xp.zeros_like(d))
                t = _scratch(st, "_t", d)
                if decoupled:
                    g = _grad_with_decay(st, g, d, 0.0, maximize, xp)
                    if wd:
                        d *= 1.0 - lr * wd
                else:
                    g = _grad_with_decay(st, g, d, wd, maximize, xp)
                st["step"] = step = st["step"] + 1
                bc2 = 1.0 - b2 ** step
                mu = b1 * (1.0 - 0.5 * 0.96 ** (step * psi))
                mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
                st["mu_product"] = mu_prod = st["mu_product"] * mu
                m, v = st["exp_avg"], st["exp_avg_sq"]
                adam_moments_(xp, g, m, v, b1, b2, t)
                den = _scratch(st, "_u", d)
                xp.divide(v, bc2, out=den)
                xp.sqrt(den, out=den)
                den += eps
                xp.divide(g, den, out=t)
                t *= -lr * (1.0 - mu) / (1.0 - mu_prod)
                d += t
                xp.divide(m, den, out=t)
                t *= -lr * mu_next / (1.0 - mu_prod * mu_next)
                d += t
        return loss


class Adamax(Optimizer):
    """Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0): Adam with the infinity norm."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False):
        betas = _check("Adamax", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def step(self, closure=None):
        """One Adamax update of every parameter with a gradient; returns the closure's loss (if given)."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for g, d, xp, st in self._params_with_grad(group):
                if "exp_avg" not in st:
                    st.update(step=0, exp_avg=xp.zeros_like(d), exp_inf=xp.zeros_like(d))
                t = _scratch(st, "_t", d)
                g = _grad_with_decay(st, g, d, wd, group["maximize"], xp)
                st["step"] = step = st["step"] + 1
                m, u = st["exp_avg"], st["exp_inf"]
                adam_moments_(xp, g, m, None, b1, b2, t)
                u *= b2
                xp.abs(g, out=t)
                t += eps
                xp.maximum(u, t, out=u)
                xp.divide(m, u, out=t)
                t *= -lr / (1.0 - b1 ** step)
                d += t
        return loss
