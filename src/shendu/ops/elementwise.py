"""Elementwise ops with broadcasting: arithmetic, powers, exp/log family, trigonometric,
and the activation nonlinearities tanh, sigmoid, ReLU and softplus (textbook 6.3).

Each op states its local derivative in ``backward`` (differentiable, for higher-order
gradients) and, for hot ops, in ``backward_array`` (raw arrays, used when no graph is
recorded). Broadcast gradients are summed back to each input's shape.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import _SEQ, Function
from ..autograd.grad_mode import is_grad_enabled as _grad_enabled
from ..autograd.tensor import Tensor, _wrap, _wrap_grad, as_tensor, scalar_like
from ..backend import common_namespace, device_of, get_default_dtype, is_host, namespace_of, to_device
from ..backend.lowp import is_floating
from ._arr import const as _const
from ._arr import sum_to as _st
from .shape import sum_to


def _pair(a, b):
    """Turn the operands of a binary op into Tensors (Python numbers keep the tensor's dtype). An integer or
    bool tensor meeting a floating one takes the floating dtype (PyTorch's category rule: int64 + float32 is
    float32, not NumPy's float64)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return _kinds(a, b)
        if isinstance(b, numbers.Number):
            b = scalar_like(b, a)
            return (a if b._data.dtype == a._data.dtype else a.type(b._data.dtype)), b
        return _kinds(a, as_tensor(b))
    if isinstance(b, Tensor):
        if isinstance(a, numbers.Number):
            a = scalar_like(a, b)
            return a, (b if a._data.dtype == b._data.dtype else b.type(a._data.dtype))
        return _kinds(as_tensor(a), b)
    return _kinds(as_tensor(a), as_tensor(b))


def _kinds(a, b):
    """``(a, b)`` with an integer/bool operand cast to the other's floating dtype (see ``_pair``)."""
    da, db = a._data.dtype, b._data.dtype
    if da.kind != db.kind:
        if da.kind in "iub" and is_floating(db):
            return a.type(db), b
        if db.kind in "iub" and is_floating(da):
            return a, b.type(da)
    return a, b


def _bcast_error(name, a, b):
    return ValueError(f"{name}: operands of shapes {a.shape} and {b.shape} cannot be broadcast together")


# --- arithmetic -----------------------------------------------------------------------------
class Add(Function):
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


class Sub(Function):
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


class Mul(Function):
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
        return (_st(gy * b, a.shape) if na else None, _st(gy * a, b.shape) if nb else None)


class Div(Function):
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


class Neg(Function):
    needs_input_values = False

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy

    def backward_array(self, gy):
        return -gy


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

    def backward_array(self, gy):
        x = self.inputs[0]._data
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
    return _const(namespace_of(x._data).ones_like(x._data))


def pow(a, b):
    """Elementwise power a ** b."""
    if isinstance(a, Tensor) and isinstance(b, numbers.Number) and not isinstance(b, bool):
        if b == 1:
            return a
        return PowScalar(b)(a)
    a, b = _pair(a, b)
    return Pow()(a, b)


def add(a, b, alpha=1):
    """a + alpha * b with broadcasting."""
    a, b = _pair(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Add()(a, b)


def sub(a, b, alpha=1):
    """a - alpha * b with broadcasting."""
    a, b = _pair(a, b)
    if alpha != 1:
        b = mul(b, alpha)
    return Sub()(a, b)


def mul(a, b):
    """Elementwise product with broadcasting."""
    a, b = _pair(a, b)
    return Mul()(a, b)


def div(a, b):
    """Elementwise true division with broadcasting."""
    a, b = _pair(a, b)
    if a._data.dtype.kind in "iub" and b._data.dtype.kind in "iub":
        a, b = a.type(get_default_dtype()), b.type(get_default_dtype())
    return Div()(a, b)


def neg(x):
    return Neg()(x)


# --- unary math -----------------------------------------------------------------------------
class Exp(Function):
    def forward(self, x):
        xp = self.xp
        y = xp.exp(x)
        self.saved = y
        return y

    def backward(self, gy):
        return gy * self.output()

    def backward_array(self, gy):
        return gy * self.saved


class Log(Function):
    def forward(self, x):
        xp = self.xp
        return xp.log(x)

    def backward(self, gy):
        return gy / self.inputs[0]

    def backward_array(self, gy):
        return gy / self.inputs[0]._data


class Log1p(Function):
    def forward(self, x):
        xp = self.xp
        return xp.log1p(x)

    def backward(self, gy):
        return gy / (self.inputs[0] + 1)

    def backward_array(self, gy):
        return gy / (self.inputs[0]._data + 1)


class Expm1(Function):
    def forward(self, x):
        xp = self.xp
        return xp.expm1(x)

    def backward(self, gy):
        return gy * exp(self.inputs[0])

    def backward_array(self, gy):
        xp = self.xp
        return gy * xp.exp(self.inputs[0]._data)


class Sqrt(Function):
    def forward(self, x):
        xp = self.xp
        y = xp.sqrt(x)
        self.saved = y
        return y

    def backward(self, gy):
        return gy / (self.output() * 2)

    def backward_array(self, gy):
        return gy / (self.saved * 2)


class Rsqrt(Function):
    def forward(self, x):
        xp = self.xp
        y = 1 / xp.sqrt(x)
        self.saved = y
        return y

    def backward(self, gy):
        y = self.output()
        return gy * (y * y * y) * -0.5

    def backward_array(self, gy):
        y = self.saved
        return gy * (y * y * y) * -0.5


class Square(Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * (self.inputs[0] * 2)

    def backward_array(self, gy):
        return gy * (self.inputs[0]._data * 2)


class Abs(Function):
    """|x|; the subgradient at 0 is 0 (sign(0) = 0, textbook 7.1.2)."""

    def forward(self, x):
        xp = self.xp
        return xp.abs(x)

    def backward(self, gy):
        return gy * sign(self.inputs[0])

    def backward_array(self, gy):
        xp = self.xp
        return gy * xp.sign(self.inputs[0]._data)


class Sin(Function):
    def forward(self, x):
        xp = self.xp
        return xp.sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])

    def backward_array(self, gy):
        xp = self.xp
        return gy * xp.cos(self.inputs[0]._data)


class Cos(Function):
    def forward(self, x):
        xp = self.xp
        return xp.cos(x)

    def backward(self, gy):
        return -gy * sin(self.inputs[0])

    def backward_array(self, gy):
        xp = self.xp
        return -gy * xp.sin(self.inputs[0]._data)


class Tanh(Function):
    """tanh(x); d/dx = 1 - tanh(x)^2 (textbook 6.3.2)."""

    def forward(self, x):
        xp = self.xp
        y = xp.tanh(x)
        self.saved = y
        return y

    def backward(self, gy):
        y = self.output()
        return gy * (1 - y * y)

    def backward_array(self, gy):
        y = self.saved
        return gy * (1 - y * y)


def _sigmoid_array(x, xp=None):
    """Numerically stable logistic sigmoid 1/(1+e^-x) on arrays (no overflow for |x| large)."""
    if xp is None:
        xp = namespace_of(x)
    e = xp.exp(-xp.abs(x))
    pos = 1 / (1 + e)
    return xp.where(x >= 0, pos, e * pos)


class Sigmoid(Function):
    """sigma(x) = 1/(1+e^-x); d/dx = sigma(x)(1 - sigma(x)) (textbook 6.2.2.2)."""

    def forward(self, x):
        y = _sigmoid_array(x, self.xp).astype(x.dtype, copy=False)
        self.saved = y
        return y

    def backward(self, gy):
        y = self.output()
        return gy * (y * (1 - y))

    def backward_array(self, gy):
        y = self.saved
        return gy * (y * (1 - y))


class Relu(Function):
    """max(0, x); the derivative at 0 is taken as 0 (textbook 6.3.1)."""

    def forward(self, x):
        xp = self.xp
        y = xp.maximum(x, 0)
        self.saved = y
        return y

    def backward(self, gy):
        return gy * (self.inputs[0] > 0).type(gy.dtype)

    def backward_array(self, gy):
        return gy * (self.saved > 0)


class Softplus(Function):
    """zeta(x) = log(1 + e^x) computed as max(x, 0) + log1p(e^-|x|) (textbook 6.2.2.2, stable);
    d/dx = sigma(x)."""

    def forward(self, x):
        xp = self.xp
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])

    def backward_array(self, gy):
        x = self.inputs[0]._data
        return gy * _sigmoid_array(x, self.xp).astype(x.dtype, copy=False)


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


