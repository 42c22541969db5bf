"""Spectral quantities from the SVD: the pseudo-inverse (textbook 7.29: X^+ = lim_{alpha->0}
(X^T X + alpha I)^{-1} X^T), vector and matrix norms (Frobenius, nuclear, spectral, 1/inf), numerical rank
and condition number."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ..elementwise import abs as _abs
from ..reduce import amax, amin
from ..reduce import norm as _norm
from ..reduce import sum as _sum
from ..shape import permute, unsqueeze
from ._common import _check, _mT, _t
from .factor import svdvals
from .inverse import inv


class Pinv(Function):
    """A^+ = V diag(1/s_i for s_i > tol, else 0) U^T, tol = max(atol, rtol s_max); PyTorch's pinv_backward
    (valid where the rank does not change under perturbation)."""

    def __init__(self, atol, rtol):
        self.atol, self.rtol = atol, rtol

    def forward(self, a):
        xp = self.xp
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        smax = s[..., :1] if s.shape[-1] else s
        tol = xp.maximum(xp.asarray(self.atol, dtype=s.dtype), self.rtol * smax)
        keep = s > tol
        sinv = xp.where(keep, 1 / xp.where(keep, s, 1), 0).astype(s.dtype, copy=False)
        y = (xp.swapaxes(vh, -1, -2) * sinv[..., None, :]) @ xp.swapaxes(u, -1, -2)
        self.saved = y
        return y

    def backward(self, g):
        A = self.inputs[0]
        P = self.output()
        m, n = A.shape[-2:]
        Ph, gh = _mT(P), _mT(g)
        if m <= n:
            K = gh @ P
            KPh = K @ Ph
            return -_mT(P @ K) + KPh - (A @ P) @ KPh + (Ph @ P) @ (gh - K @ A)
        K = P @ gh
        PhK = Ph @ K
        return -_mT(K @ P) + (gh - A @ K) @ P @ Ph + PhK - PhK @ P @ A


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    """Moore-Penrose pseudo-inverse of A (*, m, n) -> (*, n, m), through the SVD; singular values at or below
    max(atol, rtol * s_max) count as zero (``rcond`` is the older name of ``rtol``; default rtol =
    eps * max(m, n) when atol is not given, else 0; ``hermitian`` is accepted, the SVD is used either way).
    Textbook 7.29: X^+ = lim_{alpha->0} (X^T X + alpha I)^{-1} X^T."""
    A = _t(A)
    _check("linalg.pinv", A, square=False)
    if rcond is not None:
        if rtol is not None:
            raise ValueError("linalg.pinv: give rcond or rtol, not both")
        rtol = rcond
    for name, v in (("atol", atol), ("rtol", rtol)):
        if v is not None and (not isinstance(v, (int, float)) or v < 0):
            raise ValueError(f"linalg.pinv: {name} must be a non-negative number, got {v!r}")
    if rtol is None:
        rtol = float(np.finfo(A.dtype).eps) * max(A.shape[-2:]) if not atol else 0.0
    return Pinv(float(atol or 0.0), float(rtol))(A)


# --- norms -----------------------------------------------------------------------------------------------
def vector_norm(x, ord=2, dim=None, keepdim=False):  # noqa: A002 - PyTorch name
    """(sum |x_i|^ord)^(1/ord) over ``dim`` (all entries when None); ord = inf/-inf: max/min |x_i|;
    ord = 0: the number of nonzero entries."""
    x = _t(x)
    if x.dtype.kind != "f":
        raise TypeError(f"linalg.vector_norm: expected a floating-point tensor, got dtype {x.dtype}")
    if isinstance(dim, list):
        dim = tuple(dim)
    if ord == 0:
        return _sum((x != 0).type(x.dtype), dim=dim, keepdim=keepdim)
    if not isinstance(ord, (int, float)) or isinstance(ord, bool) or (ord < 0 and ord != float("-inf")):
        raise ValueError(f"linalg.vector_norm: ord must be a number >= 0 or -inf, got {ord!r}")
    return _norm(x, ord, dim=dim, keepdim=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):  # noqa: A002
    """Matrix norm over the two dims ``dim``: 'fro' (Frobenius), 'nuc' (sum of singular values), 2 / -2
    (largest / smallest singular value), 1 / -1 (max / min column abs-sum), inf / -inf (max / min row abs-sum)."""
    A = _t(A)
    if A.dtype.kind != "f":
        raise TypeError(f"linalg.matrix_norm: expected a floating-point tensor, got dtype {A.dtype}")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must be a pair of dims, got {dim!r}")
    nd = A.ndim
    if nd < 2:
        raise ValueError(f"linalg.matrix_norm: expected a tensor with at least 2 dims, got shape {tuple(A.shape)}")
    d0, d1 = (d % nd if -nd <= d < nd else None for d in dim)
    if d0 is None or d1 is None or d0 == d1:
        raise ValueError(f"linalg.matrix_norm: invalid dims {tuple(dim)} for a tensor of shape {tuple(A.shape)}")
    if ord == "fro":
        return _norm(A, 2, dim=(d0, d1), keepdim=keepdim)
    inf = float("inf")
    if ord not in ("nuc", 2, -2, 1, -1, inf, -inf):
        raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 2, -2, 1, -1, inf or -inf, got {ord!r}")
    rest = [d for d in range(nd) if d not in (d0, d1)]
    B = permute(A, *rest, d0, d1)
    if ord in ("nuc", 2, -2):
        s = svdvals(B)
        r = _sum(s, dim=-1) if ord == "nuc" else (amax(s, dim=-1) if ord == 2 else amin(s, dim=-1))
    else:
        red = (amax if ord > 0 else amin)
        r = red(_sum(_abs(B), dim=-2), dim=-1) if ord in (1, -1) else red(_sum(_abs(B), dim=-1), dim=-1)
    if keepdim:
        for d in sorted((d0, d1)):
            r = unsqueeze(r, d)
    return r


def norm(A, ord=None, dim=None, keepdim=False):  # noqa: A002
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or A is 1-D), a matrix norm when ``dim``
    is a pair (or A is 2-D and ``ord`` is given); ord=None and dim=None: the 2-norm of all entries."""
    A = _t(A)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim)
        if A.ndim == 1:
            return vector_norm(A, ord, None, keepdim)
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim)
        raise ValueError(
            f"linalg.norm: with ord given and dim=None the input must be 1-D or 2-D, got shape {tuple(A.shape)}"
        )
    dim = tuple(dim)
    if len(dim) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim)
    raise ValueError(f"linalg.norm: dim must be an int or a pair, got {dim!r}")

