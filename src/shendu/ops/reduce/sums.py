"""Sums and products over dimensions: sum, mean, var, std, prod, cumsum. ``dim``/``keepdim`` follow PyTorch
(``axis``/``keepdims`` accepted). The gradient of a sum copies the output gradient back over the summed
dimensions (textbook 6.5.2); var is sum((x - mean x)^2) / (n - correction), correction=1 by default (PyTorch)."""
from __future__ import annotations

import builtins as _builtins

from ...autograd.function import Function
from ...backend import get_default_dtype, is_host
from ...backend.lowp import is_floating as _is_floating
from .._arr import expand_reduced, norm_axis, norm_dim
from ..elementwise import sqrt, where
from ..shape import broadcast_to, flip, reshape


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

    def backward_array(self, gy):  # kept: benchmarks/backward_array_shape.py
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

    def backward_array(self, gy):  # kept: benchmarks/backward_array_shape.py
        xp = self.xp
        return xp.broadcast_to(expand_reduced(gy / self.n, self.in_shape, self.axis, self.keepdims), self.in_shape)



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
    """y = prod_i x_i over the axes; dy/dx_j = prod_{k != j} x_k, which is y / x_j when the slice has no zero.
    Written so that first and second derivatives are exact with zeros: with p the product of the nonzero
    entries of a slice, n0 its number of zeros and zs the sum of its zero entries (0, but it carries their
    derivative), dy/dx_j is p at the zero and zs p / x_j elsewhere when n0 = 1; (zs - x_j) p at the zeros and
    0 elsewhere when n0 = 2; 0 when n0 > 2."""

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
        zero = x._data == 0  # constant masks: no gradient flows through them
        if is_host(zero) and not zero.any():  # the usual case, tested on the host only (no device sync)
            return ge * reshape(self.output(), ge.shape) / x
        n0 = zero.sum(axis=self.axis, keepdims=True)
        xs = where(zero, 1.0, x)
        p = Prod(self.axis, True)(xs)
        zs = Sum(self.axis, True)(where(zero, x, 0.0))
        others = where(zero, where(n0 == 1, p, where(n0 == 2, (zs - x) * p, 0.0)),
                       where(n0 == 0, p / xs, where(n0 == 1, zs * p / xs, 0.0)))
        return ge * others


def prod(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Product over ``dim``."""
    ax, k = _args(x, dim, axis, keepdim, keepdims, "prod")
    return Prod(ax, k)(x)


class Cumsum(Function):
    needs_input_values = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        return xp.cumsum(x, axis=self.axis)

    def backward(self, gy):  # the reversed cumulative sum of gy
        return flip(cumsum(flip(gy, self.axis), self.axis), self.axis)


def cumsum(x, dim=None, *, axis=None):
    """Cumulative sum along ``dim``."""
    d = axis if dim is None else dim
    if d is None:
        raise ValueError("cumsum: dim is required")
    d = norm_dim(d, x.ndim, "cumsum")
    if x.ndim == 0:
        return x * 1
    return Cumsum(d)(x)

