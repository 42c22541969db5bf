"""Exponentials, logarithms and powers of one argument: exp, log, log1p, expm1, sqrt, rsqrt, square,
and the composites exp2, log2, log10. Each class states its local derivative in ``backward``."""
from __future__ import annotations

from ...autograd.function import Function


class Exp(Function):
    """e^x; d/dx = e^x (the saved output)."""

    def forward(self, x):
        xp = self.xp
        y = xp.exp(x)
        self.saved = y
        return y

    def backward(self, gy):
        return gy * self.output()

    def backward_array(self, gy):
        return gy * self.saved


def exp(x):
    """e^x elementwise."""
    return Exp()(x)


class Log(Function):
    """ln x; d/dx = 1/x."""

    def forward(self, x):
        xp = self.xp
        return xp.log(x)

    def backward(self, gy):
        return gy / self.inputs[0]

    def backward_array(self, gy):
        return gy / self.inputs[0]._data


def log(x):
    """Natural logarithm elementwise."""
    return Log()(x)


class Log1p(Function):
    """ln(1 + x); d/dx = 1/(1 + x)."""

    def forward(self, x):
        xp = self.xp
        return xp.log1p(x)

    def backward(self, gy):
        return gy / (self.inputs[0] + 1)


def log1p(x):
    """log(1 + x), accurate for small x."""
    return Log1p()(x)


class Expm1(Function):
    """e^x - 1; d/dx = e^x."""

    def forward(self, x):
        xp = self.xp
        return xp.expm1(x)

    def backward(self, gy):
        return gy * exp(self.inputs[0])


def expm1(x):
    """e^x - 1, accurate for small x."""
    return Expm1()(x)


class Sqrt(Function):
    """sqrt(x); d/dx = 1/(2 sqrt(x)) (the saved output)."""

    def forward(self, x):
        xp = self.xp
        y = xp.sqrt(x)
        self.saved = y
        return y

    def backward(self, gy):
        return gy / (self.output() * 2)


def sqrt(x):
    """Square root elementwise."""
    return Sqrt()(x)


class Rsqrt(Function):
    """1/sqrt(x); d/dx = -y^3 / 2 with y the saved output."""

    def forward(self, x):
        xp = self.xp
        y = 1 / xp.sqrt(x)
        self.saved = y
        return y

    def backward(self, gy):
        y = self.output()
        return gy * (y * y * y) * -0.5


def rsqrt(x):
    """1 / sqrt(x)."""
    return Rsqrt()(x)


class Square(Function):
    """x^2; d/dx = 2x."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * (self.inputs[0] * 2)


def square(x):
    """x * x elementwise."""
    return Square()(x)


def exp2(x):
    """2 ** x = exp(x ln 2)."""
    return exp(x * 0.6931471805599453)


def log2(x):
    """Base-2 logarithm ln(x) / ln 2."""
    return log(x) * (1.0 / 0.6931471805599453)


def log10(x):
    """Base-10 logarithm ln(x) / ln 10."""
    return log(x) * (1.0 / 2.302585092994046)
