"""Trigonometric and hyperbolic functions: sin, cos, tan, asin, acos, atan, sinh, cosh (tanh, a hidden
unit, is in ``activation``). Each class states its local derivative in ``backward``."""
from __future__ import annotations

from ...autograd.function import Function
from .explog import rsqrt


class Sin(Function):
    """sin x; d/dx = cos x."""

    def forward(self, x):
        xp = self.xp
        return xp.sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


def sin(x):
    """Sine elementwise."""
    return Sin()(x)


class Cos(Function):
    """cos x; d/dx = -sin x."""

    def forward(self, x):
        xp = self.xp
        return xp.cos(x)

    def backward(self, gy):
        return -gy * sin(self.inputs[0])


def cos(x):
    """Cosine elementwise."""
    return Cos()(x)


def tan(x):
    """Tangent sin(x) / cos(x) (gradient through sin and cos: 1 / cos^2 x)."""
    return sin(x) / cos(x)


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


def asin(x):
    """Inverse sine, d/dx = 1/sqrt(1 - x^2)."""
    return Asin()(x)


class Acos(_InvTrig):
    kind = "acos"


def acos(x):
    """Inverse cosine, d/dx = -1/sqrt(1 - x^2)."""
    return Acos()(x)


class Atan(_InvTrig):
    kind = "atan"


def atan(x):
    """Inverse tangent, d/dx = 1/(1 + x^2)."""
    return Atan()(x)


class Sinh(Function):
    """sinh(x); d/dx = cosh(x)."""

    def forward(self, x):
        return self.xp.sinh(x)

    def backward(self, gy):
        return gy * cosh(self.inputs[0])


def sinh(x):
    """Hyperbolic sine (e^x - e^-x) / 2."""
    return Sinh()(x)


class Cosh(Function):
    """cosh(x); d/dx = sinh(x)."""

    def forward(self, x):
        return self.xp.cosh(x)

    def backward(self, gy):
        return gy * sinh(self.inputs[0])


def cosh(x):
    """Hyperbolic cosine (e^x + e^-x) / 2."""
    return Cosh()(x)