class Maximum(Function):
    """max(a, b) elementwise; ties send half the gradient to each side (as PyTorch)."""

    def forward(self, a, b):
        xp = self.xp
        return xp.maximum(a, b)

    def _masks(self):
        a, b = self.inputs[0]._data, self.inputs[1]._data
        gt = (a > b).astype(self._dt)
        eq = (a == b).astype(self._dt) * 0.5
        return gt + eq, 1 - gt - eq

    def backward(self, gy):
        self._dt = gy.dtype
        a, b = self.inputs
        ma, mb = self._masks()
        return sum_to(gy * _const(ma), a.shape), sum_to(gy * _const(mb), b.shape)

    def backward_array(self, gy):
        self._dt = gy.dtype
        a, b = self.inputs
        ma, mb = self._masks()
        return _st(gy * ma, a._data.shape), _st(gy * mb, b._data.shape)


class Minimum(Maximum):
    def forward(self, a, b):
        xp = self.xp
        return xp.minimum(a, b)

    def _masks(self):
        ma, mb = super()._masks()
        return mb, ma


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


class Cast(Function):
    """Change dtype; the gradient is cast back (no gradient into integer dtypes)."""

    needs_input_values = False

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.type(self.in_dtype)

    def backward_array(self, gy):
        return gy.astype(self.in_dtype)


