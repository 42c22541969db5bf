"""Cook-Toom transforms of Winograd's minimal filtering F(m, r) (textbook 9.8, efficient convolution; Lavin & Gray
2015, "Fast algorithms for convolutional neural networks", section 4): A^T (m, alpha), G (alpha, r), B^T (alpha,
alpha) with y = A^T [(G g) (.) (B^T d)] the correlation of d (alpha = m + r - 1 values) with g (r taps), built
exactly (fractions) from alpha - 1 interpolation points and infinity, then rounded once. Used by
shendu.ops._winograd.
"""
from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

#: Finite interpolation points of F(m, r) by alpha = m + r - 1 (alpha - 1 of them, plus infinity). Chosen by the
#: float32 error of the whole 2-D convolution on N(0, 1) data, 64 channels (exhaustive search over subsets of
#: 0, +-1, +-2, +-3, +-4, +-1/2, +-1/3, +-1/4, +-3/2, +-2/3, checked on independent data): max error / max |y|
#: as a multiple of the im2col path's, alpha 6: 2.0-2.8x with 0, +-3/2, +-2/3 (Lavin & Gray's 0, +-1, +-2:
#: 10.5-11.5x; 0, +-1, +-1/2: 6.8-9.4x); alpha 5: 2.2x; alpha 7: 6.3x; alpha 8: 11-15x (0, +-1, +-1/2, +-2).
POINTS = {
    2: (0,), 3: (0, 1), 4: (0, 1, -1), 5: (0, 1, -2, Fraction(-1, 2)),
    6: (0, Fraction(3, 2), Fraction(-3, 2), Fraction(2, 3), Fraction(-2, 3)),
    7: (0, -1, -2, Fraction(-1, 2), Fraction(3, 2), Fraction(2, 3)),
    8: (0, 1, -1, Fraction(1, 2), Fraction(-1, 2), 2, -2),
}
#: Points for other alpha: the first alpha - 1 of these.
MORE_POINTS = (0, 1, -1, Fraction(1, 2), Fraction(-1, 2), 2, -2, Fraction(1, 4), Fraction(-1, 4), 4, -4,
               Fraction(3, 2), Fraction(-3, 2), Fraction(2, 3), Fraction(-2, 3))


def _poly_coeffs(roots):
    """Coefficients (constant first) of prod_l (x - roots[l]), exact."""
    c = [Fraction(1)]
    for a in roots:
        nxt = [Fraction(0)] * (len(c) + 1)
        for t, v in enumerate(c):
            nxt[t + 1] += v
            nxt[t] -= a * v
        c = nxt
    return c


@functools.lru_cache(maxsize=None)
def _exact(m, r, points):
    """A^T, G, B^T of F(m, r) as lists of Fractions from the finite ``points`` (alpha - 1 of them) and infinity.

    The correlation y = A^T [(G g) (.) (B^T d)] is the transpose of the polynomial product s = g(x) h(x)
    (h of degree m - 1) computed by evaluation at the points and interpolation: A^T[i, j] = a_j^i (column
    alpha-1: e_{m-1}, the leading coefficient), G[j, k] = a_j^k / f_j with f_j = prod_{l != j} (a_j - a_l)
    (row alpha-1: e_{r-1}), B^T[j] = coefficients of prod_{l != j} (x - a_l) (row alpha-1: of prod_l (x - a_l))."""
    alpha = m + r - 1
    a = [Fraction(p) for p in points]
    at = [[a[j] ** i for j in range(alpha - 1)] + [Fraction(int(i == m - 1))] for i in range(m)]
    g, bt = [], []
    for j in range(alpha - 1):
        f = math.prod((a[j] - a[lo] for lo in range(alpha - 1) if lo != j), start=Fraction(1))
        g.append([a[j] ** k / f for k in range(r)])
        bt.append(_poly_coeffs([a[lo] for lo in range(alpha - 1) if lo != j]) + [Fraction(0)])
    g.append([Fraction(int(k == r - 1)) for k in range(r)])
    bt.append(_poly_coeffs(a))
    return at, g, bt


@functools.lru_cache(maxsize=None)
def _host_transforms(m, r, dtype, points):
    """``_exact``'s matrices rounded once to ``dtype``, read-only."""
    mats = []
    for rows in _exact(m, r, points):
        arr = np.array([[float(v) for v in row] for row in rows], dtype=np.float64).astype(dtype)
        arr.flags.writeable = False
        mats.append(arr)
    return tuple(mats)


def transforms(m, r, dtype=np.float32, points=None):
    """(A^T (m, alpha), G (alpha, r), B^T (alpha, alpha)) of Winograd F(m, r), alpha = m + r - 1, as read-only
    host arrays of ``dtype``: built exactly from the interpolation points (default ``POINTS[alpha]``) and
    infinity, then rounded once; cached. Lavin & Gray 2015 section 4; textbook 9.8."""
    if not (isinstance(m, int) and isinstance(r, int)) or m < 1 or r < 1:
        raise ValueError(f"winograd transforms: m and r must be positive integers, got m={m!r}, r={r!r}")
    alpha = m + r - 1
    pts = POINTS.get(alpha, MORE_POINTS[:alpha - 1]) if points is None else points
    pts = tuple(Fraction(p) for p in pts)
    if len(pts) != alpha - 1 or len(set(pts)) != len(pts):
        raise ValueError(f"winograd transforms: F({m},{r}) needs {alpha - 1} distinct finite points, got {points}"
                         if points is not None else
                         f"winograd transforms: F({m},{r}) needs {alpha - 1} points, MORE_POINTS has {len(pts)}")
    return _host_transforms(m, r, np.dtype(dtype), tuple(pts))
