"""Maxout units (textbook 6.3.1, eq. 6.37): g(z)_i = max over the group of k consecutive affine pieces."""
from __future__ import annotations

from ..functional._checks import check_tensor
from ..functional.linear import linear
from ..module import Module
from .linear import Linear


def maxout(z, pieces: int, dim: int = -1):
    """Max over consecutive groups of ``pieces`` entries along ``dim`` (groups {(i-1)k+1, ..., ik}, eq. 6.37);
    ties go to the first index. (*, out*k) -> (*, out)."""
    d = dim % z.ndim
    n = z.shape[d]
    if n % pieces:
        raise ValueError(f"maxout: size {n} of dim {d} is not a multiple of pieces={pieces}")
    shape = tuple(z.shape[:d]) + (n // pieces, pieces) + tuple(z.shape[d + 1:])
    return z.reshape(shape).max(d + 1)[0]


class Maxout(Module):
    """Maxout layer: Linear(in, out * k) then the max over each group of k consecutive pieces (textbook 6.3.1).

    x: (*, in_features) -> (*, out_features). Weight rows [i*k, (i+1)*k) belong to unit i."""

    def __init__(self, in_features: int, out_features: int, pieces: int = 2, bias: bool = True, dtype=None,
                 weight_init=None, bias_init=None):
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be >= 1, got {pieces}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = Linear(in_features, out_features * pieces, bias, dtype, weight_init, bias_init)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return maxout(linear(x, self.linear.weight, self.linear.bias), self.pieces)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"
