"""Adam and AdamW (Textbook 8.5.3, Algorithm 8.7; AdamW: Loshchilov & Hutter's decoupled weight decay).

With g = grad (+ weight_decay * p for Adam), t = step count:
    m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g*g     (v <- max(v_max, v) with amsgrad)
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
as PyTorch (and Algorithm 8.7: delta is added to sqrt of the corrected v). ``bias_correction=False`` gives the
simplified update p <- p - lr * m / (sqrt(v) + eps). AdamW first shrinks p <- p * (1 - lr * weight_decay).
``eps_inside_sqrt=True`` gives text 003's Algorithm 1.2 as printed: p <- p - lr * m^ / sqrt(v^ + eps), with
m^ = m / (1 - beta1^t), v^ = v / (1 - beta2^t).
Reference: shendu.reference.adam.adam_step.
On the host the three accumulations (m, v and p) run as BLAS axpys (SciPy, as SGD's plain step): 9 passes over
memory per update instead of 12, block by block (``_blocked``, blocks of BLOCK_SCALE * BLOCK elements).
"""
from __future__ import annotations

import math

from ._blocked import blocks
from ._rescale import rescaled_
from .optimizer import Optimizer, _grad_with_decay
from .sgd import _axpy_

#: Adam's blocks are this many times ``_blocked.BLOCK`` (512K elements): with its 9 passes a block of 128K
#: saved less than the per-block calls cost. mlp_mnist's step (784-512-256-10, batch 128; W1 401K parameters),
#: thread CPU time of the update, 1 thread, 2026-11-30, medians of 25-30 alternating blocks, two runs: axpys in
#: blocks of 128K 0.97-1.08 ms, in one piece 0.91-1.00 ms; 12 NumPy passes (before) in blocks of 128K 1.02-1.07
#: ms, in one piece 0.97-1.06 ms; PyTorch 1.26-1.36 ms. Measure: ``python benchmarks/mlp.py --adam-ab``.
BLOCK_SCALE = 4

__all__ = ["Adam", "AdamW"]


def _add_scaled_(d, t, a):
    """d += a t in place: one BLAS axpy on the host (sgd._axpy_), else t *= a; d += t (t is overwritten)."""
    if not _axpy_(d, t, a):
        t *= a
        d += t


def adam_moments_(xp, g, m, v, b1, b2, t):
    """Adam's moment estimates in place (Algorithm 8.7): m <- b1 m + (1 - b1) g, computed as torch's lerp
    m <- m + (1 - b1)(g - m); v <- b2 v + (1 - b2) g*g (skipped when v is None). t: a scratch array like g."""
    xp.subtract(g, m, out=t)
    _add_scaled_(m, t, 1.0 - b1)
    if v is not None:
        v *= b2
        xp.multiply(g, g, out=t)
        _add_scaled_(v, t, 1.0 - b2)


def _adam_(xp, piece, b1, b2, eps, s, step_size, decay, inside):
    """One Adam update in place: piece = (p, g, m, v[, v_max], t) (t: scratch); s = sqrt(1 - b2^t),
    step_size = lr / (1 - b1^t) (1 and lr without bias correction); decay: AdamW's 1 - lr * weight_decay."""
    d, g, m, v, t = piece[0], piece[1], piece[2], piece[3], piece[-1]
    if decay is not None:
        d *= decay
    adam_moments_(xp, g, m, v, b1, b2, t)
    if len(piece) == 6:  # amsgrad: v_max <- max(v_max, v), used in place of v
        xp.maximum(piece[4], v, out=piece[4])
        v = piece[4]
    # inside: sqrt(v / s^2 + eps) * s = sqrt(v + eps s^2); outside: (sqrt(v) / s + eps) * s = sqrt(v) + eps s
    rescaled_(xp, m, v, eps * s * s if inside else eps * s, inside, t)
    _add_scaled_(d, t, -step_size * s)


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, bias_correction=True,
    eps_inside_sqrt=False)."""

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 bias_correction=True, *, maximize=False, eps_inside_sqrt=False):
        name = type(self).__name__
        if lr < 0:
            raise ValueError(f"{name}: invalid learning rate {lr} (expected >= 0)")
        if eps < 0:
            raise ValueError(f"{name}: invalid eps {eps} (expected >= 0)")
        betas = tuple(betas)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        if weight_decay < 0:
            raise ValueError(f"{name}: invalid weight_decay {weight_decay} (expected >= 0)")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      bias_correction=bias_correction, maximize=maximize,
                                      eps_inside_sqrt=eps_inside_sqrt))

    def step(self, closure=None):
        """One Adam update of every parameter with a gradient; returns the closure's loss (if given)."""
        loss = self._eval_closure(closure)
        decoupled = self._decoupled
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad, bc, maximize = group["weight_decay"], group["amsgrad"], group["bias_correction"], \
                group["maximize"]
            for g, d, xp, st in self._params_with_grad(group):
                if "exp_avg" not in st:
                    st.update(step=0, exp_avg=xp.zeros_like(d), exp_avg_sq=xp.zeros_like(d))
                    if amsgrad:
                        st["max_exp_avg_sq"] = xp.zeros_like(d)
                st["step"] = step = st["step"] + 1
                g = _grad_with_decay(st, g, d, 0.0 if decoupled else wd, maximize, xp)
                if amsgrad and st.get("max_exp_avg_sq") is None:
                    st["max_exp_avg_sq"] = xp.zeros_like(d)
                # p -= step_size * m / (sqrt(v) / s + eps) = (step_size * s) * m / (sqrt(v) + eps * s)
                if bc:
                    s = math.sqrt(1.0 - b2 ** step)
                    step_size = lr / (1.0 - b1 ** step)
                else:
                    s, step_size = 1.0, lr
                decay = 1.0 - lr * wd if wd and decoupled else None
                inside = group.get("eps_inside_sqrt", False)
                state = (st["exp_avg"], st["exp_avg_sq"]) + ((st["max_exp_avg_sq"],) if amsgrad else ())
                for piece in blocks(st, (d, g) + state, 1, BLOCK_SCALE):
                    _adam_(xp, piece, b1, b2, eps, s, step_size, decay, inside)
        return loss


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False): decoupled decay."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 bias_correction=True, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         bias_correction=bias_correction, maximize=maximize)
