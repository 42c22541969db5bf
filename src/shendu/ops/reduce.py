"""Reductions: sum, mean, var, std, prod, max/min (amax/amin), argmax/argmin, logsumexp,
cumsum and norms. ``dim``/``keepdim`` follow PyTorch (``axis``/``keepdims`` accepted).

logsumexp is computed stably as m + log sum exp(x - m) with m = max x (textbook 6.2.2.3).
"""
from __future__ import annotations

import builtins as _builtins
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import get_default_dtype, namespace_of
from ._arr import const as _const
from ._arr import expand_reduced, norm_axis, norm_dim
from .elementwise import abs as _abs
from .elementwise import exp, maximum, minimum, sqrt, where
from .shape import broadcast_to, flip, reshape

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _args(x, dim, axis, keepdim, keepdims, opname):
    d = axis if dim is None else dim
    k = keepdim if keepdims is None else keepdims
    return norm_axis(d, x.ndim, opname), bool(k)


def _count(shape, axis):
    n = 1
    for a in range(len(shape)) if axis is None else axis:
        n *= shape[a]
    return n


class Sum(Function):
    needs_input_values = False

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        return xp.asarray(x.sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, gy):
        return broadcast_to(
            reshape(gy, expand_reduced(gy, self.in_shape, self.axis, self.keepdims).shape), self.in_shape
        )

    def backward_array(self, gy):
        xp = self.xp
        return xp.broadcast_to(expand_reduced(gy, self.in_shape, self.axis, self.keepdims), self.in_shape)


class Mean(Sum):
    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        self.n = _count(x.shape, self.axis)
        return xp.asarray(x.mean(axis=self.axis, keepdims=self.keepdims))

    def backward(self, gy):
        return Sum.backward(self, gy) / self.n

    def backward_array(self, gy):
        xp = self.xp
        return xp.broadcast_to(expand_reduced(gy / self.n, self.in_shape, self.axis, self.keepdims), self.in_shape)

from ..backend.lowp import is_floating as _is_floating  # noqa: E402


def sum(x, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):  # noqa: A001
    """Sum over ``dim`` (all dimensions when None)."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "sum")
    if dtype is not None:
        x = x.type(dtype)
    elif x.dtype.kind in "biu":
        x = x.type("int64")
    return Sum(ax, k)(x)


def mean(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Arithmetic mean over ``dim``."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "mean")
    if x.dtype.kind not in "fc" and not _is_floating(x.dtype):  # bfloat16 (kind 'V') stays bfloat16
        x = x.type(get_default_dtype())
    return Mean(ax, k)(x)


def var(x, dim=None, keepdim=False, *, unbiased=None, correction=None, axis=None, keepdims=None):
    """Variance with Bessel's correction by default (``correction=1``, PyTorch); ``correction=0`` is biased."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "var")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    n = _count(x.shape, ax)
    mu = Mean(ax, True)(x)
    d = x - mu
    return Sum(ax, k)(d * d) / _builtins.max(n - correction, 0)


def std(x, dim=None, keepdim=False, *, unbiased=None, correction=None, axis=None, keepdims=None):
    """Standard deviation (square root of ``var``)."""
    return sqrt(var(x, dim, keepdim, unbiased=unbiased, correction=correction, axis=axis, keepdims=keepdims))


