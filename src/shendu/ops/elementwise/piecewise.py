"""Piecewise elementwise ops: |x|, sign, clamp, maximum/minimum, where, and rounding (floor, ceil, round,
trunc, frac). Kinks take one-sided or split subgradients (textbook 6.3.1, 7.1.2); the step functions
(sign, rounding) are piecewise constant and carry no gradient."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor, _wrap, as_tensor
from ...backend import device_of, is_host, namespace_of, to_device
from .._arr import const as _const
from .._arr import sum_to as _st
from ..shape import sum_to
from ._operands import _pair
from .compare import _unary


class Abs(Function):
    """|x|; the subgradient at 0 is 0 (sign(0) = 0, textbook 7.1.2)."""

    def forward(self, x):
        xp = self.xp
        return xp.abs(x)

    def backward(self, gy):
        return gy * sign(self.inputs[0])


def abs(x):  # noqa: A001 - PyTorch name
    """|x| elementwise (textbook 7.1.2)."""
    return Abs()(x)


def sign(x):
    """sign(x) in {-1, 0, 1}; not differentiable (returns a constant)."""
    return _unary("sign", x)


class Clamp(Function):
    """clip(x, lo, hi); the gradient passes where lo <= x <= hi (one-sided at the bounds)."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp = self.xp
        y = xp.clip(x, self.lo, self.hi)
        return y if y.dtype == x.dtype else y.astype(x.dtype)  # bfloat16: NumPy's clip returns float32

    def _mask(self, x):
        xp = self.xp
        m = xp.ones(x.shape, dtype=bool)
        if self.lo is not None:
            m &= x >= self.lo
        if self.hi is not None:
            m &= x <= self.hi
        return m

    def backward(self, gy):
        return gy * _const(self._mask(self.inputs[0]._data).astype(gy.dtype))

    def backward_array(self, gy):
        return gy * self._mask(self.inputs[0]._data)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch names
    """Clip values to [min, max]; either bound may be None or a tensor."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return Clamp(min, max)(x)


clip = clamp


class Maximum(Function):
    """max(a, b) elementwise; ties send half the gradient to each side (as PyTorch)."""

    def forward(self, a, b):
        xp = self.xp
        return xp.maximum(a, b)

    def _masks(self, dt):
        a, b = self.inputs[0]._data, self.inputs[1]._data
        gt = (a > b).astype(dt)
        eq = (a == b).astype(dt) * 0.5
        return gt + eq, 1 - gt - eq

    def backward(self, gy):
        a, b = self.inputs
        ma, mb = self._masks(gy.dtype)
        return sum_to(gy * _const(ma), a.shape), sum_to(gy * _const(mb), b.shape)


def maximum(a, b):
    """Elementwise maximum with broadcasting."""
    a, b = _pair(a, b)
    return Maximum()(a, b)


class Minimum(Maximum):
    """min(a, b) elementwise: Maximum's masks swapped."""

    def forward(self, a, b):
        xp = self.xp
        return xp.minimum(a, b)

    def _masks(self, dt):
        ma, mb = super()._masks(dt)
        return mb, ma


def minimum(a, b):
    """Elementwise minimum with broadcasting."""
    a, b = _pair(a, b)
    return Minimum()(a, b)


class Where(Function):
    """where(cond, a, b); the gradient goes to a where cond holds and to b elsewhere.

    ``cond`` (boolean) is an input too, so the one device check of the call covers it; it gets no gradient."""

    def forward(self, cond, a, b):
        xp = self.xp
        return xp.where(cond, a, b)

    def backward(self, gy):
        c, a, b = self.inputs
        zero = as_tensor(self.xp.zeros((), dtype=gy.dtype))
        return None, sum_to(where(c, gy, zero), a.shape), sum_to(where(c, zero, gy), b.shape)

    def backward_array(self, gy):
        xp = self.xp
        c, a, b = self.inputs
        c = c._data
        z = xp.zeros((), dtype=gy.dtype)
        return None, _st(xp.where(c, gy, z), a._data.shape), _st(xp.where(c, z, gy), b._data.shape)


def where(cond, a, b):
    """Elements of ``a`` where ``cond`` is true, else of ``b`` (broadcasting all three)."""
    if isinstance(cond, Tensor):
        c = cond._data
    else:  # an array, or host data (bools, lists)
        c = cond if hasattr(cond, "shape") else np.asarray(cond)
    if c.dtype != np.bool_:
        c = c.astype(bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        # constants go where the condition is (Python data alone: the default device)
        dev = device_of(c) if isinstance(cond, Tensor) or hasattr(cond, "shape") else None
        a, b = as_tensor(a, device=dev), as_tensor(b, device=dev)
    a, b = _pair(a, b)
    if not isinstance(cond, Tensor) and c.ndim and type(c) is np.ndarray:
        d = a._data if type(a._data) is not np.ndarray else b._data
        if not is_host(d):  # a host mask given as data (not a tensor) is moved to the values' device explicitly
            c = to_device(c, device_of(d))
    return Where()(cond if c is getattr(cond, "_data", None) else _wrap(c), a, b)


# --- rounding (piecewise constant: no gradient) ----------------------------------------------------------
def floor(x):
    """Floor (piecewise constant: no gradient)."""
    return _const(namespace_of(x._data).floor(x._data))


def ceil(x):
    """Ceiling (piecewise constant: no gradient)."""
    return _const(namespace_of(x._data).ceil(x._data))


def round(x, decimals=0):  # noqa: A001
    """Round half to even to ``decimals`` places (no gradient)."""
    return _const(namespace_of(x._data).round(x._data, decimals))


def trunc(x):
    """Round toward zero (piecewise constant: no gradient)."""
    return _const(namespace_of(x._data).trunc(x._data))


def frac(x):
    """Fractional part x - trunc(x) (gradient 1)."""
    return x - trunc(x)
