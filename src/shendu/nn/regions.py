"""Linear regions of piecewise-linear networks (Textbook 6.4.1, eqs 6.42-6.43, Fig 6.5).

``montufar_regions(d, n, l)``: the (6.42) count (C(n, d))^{d(l-1)} n^d for a rectifier net with d inputs, l
hidden layers of width n; ``maxout_regions(k, d, l)``: k^{(l-1)+d} (6.43). ``tent_net(l)``: l "fold" layers
h <- |2h - 1| = relu(2h - 1) + relu(1 - 2h) (two ReLUs per layer) mapping [0, 1] onto itself; each layer mirrors
the previous pieces, so the net has 2^l linear pieces on [0, 1] (Fig 6.5). ``count_linear_pieces(f, lo, hi)``
counts the pieces of a 1-D function numerically from the changes of its finite-difference slope.
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import device_of, to_device
from .containers import Sequential
from .layers.activation import ReLU
from .layers.linear import Linear

__all__ = ["montufar_regions", "maxout_regions", "tent_net", "count_linear_pieces"]


def montufar_regions(d: int, n: int, l: int) -> int:
    """(C(n, d))^{d (l - 1)} n^d (Textbook 6.42): regions of a depth-l, width-n rectifier net on d inputs."""
    for name, v in (("d", d), ("n", n), ("l", l)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"montufar_regions: {name} must be an int >= 1, got {v!r}")
    return math.comb(n, d) ** (d * (l - 1)) * n ** d


def maxout_regions(k: int, d: int, l: int) -> int:
    """k^{(l - 1) + d} (Textbook 6.43): regions of a depth-l maxout net with k pieces per unit on d inputs."""
    return k ** ((l - 1) + d)


def tent_net(l: int, dtype=None) -> Sequential:
    """l fold layers h <- |2h - 1| (two ReLUs each, then a 2->1 sum) as a Sequential of Linear/ReLU:
    (N, 1) -> (N, 1), 2^l linear pieces on [0, 1] (Textbook Fig 6.5)."""
    if not isinstance(l, int) or l < 1:
        raise ValueError(f"tent_net: l must be an int >= 1, got {l!r}")
    layers = []
    for _ in range(l):
        up = Linear(1, 2, dtype=dtype)
        down = Linear(2, 1, bias=False, dtype=dtype)
        for p, v in ((up.weight, [[2.0], [-2.0]]), (up.bias, [-1.0, 1.0]), (down.weight, [[1.0, 1.0]])):
            p._data[...] = to_device(np.asarray(v, dtype=p._data.dtype), device_of(p._data))
        layers += [up, ReLU(), down]
    return Sequential(*layers)


def count_linear_pieces(f, lo: float = 0.0, hi: float = 1.0, n: int = 20001, tol: float = 1e-6) -> int:
    """Number of linear pieces of a 1-D piecewise-linear ``f`` on [lo, hi]: f is evaluated on an n-point grid
    (f maps a (n, 1) host array to n values), the slope of each cell is a finite difference, and a new piece
    starts wherever the slope changes by more than ``tol`` relative to the largest slope. A cell holding a kink
    has an in-between slope; a run of such cells is one change. Needs n well above the number of pieces."""
    if not hi > lo or n < 3:
        raise ValueError(f"count_linear_pieces: need hi > lo and n >= 3, got lo={lo}, hi={hi}, n={n}")
    x = np.linspace(lo, hi, n).reshape(-1, 1)
    y = np.asarray(f(x), dtype=np.float64).reshape(-1)
    if y.shape != (n,):
        raise ValueError(f"count_linear_pieces: f must return {n} values, got shape {y.shape}")
    s = np.diff(y) / np.diff(x[:, 0])
    scale = max(float(np.max(np.abs(s))), 1.0)
    change = np.abs(np.diff(s)) > tol * scale
    # each kink shows up as one change (kink on a grid point) or two adjacent ones (kink inside a cell)
    pieces, i = 1, 0
    while i < len(change):
        if change[i]:
            pieces += 1
            if i + 1 < len(change) and change[i + 1] and abs(s[i + 2] - s[i]) > tol * scale:
                i += 1  # the in-between cell slope: both changes belong to the same kink
        i += 1
    return pieces
