"""Arithmetic with broadcasting: add, sub, mul, div, neg, pow, and the composites built on them
(reciprocal, lerp) and the integer-style divisions (floor_divide, remainder, fmod; no gradient).

Each gradient is summed back to its input's shape (``sum_to``): the adjoint of broadcasting
(textbook 6.5.2, every bprop a vector-Jacobian product)."""
from __future__ import annotations

import numbers

from ...autograd.function import Function
from ...autograd.tensor import Tensor, as_tensor
from ...backend import get_default_dtype, namespace_of
from .._arr import const as _const
from .._arr import sum_to as _st
from ..shape import sum_to
from ._operands import _arrays, _bcast_error, _pair
from .explog import log
from .piecewise import where


class Add(Function):
    """a + b; d/da = d/db = 1 (gradients summed to each input's shape)."""

    needs_input_values = False

    def forward(self, a, b):
        try:
            return a + b
        except ValueError:
            raise _bcast_error("add", a, b) from None

    def backward(self, gy):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (sum_to(gy, a.shape) if na else None, sum_to(gy, b.shape) if nb else None)

    def backward_array(self, gy):
        a, b = self.inputs
        return _st(gy, a._data.shape), _st(gy, b._data.shape)


def _same(a, b):
    """Both operands plain Tensors of one dtype: nothing for ``_pair`` to convert (the common case, checked first
    to keep the per-op cost down: benchmarks/overhead.py)."""
    return type(a) is Tensor and type(b) is Tensor and a._data.dtype is b._data.dtype


def add(a, b, alpha=1):
    """a + alpha * b with broadcasting."""
    if alpha == 1 and _same(a, b):
        return Add()(a, b)
    a, b = _pair(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Add()(a, b)


class Sub(Function):
    """a - b; d/da = 1, d/db = -1."""

    needs_input_values = False

    def forward(self, a, b):
        try:
            return a - b
        except ValueError:
            raise _bcast_error("sub", a, b) from None

    def backward(self, gy):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (sum_to(gy, a.shape) if na else None, sum_to(-gy, b.shape) if nb else None)

    def backward_array(self, gy):
        a, b = self.inputs
        return _st(gy, a._data.shape), (_st(-gy, b._data.shape) if self.needs_input_grad[1] else None)


def sub(a, b, alpha=1):
    """a - alpha * b with broadcasting."""
    if alpha == 1 and _same(a, b):
        return Sub()(a, b)
    a, b = _pair(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Sub()(a, b)


class Mul(Function):
    """a * b; d/da = b, d/db = a."""

    def forward(self, a, b):
        try:
            return a * b
        except ValueError:
            raise _bcast_error("mul", a, b) from None

    def backward(self, gy):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        return (sum_to(gy * b, a.shape) if na else None, sum_to(gy * a, b.shape) if nb else None)

    def backward_array(self, gy):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        a, b = a._data, b._data
        if a.shape == b.shape == gy.shape:  # no broadcasting to undo
            return (gy * b if na else None, gy * a if nb else None)
        return (_st(gy * b, a.shape) if na else None, _st(gy * a, b.shape) if nb else None)


def mul(a, b):
    """Elementwise product with broadcasting."""
    if _same(a, b):
        return Mul()(a, b)
    a, b = _pair(a, b)
    return Mul()(a, b)


class Div(Function):
    """a / b; d/da = 1/b, d/db = -a/b^2."""

    def forward(self, a, b):
        try:
            return a / b
        except ValueError:
            raise _bcast_error("div", a, b) from None

    def backward(self, gy):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        ga = sum_to(gy / b, a.shape) if na else None
        gb = sum_to(-gy * a / (b * b), b.shape) if nb else None
        return ga, gb

    def backward_array(self, gy):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        a, b = a._data, b._data
        ga = _st(gy / b, a.shape) if na else None
        gb = _st(-gy * a / (b * b), b.shape) if nb else None
        return ga, gb


def div(a, b):
    """Elementwise true division with broadcasting."""
    if _same(a, b) and a._data.dtype.kind == "f":
        return Div()(a, b)
    a, b = _pair(a, b)
    if a._data.dtype.kind in "iub" and b._data.dtype.kind in "iub":
        a, b = a.type(get_default_dtype()), b.type(get_default_dtype())
    return Div()(a, b)


def true_divide(a, b):
    """a / b (always true division)."""
    return div(a, b)


class Neg(Function):
    """-x; d/dx = -1."""

    needs_input_values = False

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy

    def backward_array(self, gy):
        return -gy


def neg(x):
    """-x elementwise."""
    return Neg()(x)


class PowScalar(Function):
    """x ** c for a constant exponent c: d/dx = c x^(c-1)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x ** self.c

    def backward(self, gy):
        (x,) = self.inputs
        c = self.c
        if c == 2:
            return gy * (x * 2)
        return gy * (x ** (c - 1) * c)


class Pow(Function):
    """a ** b for tensors: d/da = b a^(b-1), d/db = a^b ln a (taken as 0 where a == 0)."""

    def forward(self, a, b):
        return a ** b

    def backward(self, gy):
        a, b = self.inputs
        na, nb = self.needs_input_grad
        ga = sum_to(gy * b * a ** (b - 1), a.shape) if na else None
        gb = None
        if nb:
            safe = where(a > 0, a, ones_like_value(a))
            gb = sum_to(gy * (a ** b) * log(safe), b.shape)
        return ga, gb


def ones_like_value(x):
    """A constant (no-gradient) tensor of ones shaped like ``x``."""
    return _const(namespace_of(x._data).ones_like(x._data))


def pow(a, b):
    """Elementwise power a ** b."""
    if isinstance(a, Tensor) and isinstance(b, numbers.Number) and not isinstance(b, bool):
        if b == 1:
            return a
        return PowScalar(b)(a)
    a, b = _pair(a, b)
    return Pow()(a, b)


def reciprocal(x):
    """1 / x elementwise."""
    return div(1.0, x) if isinstance(x, Tensor) else div(1.0, as_tensor(x))


def lerp(start, end, weight):
    """Linear interpolation start + weight * (end - start)."""
    return start + weight * (end - start)


# --- integer-style division (piecewise constant: no gradient) --------------------------------------------
def floor_divide(a, b):
    """floor(a / b) elementwise (``a // b``; no gradient)."""
    a, b = _pair(a, b)
    _, (x, y) = _arrays("floor_divide", a._data, b._data)
    return _const(x // y)


def remainder(a, b):
    """a - floor(a / b) * b, the sign of b (Python's ``%``; no gradient)."""
    a, b = _pair(a, b)
    _, (x, y) = _arrays("remainder", a._data, b._data)
    return _const(x % y)


def fmod(a, b):
    """C-style remainder with the sign of a (no gradient)."""
    a, b = _pair(a, b)
    xp, (x, y) = _arrays("fmod", a._data, b._data)
    return _const(xp.fmod(x, y))