class ToDevice(Function):
    """Copy to another device (textbook 12.1.2); the gradient is copied back to the input's device."""

    needs_input_values = False

    def __init__(self, device):
        self.device = device

    def __call__(self, x):  # no device check: moving across devices is this op's job
        self.src = device_of(x._data)
        y = to_device(x._data, self.device)
        if x._requires_grad and _grad_enabled():
            self.inputs, self.needs_input_grad, self._seq = (x,), (True,), next(_SEQ)
            return _wrap_grad(y, self, 0)
        return _wrap(y)

    def backward(self, gy):
        return ToDevice(self.src)(gy)

    def backward_array(self, gy):
        return to_device(gy, self.src)


class Clone(Function):
    needs_input_values = False

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy

    def backward_array(self, gy):
        return gy


def exp(x):
    """e^x elementwise."""
    return Exp()(x)


def log(x):
    """Natural logarithm elementwise."""
    return Log()(x)


def log1p(x):
    """log(1 + x), accurate for small x."""
    return Log1p()(x)


def expm1(x):
    """e^x - 1, accurate for small x."""
    return Expm1()(x)


def sqrt(x):
    return Sqrt()(x)


def rsqrt(x):
    """1 / sqrt(x)."""
    return Rsqrt()(x)


def square(x):
    return Square()(x)


def abs(x):  # noqa: A001 - PyTorch name
    return Abs()(x)


def sign(x):
    """sign(x) in {-1, 0, 1}; not differentiable (returns a constant)."""
    return _const(namespace_of(x._data).sign(x._data))


def sin(x):
    return Sin()(x)


def cos(x):
    return Cos()(x)


def tanh(x):
    """Hyperbolic tangent (textbook 6.3.2)."""
    return Tanh()(x)


def sigmoid(x):
    """Logistic sigmoid 1/(1+exp(-x)), stable for any x (textbook 6.2.2.2)."""
    return Sigmoid()(x)


def relu(x):
    """Rectified linear unit max(0, x) (textbook 6.3.1)."""
    return Relu()(x)


def softplus(x, beta=1.0, threshold=20.0):
    """(1/beta) log(1 + exp(beta x)), linear above ``threshold`` like PyTorch (textbook 6.2.2.2)."""
    if beta == 1 and threshold is None:
        return Softplus()(x)
    bx = x * beta if beta != 1 else x
    sp = Softplus()(bx)
    if beta != 1:
        sp = sp / beta
    if threshold is not None:
        sp = where(bx > threshold, x, sp)
    return sp


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


def maximum(a, b):
    """Elementwise maximum with broadcasting."""
    a, b = _pair(a, b)
    return Maximum()(a, b)


def minimum(a, b):
    """Elementwise minimum with broadcasting."""
    a, b = _pair(a, b)
    return Minimum()(a, b)


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


# --- comparisons (no gradient) --------------------------------------------------------------
def _arrays(op, *arrays):
    """The namespace of a no-gradient op on ``arrays`` and the arrays (NumPy for host arrays; otherwise
    the device check of ``Function.__call__``: one device, 0-d host values moved to it)."""
    for a in arrays:
        if type(a) is not np.ndarray:
            return common_namespace(op, list(arrays))[:2]
    return np, arrays


def _cmp(ufunc):
    name = ufunc.__name__

    def op(a, b):
        a, b = _pair(a, b)
        xp, (x, y) = _arrays(name, a._data, b._data)
        return _const((ufunc if xp is np else getattr(xp, name))(x, y))

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} (boolean result, no gradient)."
    return op


eq = _cmp(np.equal)
ne = _cmp(np.not_equal)
lt = _cmp(np.less)
le = _cmp(np.less_equal)
gt = _cmp(np.greater)
ge = _cmp(np.greater_equal)
logical_and = _cmp(np.logical_and)
logical_or = _cmp(np.logical_or)
logical_xor = _cmp(np.logical_xor)


def logical_not(x):
    return _const(namespace_of(x._data).logical_not(x._data))


def isnan(x):
    return _const(namespace_of(x._data).isnan(x._data))


def isinf(x):
    return _const(namespace_of(x._data).isinf(x._data))


