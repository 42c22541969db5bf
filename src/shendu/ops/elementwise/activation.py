"""The hidden-unit nonlinearities as ops (textbook 6.3): tanh, the logistic sigmoid, ReLU and softplus.
``backward_array`` is kept on tanh, sigmoid and ReLU: it pays in training (benchmarks/backward_array.py)."""
from __future__ import annotations

from ...autograd.function import Function
from ...backend import namespace_of
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


def sigmoid(x):
    """Logistic sigmoid 1/(1+exp(-x)), stable for any x (textbook 6.2.2.2)."""
    return Sigmoid()(x)


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
