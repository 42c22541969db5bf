"""Gradient clipping (Textbook 10.11.1, exploding gradients; 8.2.4 cliffs): in place on ``p.grad``.

clip_grad_norm_: g <- g * min(1, max_norm / (||g|| + 1e-6)) with ||g|| the norm of all gradients together.
clip_grad_value_: g <- clamp(g, -clip_value, clip_value) element-wise.
These live in ``shendu.optim`` (there is no ``nn.utils`` alias).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def _grads(parameters, who):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    out, seen = [], set()
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: expected Tensors, got {type(p).__name__}")
        if p.grad is None:
            continue
        g = p.grad
        if id(g._data) in seen:  # one array shared by two tensors: scale it once
            continue
        if not g._data.flags.writeable:
            g._data = np.array(g._data)
        seen.add(id(g._data))
        out.append(g)
    return out


def get_total_norm(grads, norm_type=2.0):
    """The norm of all arrays together: (sum_i ||g_i||_p^p)^(1/p), or max |g| for p = inf."""
    norm_type = float(norm_type)
    if not grads:
        return 0.0
    if math.isinf(norm_type):
        return max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    if norm_type == 2.0:
        return math.sqrt(sum(float(np.vdot(g.ravel(), g.ravel())) for g in grads))
    if norm_type == 1.0:
        return float(sum(float(np.abs(g).sum()) for g in grads))
    return float(sum(float((np.abs(g) ** norm_type).sum()) for g in grads)) ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their global `norm_type` norm is at most `max_norm`; returns the norm
    before clipping (a 0-d Tensor). parameters: a Tensor or an iterable of Tensors."""
    grads = _grads(parameters, "clip_grad_norm_")
    total = get_total_norm([g._data for g in grads], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
                           "set error_if_nonfinite=False to clip anyway")
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g._data *= coef
            g._version += 1
    return Tensor(np.asarray(total, dtype=grads[0]._data.dtype if grads else np.float32))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    c = float(clip_value)
    if c < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters, "clip_grad_value_"):
        np.clip(g._data, -c, c, out=g._data)
        g._version += 1
