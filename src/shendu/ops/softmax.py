"""Softmax and log-softmax, computed stably by subtracting the maximum (textbook 6.2.2.3, eq. 6.33)."""
from __future__ import annotations

from ..autograd.function import Function
from ..backend.lowp import AUTOCAST
from ._arr import norm_dim
from ._autocast import to_fp32
from .elementwise import exp
from .reduce import sum as _sum


class Softmax(Function):
    """softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z); backward: y * (g - sum(g * y))."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        e /= e.sum(axis=self.axis, keepdims=True)
        self.saved = e
        return e

    def backward(self, gy):
        y = self.output()
        return y * (gy - _sum(gy * y, self.axis, keepdim=True))

    def backward_array(self, gy):
        y = self.saved
        gyy = gy * y
        return gyy - y * gyy.sum(axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    """log softmax(z) = z - logsumexp(z); backward: g - softmax(z) * sum(g)."""

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        s = x - x.max(axis=self.axis, keepdims=True)
        y = s - xp.log(xp.exp(s).sum(axis=self.axis, keepdims=True))
        self.saved = y
        return y

    def backward(self, gy):
        return gy - exp(self.output()) * _sum(gy, self.axis, keepdim=True)

    def backward_array(self, gy):
        xp = self.xp
        return gy - xp.exp(self.saved) * gy.sum(axis=self.axis, keepdims=True)


def _along(cls, name, x, dim, axis):
    """``cls`` (Softmax or LogSoftmax) applied along ``dim`` (``axis`` is numpy's name for it); under
    autocast("cuda") in float32, as torch."""
    d = norm_dim(axis if axis is not None else dim, x.ndim, name)
    if AUTOCAST.dtype is not None and AUTOCAST.device_type == "cuda":
        (x,) = to_fp32(x)
    return cls(d if x.ndim else None)(x)


def softmax(x, dim=-1, *, axis=None):
    """Softmax along ``dim`` (default the last)."""
    return _along(Softmax, "softmax", x, dim, axis)


def log_softmax(x, dim=-1, *, axis=None):
    """Log-softmax along ``dim`` (default the last), without overflow or log(0)."""
    return _along(LogSoftmax, "log_softmax", x, dim, axis)