def _tolerance(s, shape, atol, rtol):
    """max(atol, rtol * s_max) per matrix, (*, 1), for singular values s (*, k) (PyTorch's defaults)."""
    from ..elementwise import maximum

    if rtol is None:
        rtol = float(np.finfo(s.dtype).eps) * max(shape[-2:]) if not atol else 0.0
    tol = amax(s, dim=-1, keepdim=True) * float(rtol)
    return maximum(tol, float(atol)) if atol else tol


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """Numerical rank of A (*, m, n): the number of singular values above max(atol, rtol * s_max) (rtol default
    eps * max(m, n) when atol is not given), as int64 (*). ``hermitian`` is accepted and ignored (SVD either way)."""
    A = _t(A)
    _check("linalg.matrix_rank", A, square=False)
    s = svdvals(A.detach())
    tol = _tolerance(s, A.shape, atol, rtol)
    return _sum((s > tol).type(np.int64), dim=-1)


def cond(A, p=None):
    """Condition number of A (*, m, n): s_max / s_min for p = None or 2 (-2: s_min / s_max); for 'fro', 'nuc', 1,
    -1, inf, -inf: matrix_norm(A, p) * matrix_norm(inv(A), p) (square, invertible A)."""
    A = _t(A)
    _check("linalg.cond", A, square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = amax(s, dim=-1), amin(s, dim=-1)
        return big / small if p in (None, 2) else small / big
    return matrix_norm(A, p) * matrix_norm(inv(A), p)

