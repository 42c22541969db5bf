"""Maxima and minima: amax/amin, max/min (values and indices), argmax/argmin, and the smooth maximum
logsumexp, computed stably as m + log sum exp(x - m) with m = max x (textbook 6.2.2.3). The gradient of a
max goes to the maximal entries (shared equally among ties); of logsumexp it is softmax(x)."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import _ModeState, note_pure
from ...autograd.tensor import Tensor
from ...backend import namespace_of
from .._arr import const as _const
from .._arr import expand_reduced, norm_dim
from ..elementwise import exp, maximum, minimum
from ..shape import reshape
from .sums import _args

MaxResult = namedtuple("MaxResult", ["values", "indices"])


class Amax(Function):
    """max over axes; the gradient is shared equally among tied maxima (as PyTorch's amax)."""

    def __init__(self, axis, keepdims, is_min=False):
        self.axis, self.keepdims, self.is_min = axis, keepdims, is_min

    def forward(self, x):
        xp = self.xp
        if x.size == 0:
            raise ValueError("amax/amin: cannot reduce an empty tensor")
        f = x.min if self.is_min else x.max
        y = xp.asarray(f(axis=self.axis, keepdims=self.keepdims))
        self.saved = y
        return y

    def _mask(self, x, y):
        m = (x == expand_reduced(y, x.shape, self.axis, self.keepdims)).astype(x.dtype)
        return m / m.sum(axis=self.axis, keepdims=True)

    def backward(self, gy):
        x = self.inputs[0]
        m = _const(self._mask(x._data, self.saved))
        return reshape(gy, expand_reduced(gy, x.shape, self.axis, self.keepdims).shape) * m

    def backward_array(self, gy):  # kept: benchmarks/backward_array_shape.py
        x = self.inputs[0]._data
        return expand_reduced(gy, x.shape, self.axis, self.keepdims) * self._mask(x, self.saved)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Maximum over ``dim`` (values only)."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "amax")
    return Amax(ax, k)(x)


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Minimum over ``dim`` (values only)."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "amin")
    return Amax(ax, k, is_min=True)(x)


def _max_dim(x, dim, keepdim, is_min):
    from ..index import Gather

    d = norm_dim(dim, x.ndim, "min" if is_min else "max")
    if x.ndim == 0:  # a 0-d tensor: its value, index 0 (as PyTorch)
        return MaxResult(x, _const(namespace_of(x._data).zeros((), dtype=np.int64)))
    idx_k = _arg_extreme("argmin" if is_min else "argmax", x, d, True)  # (a step of a captured program too)
    vals = Gather(d, idx_k._data)(x)  # argmax indices are in range: no check (no device sync)
    if not keepdim:
        shape = x.shape[:d] + x.shape[d + 1:]
        return MaxResult(reshape(vals, shape), reshape(idx_k, shape))
    return MaxResult(vals, idx_k)


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    """max(x): the largest value; max(x, dim): (values, indices) along dim; max(a, b): elementwise."""
    if isinstance(dim, Tensor):
        return maximum(x, dim)
    d = axis if dim is None else dim
    if d is None:
        return Amax(None, False)(x)
    return _max_dim(x, d, keepdim if keepdims is None else keepdims, False)


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=None):  # noqa: A001
    """min(x): the smallest value; min(x, dim): (values, indices); min(a, b): elementwise."""
    if isinstance(dim, Tensor):
        return minimum(x, dim)
    d = axis if dim is None else dim
    if d is None:
        return Amax(None, False, is_min=True)(x)
    return _max_dim(x, d, keepdim if keepdims is None else keepdims, True)


def _arg_extreme(name, x, dim, keepdim):
    """Index of the maximum (name 'argmax') or minimum ('argmin') along ``dim`` (flattened when None); no gradient."""
    xp = namespace_of(x._data)
    find = getattr(xp, name)
    if dim is None or x.ndim == 0:
        norm_dim(0 if dim is None else dim, x.ndim, name)
        out, kw = _const(xp.asarray(find(x._data))), {}
    else:
        kw = {"axis": norm_dim(dim, x.ndim, name), "keepdims": keepdim}
        out = _const(find(x._data, **kw))
    if _ModeState.tracing_any:  # autograd.capture: a replay finds it again
        note_pure(name, (x,), out, **kw)
    return out


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the maximum (flattened when dim is None); no gradient."""
    return _arg_extreme("argmax", x, axis if dim is None else dim, keepdim if keepdims is None else keepdims)


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the minimum; no gradient."""
    return _arg_extreme("argmin", x, axis if dim is None else dim, keepdim if keepdims is None else keepdims)


class LogSumExp(Function):
    """log sum_i exp(x_i), stable: m + log sum exp(x - m); d/dx = softmax(x) = exp(x - y)."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = self.xp
        m = x.max(axis=self.axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)
        y = xp.log(xp.exp(x - m).sum(axis=self.axis, keepdims=True)) + m
        self.keep_shape = y.shape
        if not self.keepdims:
            y = y.reshape(_squeeze_shape(y.shape, self.axis))
        self.saved = xp.asarray(y)
        return self.saved

    def backward(self, gy):
        x = self.inputs[0]
        return reshape(gy, self.keep_shape) * exp(x - reshape(self.output(), self.keep_shape))


def _squeeze_shape(shape, axis):
    if axis is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axis)


def logsumexp(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """log(sum(exp(x))) over ``dim``, without overflow."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "logsumexp")
    return LogSumExp(ax, k)(x)


def clamp_min(x, v):
    return maximum(x, v)


def clamp_max(x, v):
    return minimum(x, v)
