"""Vector norms over dimensions: the Euclidean norm sqrt(sum x^2) as one op (its gradient x / ||x||, 0 where
the norm is 0), the 1-, inf-, -inf- and general p-norms composed from sum, amax and abs (their gradients come
from those ops, textbook 6.5.2)."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import as_tensor
from .._arr import expand_reduced
from ..elementwise import abs as _abs
from ..elementwise import where
from ..shape import reshape
from .extrema import Amax
from .sums import Sum, _args


class Norm2(Function):
    """Euclidean norm sqrt(sum x^2); the gradient x / ||x|| is taken as 0 where the norm is 0."""

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = self.xp
        y = xp.sqrt((x * x).sum(axis=self.axis, keepdims=self.keepdims))
        self.saved = xp.asarray(y)
        return self.saved

    def backward(self, gy):
        x = self.inputs[0]
        shp = expand_reduced(self.saved, x.shape, self.axis, self.keepdims).shape
        y = reshape(self.output(), shp)
        xp = self.xp
        safe = where(y > 0, y, as_tensor(xp.ones((), dtype=y.dtype)))
        return reshape(gy, shp) * where(y > 0, x / safe, as_tensor(xp.zeros((), dtype=y.dtype)))

    def backward_array(self, gy):  # kept: benchmarks/backward_array_shape.py
        xp = self.xp
        x = self.inputs[0]._data
        y = expand_reduced(self.saved, x.shape, self.axis, self.keepdims)
        g = expand_reduced(gy, x.shape, self.axis, self.keepdims)
        with np.errstate(invalid="ignore", divide="ignore"):  # NumPy's warning state (CuPy does not warn)
            return xp.where(y > 0, g * x / xp.where(y > 0, y, 1), 0).astype(x.dtype, copy=False)


def norm(x, p="fro", dim=None, keepdim=False, *, ord=None, axis=None, keepdims=None):  # noqa: A002
    """Vector p-norm (p = 1, 2, inf, -inf or any p > 0) over ``dim``; 'fro' is the 2-norm of all entries
    (or over two dims for matrices)."""
    if ord is not None:
        p = ord
    ax, k = _args(x, dim, axis, keepdim, keepdims, "norm")
    if p in ("fro", 2, 2.0):
        return Norm2(ax, k)(x)
    if p in (1, 1.0):
        return Sum(ax, k)(_abs(x))
    if p in (float("inf"), "inf"):
        return Amax(ax, k)(_abs(x))
    if p in (float("-inf"), "-inf"):
        return Amax(ax, k, is_min=True)(_abs(x))
    if p == "nuc":
        raise ValueError("norm: the nuclear norm is not supported")
    if not isinstance(p, (int, float)) or p <= 0:
        raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")
    return Sum(ax, k)(_abs(x) ** p) ** (1.0 / p)

