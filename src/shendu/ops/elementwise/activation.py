"""The hidden-unit nonlinearities as ops (textbook 6.3): tanh, the logistic sigmoid, ReLU and softplus.
``backward_array`` is kept on tanh, sigmoid and ReLU: it pays in training (benchmarks/backward_array.py)."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...backend import namespace_of
from .._recycle import recycled_empty
from .._workspace import _ws, constant
from .piecewise import where


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


def tanh(x):
    """Hyperbolic tangent (textbook 6.3.2)."""
    return Tanh()(x)


def _sigmoid_array(x, xp=None):
    """Numerically stable logistic sigmoid on arrays: e^min(x,0) / (1 + e^-|x|), which is 1/(1+e^-x) for x >= 0
    and e^x/(1+e^x) below (no overflow for |x| large; no branch per element: 162 vs 1073 us on 128x784 float32,
    1 thread, against the former where() of the two forms, same values to 3e-8)."""
    if xp is None:
        xp = namespace_of(x)
    if x.ndim == 0:  # ufuncs give 0-d results as scalars, which out= cannot take
        return _sigmoid_array(x.reshape(1), xp).reshape(())
    den = xp.abs(x)
    xp.negative(den, out=den)
    xp.exp(den, out=den)
    den += 1
    num = xp.minimum(x, 0)
    xp.exp(num, out=num)
    xp.divide(num, den, out=num)
    return num


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


def sigmoid(x):
    """Logistic sigmoid 1/(1+exp(-x)), stable for any x (textbook 6.2.2.2)."""
    return Sigmoid()(x)


_ROW = 16384  # the zero row of the host ReLU
_RELU_MIN = 4096  # host arrays from this size on take the zero row


def _relu_array(x, xp):
    """max(x, 0) as an array. On the host, a contiguous x is compared with a cached zero row broadcast over
    (-1, 16384) rows (the rest against the row's start): NumPy's maximum against a scalar does not use its SIMD
    loop, and each broadcast row costs a loop call (1 thread, 2026-11-30, float32: 1024x512 0.20 ms scalar,
    0.108 ms rows of 1024, 0.074 ms rows of 16384; 64x32x26x26 0.51, 0.30, 0.21 ms).
    The output is a recycled buffer (shendu.ops._recycle: no page faults)."""
    if type(x) is not np.ndarray or x.dtype.kind != "f" or x.size < _RELU_MIN or not x.flags.c_contiguous:
        return xp.maximum(x, 0)
    y = recycled_empty(x.shape, x.dtype, x)
    xf, yf = x.reshape(-1), y.reshape(-1)
    zero = constant("relu_zero_row", (_ROW,), x.dtype, 0.0, x)
    main = x.size - x.size % _ROW
    if main:
        np.maximum(xf[:main].reshape(-1, _ROW), zero, out=yf[:main].reshape(-1, _ROW))
    if main < x.size:
        np.maximum(xf[main:], zero[:x.size - main], out=yf[main:])
    return y


class Relu(Function):
    """max(0, x); the derivative at 0 is taken as 0 (textbook 6.3.1): gx = gy * [y > 0] (PyTorch's
    threshold_backward on the output)."""

    def forward(self, x):
        y = _relu_array(x, self.xp)
        self.saved = y
        return y

    def backward(self, gy):
        return gy * (self.inputs[0] > 0).type(gy.dtype)

    def backward_array(self, gy):
        y = self.saved
        if type(gy) is not np.ndarray or gy.shape != y.shape:
            return gy * (y > 0)
        m = _ws("relu_mask", y.shape, np.bool_, y)  # scratch mask, recycled output: no page faults
        np.greater(y, 0, out=m)
        return np.multiply(gy, m, out=recycled_empty(gy.shape, gy.dtype, gy))


def relu(x):
    """Rectified linear unit max(0, x) (textbook 6.3.1)."""
    return Relu()(x)


class Softplus(Function):
    """zeta(x) = log(1 + e^x) computed as max(x, 0) + log1p(e^-|x|) (textbook 6.2.2.2, stable);
    d/dx = sigma(x)."""

    def forward(self, x):
        xp = self.xp
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        return gy * sigmoid(self.inputs[0])


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
