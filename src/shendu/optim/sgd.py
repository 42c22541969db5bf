"""SGD with optional (Nesterov) momentum, dampening and L2 weight decay (Textbook 8.3.1-8.3.3, Algorithms 8.1-8.3).

PyTorch form (default), with g = grad + weight_decay * p:
    b <- momentum * b + (1 - dampening) * g   (b = g on the first step)
    d = g + momentum * b  (nesterov)  or  d = b;   p <- p - lr * d
The textbook's Algorithm 8.2 (v <- alpha v - eps g; theta <- theta + v; also the seeds' 002 section 2.8) is the
same trajectory with v = -lr * b while lr is constant; ``momentum_form="textbook"`` runs it literally (state
"velocity"), which differs once a schedule changes lr: past velocity keeps the lr it was made with.
Its Nesterov Algorithm 8.3 evaluates the gradient at the look-ahead point theta + alpha v; PyTorch's form is
that algorithm rewritten in the look-ahead variable. ``nesterov="textbook"`` runs Algorithm 8.3 literally and
needs a closure (it moves the parameters to the look-ahead point, calls the closure, and moves them back).
Reference: shendu.reference.sgd (momentum_step, nesterov_step, pytorch_sgd_step).
"""
from __future__ import annotations

import numpy as np

from ..ops._hostblas import blas as _blas  # BLAS level 1 (SciPy, optional): p += a g in one pass over memory
from ._blocked import blocks
from .optimizer import Optimizer, _scratch

__all__ = ["SGD"]


def _axpy_(d, g, a):
    """d += a g in place as one BLAS axpy (word_lm's 19.8M parameters: 6.1 ms instead of 10.5 ms blocked in two
    NumPy passes, bit-identical), for C-contiguous host float32/float64 arrays of one dtype; False (nothing done)
    otherwise."""
    if (_blas is None or type(d) is not np.ndarray or type(g) is not np.ndarray or d.dtype != g.dtype
            or d.dtype.char not in "fd" or not (d.flags.c_contiguous and g.flags.c_contiguous)
            or d.size >= 2**31):  # SciPy's BLAS counts in 32-bit integers
        return False
    if d.size:
        (_blas.saxpy if d.dtype.char == "f" else _blas.daxpy)(g.reshape(-1), d.reshape(-1), a=a)
    return True


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False,
    momentum_form="pytorch" | "textbook")."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 *, maximize=False, momentum_form="pytorch"):
        if lr < 0:
            raise ValueError(f"SGD: invalid learning rate {lr} (expected >= 0)")
        if momentum < 0:
            raise ValueError(f"SGD: invalid momentum {momentum} (expected >= 0)")
        if weight_decay < 0:
            raise ValueError(f"SGD: invalid weight_decay {weight_decay} (expected >= 0)")
        if nesterov not in (False, True, "textbook"):
            raise ValueError(f"SGD: nesterov must be False, True or 'textbook', got {nesterov!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        if momentum_form not in ("pytorch", "textbook"):
            raise ValueError(f"SGD: momentum_form must be 'pytorch' or 'textbook', got {momentum_form!r}")
        if momentum_form == "textbook" and (nesterov is True or dampening != 0):
            raise ValueError("SGD: momentum_form='textbook' is Algorithm 8.2 (no dampening); for Nesterov's "
                             "Algorithm 8.3 use nesterov='textbook'")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, momentum_form=momentum_form))

    def step(self, closure=None):
        """One update of every parameter with a gradient; returns the closure's loss (if given)."""
        if any(g["nesterov"] == "textbook" for g in self.param_groups):
            return self._textbook_nesterov_step(closure)
        if any(g.get("momentum_form") == "textbook" and g["momentum"] for g in self.param_groups):
            loss = self._eval_closure(closure)
            self._velocity_update()
            return loss
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, mom, damp = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for g, d, xp, st in self._params_with_grad(group):
                if not (maximize or wd or mom):  # p <- p - lr g: one BLAS axpy pass on the host, else blocked
                    if not _axpy_(d, g, -lr):
                        for dp, gp, tp in blocks(st, (d, g), 1):
                            xp.multiply(gp, -lr, out=tp)
                            dp += tp
                    continue
                t = _scratch(st, "_t", d)
                if maximize:
                    if wd:
                        xp.multiply(d, wd, out=t)
                        xp.subtract(t, g, out=t)
                    else:
                        xp.negative(g, out=t)
                    g = t
                elif wd:
                    xp.multiply(d, wd, out=t)
                    xp.add(g, t, out=t)
                    g = t
                if mom:
                    buf = st.get("momentum_buffer")
                    if buf is None:
                        buf = st["momentum_buffer"] = xp.array(g, dtype=d.dtype)
                    else:
                        buf *= mom
                        if damp:
                            xp.multiply(g, 1.0 - damp, out=t)
                            buf += t
                        else:
                            buf += g
                    if nesterov:
                        u = _scratch(st, "_u", d) if g is t else t
                        xp.multiply(buf, mom, out=u)
                        xp.add(g, u, out=t)
                        t *= -lr
                    else:
                        xp.multiply(buf, -lr, out=t)
                else:
                    xp.multiply(g, -lr, out=t)
                d += t
        return loss

    def _velocity_update(self):
        """Algorithm 8.2 on every group: v <- momentum v - lr (g + weight_decay p); p <- p + v."""
        for group in self.param_groups:
            lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
            sign = 1.0 if group["maximize"] else -1.0
            for g, d, xp, st in self._params_with_grad(group):
                v = st.get("velocity")
                if v is None:
                    v = st["velocity"] = xp.zeros_like(d)
                t = _scratch(st, "_t", d)
                v *= mom
                xp.multiply(g, sign * lr, out=t)
                v += t
                if wd:
                    xp.multiply(d, -lr * wd, out=t)
                    v += t
                d += v

    def _textbook_nesterov_step(self, closure):
        """Algorithm 8.3: theta~ = theta + alpha v; g = grad at theta~; v <- alpha v - eps g; theta <- theta + v."""
        if closure is None:
            raise ValueError("SGD(nesterov='textbook'): step() needs a closure that recomputes the loss and "
                             "gradients (the gradient is taken at the look-ahead point theta + momentum * v)")
        shifted = []
        for group in self.param_groups:
            for p in group["params"]:
                v = self.state.get(p, {}).get("velocity")
                if v is not None:
                    p._data += group["momentum"] * v
                    shifted.append((p, v, group["momentum"]))
        loss = self._eval_closure(closure)
        for p, v, mom in shifted:
            p._data -= mom * v
        self._velocity_update()
        return loss