class Prod(Function):
    """Product; the gradient is the product of all other entries (exact with zeros)."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = self.xp
        y = xp.asarray(x.prod(axis=self.axis, keepdims=self.keepdims))
        self.saved = y
        return y

    def backward(self, gy):
        x = self.inputs[0]
        ge = reshape(gy, expand_reduced(gy, x.shape, self.axis, self.keepdims).shape)
        ye = reshape(self.output(), ge.shape)
        return ge * ye / x

    def backward_array(self, gy):
        xp = self.xp
        x = self.inputs[0]._data
        axis = self.axis if self.axis is not None else tuple(range(x.ndim))
        # move reduced axes to the end, flatten them, exclusive products from both sides
        keep = [i for i in range(x.ndim) if i not in axis]
        xt = x.transpose(keep + list(axis))
        flat = xt.reshape(xt.shape[: len(keep)] + (-1,))
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat[..., 1:], ones], axis=-1), -1), axis=-1), -1)
        others = (left * right).reshape(xt.shape)
        inv = [0] * x.ndim
        for i, a in enumerate(keep + list(axis)):
            inv[a] = i
        others = others.transpose(inv)
        ge = expand_reduced(gy, x.shape, self.axis, self.keepdims)
        return ge * others


def prod(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Product over ``dim``."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "prod")
    return Prod(ax, k)(x)


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

    def backward_array(self, gy):
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
    from .index import Gather

    d = norm_dim(dim, x.ndim, "min" if is_min else "max")
    if x.ndim == 0:  # a 0-d tensor: its value, index 0 (as PyTorch)
        return MaxResult(x, _const(namespace_of(x._data).zeros((), dtype=np.int64)))
    xp = namespace_of(x._data)
    idx = (xp.argmin if is_min else xp.argmax)(x._data, axis=d)
    idx_k = xp.expand_dims(idx, d)
    vals = Gather(d, idx_k)(x)  # argmax indices are in range: no check (no device sync)
    if not keepdim:
        vals = reshape(vals, idx.shape)
        return MaxResult(vals, _const(idx))
    return MaxResult(vals, _const(idx_k))


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


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the maximum (flattened when dim is None); no gradient."""
    d = axis if dim is None else dim
    k = keepdim if keepdims is None else keepdims
    xp = namespace_of(x._data)
    if d is None or x.ndim == 0:
        norm_dim(0 if d is None else d, x.ndim, "argmax")
        return _const(xp.asarray(xp.argmax(x._data)))
    return _const(xp.argmax(x._data, axis=norm_dim(d, x.ndim, "argmax"), keepdims=k))


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the minimum; no gradient."""
    d = axis if dim is None else dim
    k = keepdim if keepdims is None else keepdims
    xp = namespace_of(x._data)
    if d is None or x.ndim == 0:
        norm_dim(0 if d is None else d, x.ndim, "argmin")
        return _const(xp.asarray(xp.argmin(x._data)))
    return _const(xp.argmin(x._data, axis=norm_dim(d, x.ndim, "argmin"), keepdims=k))


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

    def backward_array(self, gy):
        xp = self.xp
        x = self.inputs[0]._data
        return gy.reshape(self.keep_shape) * xp.exp(x - self.saved.reshape(self.keep_shape))


def _squeeze_shape(shape, axis):
    if axis is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axis)


def logsumexp(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """log(sum(exp(x))) over ``dim``, without overflow."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "logsumexp")
    return LogSumExp(ax, k)(x)


class Cumsum(Function):
    needs_input_values = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        return xp.cumsum(x, axis=self.axis)

    def backward(self, gy):
        return flip(cumsum(flip(gy, self.axis), self.axis), self.axis)

    def backward_array(self, gy):
        xp = self.xp
        return xp.flip(xp.cumsum(xp.flip(gy, self.axis), axis=self.axis), self.axis)


def cumsum(x, dim=None, *, axis=None):
    """Cumulative sum along ``dim``."""
    d = axis if dim is None else dim
    if d is None:
        raise ValueError("cumsum: dim is required")
    d = norm_dim(d, x.ndim, "cumsum")
    if x.ndim == 0:
        return x * 1
    return Cumsum(d)(x)


class Norm2(Function):
    """Euclidean norm sqrt(sum x^2); the gradient x / ||x|| is taken as 0 where the norm is 0."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = self.xp
        y = xp.sqrt((x * x).sum(axis=self.axis, keepdims=self.keepdims))
        self.saved = xp.asarray(y)
        return self.saved

    def backward(self, gy):
        x = self.inputs[0]
        shp = expand_reduced(self.saved, x.shape, self.axis, self.keepdims).shape
        y = reshape(self.output(), shp)
        xp = self.xp
        safe = where(y > 0, y, as_tensor(xp.ones((), dtype=y.dtype)))
        return reshape(gy, shp) * where(y > 0, x / safe, as_tensor(xp.zeros((), dtype=y.dtype)))

    def backward_array(self, gy):
        xp = self.xp
        x = self.inputs[0]._data
        y = expand_reduced(self.saved, x.shape, self.axis, self.keepdims)
        g = expand_reduced(gy, x.shape, self.axis, self.keepdims)
        with np.errstate(invalid="ignore", divide="ignore"):  # NumPy's warning state (CuPy does not warn)
            return xp.where(y > 0, g * x / xp.where(y > 0, y, 1), 0).astype(x.dtype, copy=False)


def norm(x, p="fro", dim=None, keepdim=False, *, ord=None, axis=None, keepdims=None):  # noqa: A002
    """Vector p-norm (p = 1, 2, inf, -inf or any p > 0) over ``dim``; 'fro' is the 2-norm of all entries
    (or over two dims for matrices)."""
    if ord is not None:
        p = ord
    ax, k = _args(x, dim, axis, keepdim, keepdims, "norm")
    if p in ("fro", 2, 2.0):
        return Norm2(ax, k)(x)
    if p in (1, 1.0):
        return Sum(ax, k)(_abs(x))
    if p in (float("inf"), "inf"):
        return Amax(ax, k)(_abs(x))
    if p in (float("-inf"), "-inf"):
        return Amax(ax, k, is_min=True)(_abs(x))
    if p == "nuc":
        raise ValueError("norm: the nuclear norm is not supported")
    if not isinstance(p, (int, float)) or p <= 0:
        raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")
    return Sum(ax, k)(_abs(x) ** p) ** (1.0 / p)


def clamp_min(x, v):
    return maximum(x, v)


def clamp_max(x, v):
    return minimum(x, v)