def isfinite(x):
    return _const(namespace_of(x._data).isfinite(x._data))


def floor(x):
    """Floor (piecewise constant: no gradient)."""
    return _const(namespace_of(x._data).floor(x._data))


def ceil(x):
    return _const(namespace_of(x._data).ceil(x._data))


def round(x, decimals=0):  # noqa: A001
    return _const(namespace_of(x._data).round(x._data, decimals))


def allclose(a, b, rtol=1e-5, atol=1e-8):
    a, b = _pair(a, b)
    xp, (x, y) = _arrays("allclose", a._data, b._data)
    return bool(xp.allclose(x, y, rtol=rtol, atol=atol))


# --- issue 12: names PyTorch programs use (hyperbolic functions and small composites) ------------------------
class Sinh(Function):
    """sinh(x); d/dx = cosh(x)."""

    def forward(self, x):
        return self.xp.sinh(x)

    def backward(self, gy):
        return gy * cosh(self.inputs[0])

    def backward_array(self, gy):
        return gy * self.xp.cosh(self.inputs[0]._data)


class Cosh(Function):
    """cosh(x); d/dx = sinh(x)."""

    def forward(self, x):
        return self.xp.cosh(x)

    def backward(self, gy):
        return gy * sinh(self.inputs[0])

    def backward_array(self, gy):
        return gy * self.xp.sinh(self.inputs[0]._data)


def sinh(x):
    """Hyperbolic sine (e^x - e^-x) / 2."""
    return Sinh()(x)


def cosh(x):
    """Hyperbolic cosine (e^x + e^-x) / 2."""
    return Cosh()(x)


def tan(x):
    """Tangent sin(x) / cos(x) (gradient through sin and cos: 1 / cos^2 x)."""
    return sin(x) / cos(x)


def log2(x):
    """Base-2 logarithm ln(x) / ln 2."""
    return log(x) * (1.0 / 0.6931471805599453)


def log10(x):
    """Base-10 logarithm ln(x) / ln 10."""
    return log(x) * (1.0 / 2.302585092994046)


def reciprocal(x):
    """1 / x elementwise."""
    return div(1.0, x) if isinstance(x, Tensor) else div(1.0, as_tensor(x))


def trunc(x):
    """Round toward zero (piecewise constant: no gradient)."""
    return _const(namespace_of(x._data).trunc(x._data))


def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Elementwise |a - b| <= atol + rtol |b| (bool tensor)."""
    a, b = _pair(a, b)
    xp, (x, y) = _arrays("isclose", a._data, b._data)
    return _const(xp.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b):
    """True when both tensors have the same shape and elements."""
    return tuple(a.shape) == tuple(b.shape) and bool((a == b).all())


class _InvTrig(Function):
    """asin / acos / atan: d/dx = 1/sqrt(1-x^2), -1/sqrt(1-x^2), 1/(1+x^2)."""

    kind = "asin"

    def forward(self, x):
        return getattr(self.xp, {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}[self.kind])(x)

    def backward(self, gy):
        x = self.inputs[0]
        if self.kind == "atan":
            return gy / (1 + x * x)
        d = rsqrt(1 - x * x)
        return gy * d if self.kind == "asin" else -gy * d


class Asin(_InvTrig):
    kind = "asin"


class Acos(_InvTrig):
    kind = "acos"


class Atan(_InvTrig):
    kind = "atan"


def asin(x):
    """Inverse sine, d/dx = 1/sqrt(1 - x^2)."""
    return Asin()(x)


def acos(x):
    """Inverse cosine, d/dx = -1/sqrt(1 - x^2)."""
    return Acos()(x)


def atan(x):
    """Inverse tangent, d/dx = 1/(1 + x^2)."""
    return Atan()(x)


def exp2(x):
    """2 ** x = exp(x ln 2)."""
    return exp(x * 0.6931471805599453)


def frac(x):
    """Fractional part x - trunc(x) (gradient 1)."""
    return x - trunc(x)


def lerp(start, end, weight):
    """Linear interpolation start + weight * (end - start)."""
    return start + weight * (end - start)


def true_divide(a, b):
    """a / b (always true division)."""
    return div(a, b)


def floor_divide(a, b):
    """floor(a / b) elementwise (no gradient)."""
    return a // b if isinstance(a, Tensor) else as_tensor(a) // b


def remainder(a, b):
    """a - floor(a / b) * b, the sign of b (Python's %; no gradient)."""
    return a % b if isinstance(a, Tensor) else as_tensor(a) % b


def fmod(a, b):
    """C-style remainder with the sign of a (no gradient)."""
    a, b = _pair(a, b)
    xp, (x, y) = _arrays("fmod", a._data, b._data)
    return _const(xp.fmod(x, y))
