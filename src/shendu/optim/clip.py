"""Gradient clipping (Textbook 10.11.1, exploding gradients; 8.2.4 cliffs): in place on ``p.grad``.

clip_grad_norm_: g <- g * min(1, max_norm / (||g|| + 1e-6)) with ||g|| the norm of all gradients together.
clip_grad_value_: g <- clamp(g, -clip_value, clip_value) element-wise.
on_nonfinite (clip_grad_norm_): what to do when the gradient norm is inf or NaN (Textbook 10.11.1):
'random_step' replaces all gradients by one random direction of global norm max_norm (so the update is a random
step of size lr * v: "take a random step of size v"); 'skip' zeroes them; 'raise' raises. None (default) keeps
the plain rule (a NaN norm leaves the gradients as they are). The option reads the norm back (one sync).
These live in ``shendu.optim`` (there is no ``nn.utils`` alias). On a GPU the norm stays a 0-d device array
and the gradients are scaled by it there: clipping reads nothing back to the host (no per-step sync).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor, _wrap
from ..backend import namespace_of

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "random_step_"]


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
        if type(g._data) is np.ndarray and not g._data.flags.writeable:  # device arrays have no such flag
            g._data = np.array(g._data)
        seen.add(id(g._data))
        out.append(g)
    return out


def get_total_norm(grads, norm_type=2.0):
    """The norm of all arrays together: (sum_i ||g_i||_p^p)^(1/p), or max |g| for p = inf.

    A float for host arrays; a 0-d float64 array on the device for device arrays (not read back)."""
    norm_type = float(norm_type)
    if not grads:
        return 0.0
    xp = namespace_of(*grads)
    if xp is not np:
        return _device_total_norm(grads, norm_type, xp)
    if math.isinf(norm_type):
        return max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    if norm_type == 2.0:
        return math.sqrt(sum(float(np.vdot(g.ravel(), g.ravel())) for g in grads))
    if norm_type == 1.0:
        return float(sum(float(np.abs(g).sum()) for g in grads))
    return float(sum(float((np.abs(g) ** norm_type).sum()) for g in grads)) ** (1.0 / norm_type)


def _device_total_norm(grads, norm_type, xp):
    """``get_total_norm`` on a device: per-array partial norms combined there in float64, as a 0-d array."""
    f64 = np.float64
    if math.isinf(norm_type):
        parts = [xp.max(xp.abs(g)).astype(f64) for g in grads if g.size]
        return xp.max(xp.stack(parts)) if parts else xp.zeros((), dtype=f64)
    if norm_type == 2.0:
        parts = [xp.vdot(g.ravel(), g.ravel()).astype(f64) for g in grads]
        return xp.sqrt(xp.sum(xp.stack(parts)))
    if norm_type == 1.0:
        return xp.sum(xp.stack([xp.abs(g).sum().astype(f64) for g in grads]))
    return xp.sum(xp.stack([(xp.abs(g) ** norm_type).sum().astype(f64) for g in grads])) ** (1.0 / norm_type)


def random_step_(grads, size):
    """Overwrite gradient Tensors ``grads`` in place with one random direction (Gaussian, normalised over all of
    them together) of global 2-norm ``size``, drawn on their device (Textbook 10.11.1, non-finite gradients)."""
    if not grads:
        return
    from ..backend import generator_for

    xp = namespace_of(*[g._data for g in grads])
    draws = [generator_for(g._data).standard_normal(g._data.shape) for g in grads]
    total = xp.sqrt(sum((d * d).sum() for d in draws))
    for g, d in zip(grads, draws):
        g._data[...] = (d * (float(size) / total)).astype(g._data.dtype)
        g._version += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, on_nonfinite=None):
    """Scale all gradients together so their global `norm_type` norm is at most `max_norm`; returns the norm
    before clipping (a 0-d Tensor, on the gradients' device). parameters: a Tensor or an iterable of Tensors.
    on_nonfinite: None, 'raise', 'skip' or 'random_step' (see the module docstring)."""
    grads = _grads(parameters, "clip_grad_norm_")
    if on_nonfinite is not None:
        if on_nonfinite not in ("raise", "skip", "random_step"):
            raise ValueError(f"clip_grad_norm_: on_nonfinite must be None, 'raise', 'skip' or 'random_step', "
                             f"got {on_nonfinite!r}")
        if on_nonfinite == "raise":
            error_if_nonfinite = True
        elif grads:
            total = get_total_norm([g._data for g in grads], norm_type)
            if not math.isfinite(float(total)):
                if on_nonfinite == "skip":
                    for g in grads:
                        g._data[...] = 0
                        g._version += 1
                else:
                    random_step_(grads, max_norm)
                return _wrap(namespace_of(grads[0]._data).asarray(float(total), dtype=grads[0]._data.dtype))
    xp = namespace_of(*[g._data for g in grads])
    if xp is not np:
        return _device_clip(grads, max_norm, norm_type, error_if_nonfinite, xp)
    total = get_total_norm([g._data for g in grads], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
                           "set error_if_nonfinite=False to clip anyway")
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g._data *= coef
            g._version += 1
    return _wrap(np.asarray(total, dtype=grads[0]._data.dtype if grads else np.float32))  # on the host, with the grads


def _device_clip(grads, max_norm, norm_type, error_if_nonfinite, xp):
    """clip_grad_norm_ on device gradients: coef = min(1, max_norm / (norm + 1e-6)) as a 0-d device array
    multiplies every gradient (by 1 when no clipping is needed, which is exact); only
    ``error_if_nonfinite=True`` reads the norm back."""
    total = _device_total_norm([g._data for g in grads], float(norm_type), xp)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}; "
                           "set error_if_nonfinite=False to clip anyway")
    coef = float(max_norm) / (total + 1e-6)
    coef = xp.where(coef < 1.0, coef, 1.0)  # NaN norm: left unscaled, as on the host
    cast = {}
    for g in grads:
        dt = g._data.dtype
        c = cast.get(dt)
        if c is None:
            c = cast[dt] = coef.astype(dt)
        g._data *= c
        g._version += 1
    return _wrap(total.astype(grads[0]._data.dtype))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    c = float(clip_value)
    if c < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters, "clip_grad_value_"):
        namespace_of(g._data).clip(g._data, -c, c, out=g._data)
        g._version += 1
