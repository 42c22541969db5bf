"""Thresholding, shrinkage and gating layers (torch.nn.Threshold, Hardshrink, Softshrink, Tanhshrink, GLU,
Softmax2d): Modules over ``nn.functional.shrink`` (Softshrink is L1's soft threshold, Textbook 7.1.2 eq. 7.23)."""
from __future__ import annotations

from ..functional.activation import softmax
from ..functional.shrink import glu, hardshrink, softshrink, tanhshrink, threshold
from ..module import Module


class Threshold(Module):
    """y = x if x > threshold else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value = threshold, value

    def forward(self, x):
        return threshold(x, self.threshold, self.value)


class _Shrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        return f"lambd={self.lambd}"


class Hardshrink(_Shrink):
    """x where |x| > lambd, else 0."""

    def forward(self, x):
        return hardshrink(x, self.lambd)


class Softshrink(_Shrink):
    """x - lambd sign(x) where |x| > lambd, else 0 (soft thresholding)."""

    def forward(self, x):
        return softshrink(x, self.lambd)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, x):
        return tanhshrink(x)


class GLU(Module):
    """Gated linear unit a * sigmoid(b) over the two halves of ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return glu(x, self.dim)


class Softmax2d(Module):
    """Softmax over the channel dim of (N, C, H, W) or (C, H, W) input."""

    def forward(self, x):
        return softmax(x, dim=-3)
