"""Solving and inverting (textbook 7.1.1: the ridge solution (X^T X + alpha I)^{-1} X^T y, eq. 7.17): solve,
inv, det, slogdet, and the compositions matrix_power, multi_dot, vecdot. Backward (Giles 2008): for
X = A^{-1} B, grad_B = A^{-T} G and grad_A = -grad_B X^T; for Y = A^{-1}, grad_A = -Y^T G Y^T; for
d = det A, grad_A = g d A^{-T} (the adjugate through the SVD at a singular A)."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ..reduce import sum as _sum
from ..shape import broadcast_to, squeeze, unsqueeze
from ._common import LinAlgError, SlogdetResult, _all, _check, _expand2, _eye, _lapack, _mT, _t


class Solve(Function):
    """X = A^{-1} B; grad_B = A^{-T} G, grad_A = -grad_B X^T."""

    def forward(self, a, b):
        xp = self.xp
        x = _lapack("linalg.solve", a.shape, "singular", xp.linalg.solve, a, b)
        if xp is not np and not _all(xp, xp.isfinite(x)):
            raise LinAlgError(f"linalg.solve: the input of shape {a.shape} is singular (the solution is not finite)")
        self.saved = x
        return x

    def backward(self, gy):
        a = self.inputs[0]
        gb = Solve()(_mT(a), gy)
        ga = -(gb @ _mT(self.output())) if self.needs_input_grad[0] else None
        return ga, gb


def solve(A, B, *, left=True):
    """X with A X = B (``left=False``: X A = B); A (*, n, n), B (*, n, k) or (*, n); batch dims broadcast.

    Textbook 7.17 solves (X^T X + alpha I) w = X^T y this way. Raises LinAlgError for a singular A."""
    A, B = _t(A), _t(B)
    _check("linalg.solve", A)
    if B.dtype.kind != "f":
        raise TypeError(f"linalg.solve: expected a floating-point B, got dtype {B.dtype}")
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    n = A.shape[-1]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = unsqueeze(B, -1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != n:
        raise ValueError(f"linalg.solve: A of shape {tuple(A.shape)} and B of shape {tuple(B.shape)} do not match "
                         f"(B must be (*, {n}) or (*, {n}, k))")
    if A.dtype != Bm.dtype:
        raise TypeError(f"linalg.solve: A ({A.dtype}) and B ({B.dtype}) must have the same dtype")
    try:
        batch = tuple(np.broadcast_shapes(tuple(A.shape[:-2]), tuple(Bm.shape[:-2])))
    except ValueError:
        raise ValueError(
            f"linalg.solve: batch dims of A {tuple(A.shape)} and B {tuple(B.shape)} do not broadcast"
        ) from None
    if tuple(A.shape[:-2]) != batch:
        A = broadcast_to(A, batch + tuple(A.shape[-2:]))
    if tuple(Bm.shape[:-2]) != batch:
        Bm = broadcast_to(Bm, batch + tuple(Bm.shape[-2:]))
    X = Solve()(A, Bm)
    return squeeze(X, -1) if vector else X


class Inv(Function):
    """Y = A^{-1}; grad_A = -Y^T G Y^T."""

    def forward(self, a):
        xp = self.xp
        y = _lapack("linalg.inv", a.shape, "singular", xp.linalg.inv, a)
        if xp is not np and not _all(xp, xp.isfinite(y)):
            raise LinAlgError(f"linalg.inv: the input of shape {a.shape} is singular (the inverse is not finite)")
        self.saved = y
        return y

    def backward(self, gy):
        yt = _mT(self.output())
        return -(yt @ gy @ yt)


def inv(A):
    """A^{-1} for A (*, n, n). Raises LinAlgError for a singular matrix."""
    A = _t(A)
    _check("linalg.inv", A)
    return Inv()(A)


class Det(Function):
    """d = det(A); grad_A = g adj(A)^T = g d A^{-T}.

    For a singular A, adj(A)^T = det(U) det(Vh) U diag(prod_{j!=i} s_j) Vh from the SVD (first derivatives only
    there)."""

    def forward(self, a):
        xp = self.xp
        self.saved = xp.asarray(xp.linalg.det(a))
        return self.saved

    def backward(self, gy):
        A = self.inputs[0]
        try:
            return _expand2(gy * self.output()) * _mT(inv(A))
        except LinAlgError:  # singular: the adjugate through the SVD
            from .factor import SVD

            U, S, Vh = SVD(False)(A)
            k = S.shape[-1]
            I = _eye(k, S)
            others = (unsqueeze(S, -2) * (1 - I) + I).prod(dim=-1)  # prod_{j != i} s_j
            sign = Det()(U) * Det()(Vh)
            return _expand2(gy * sign) * ((U * unsqueeze(others, -2)) @ Vh)


def det(A):
    """Determinant of A (*, n, n) -> (*); differentiable also at singular A (the adjugate)."""
    A = _t(A)
    _check("linalg.det", A)
    return Det()(A)


class SlogDet(Function):
    """(sign, log|det A|); grad_A = g_logabsdet A^{-T}; the sign has no gradient."""

    def forward(self, a):
        xp = self.xp
        sign, logabs = xp.linalg.slogdet(a)
        return xp.asarray(sign), xp.asarray(logabs)

    def backward(self, gsign, glog):
        return _expand2(glog) * _mT(inv(self.inputs[0]))


def slogdet(A):
    """(sign, log|det A|) of A (*, n, n), each (*); stable where det under/overflows."""
    A = _t(A)
    _check("linalg.slogdet", A)
    return SlogdetResult(*SlogDet()(A))

def matrix_power(A, n):
    """A^n for A (*, m, m) and an integer n, by repeated squaring; n = 0 gives I, n < 0 uses inv(A)^{-n}."""
    A = _t(A)
    _check("linalg.matrix_power", A)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an integer, got {n!r}")
    if n == 0:
        return A * 0 + _eye(A.shape[-1], A)
    base = inv(A) if n < 0 else A
    n = abs(int(n))
    out = None
    while n:
        if n & 1:
            out = base if out is None else out @ base
        n >>= 1
        if n:
            base = base @ base
    return out



def multi_dot(tensors):
    """The product A_1 A_2 ... A_k of a list of matrices (the first may be 1-D (n,), the last 1-D (n,)), as
    ``torch.linalg.multi_dot``; evaluated left to right."""
    ts = [_t(x) for x in tensors]
    if len(ts) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(ts)}")
    for i, x in enumerate(ts):
        ok = x.ndim == 2 or (x.ndim == 1 and i in (0, len(ts) - 1))
        if not ok:
            raise ValueError(
                f"linalg.multi_dot: tensor {i} must be 2-D (the first and last may be 1-D), got shape {tuple(x.shape)}"
            )
    out = ts[0]
    for x in ts[1:]:
        out = out @ x
    return out


def vecdot(x, y, *, dim=-1):
    """Dot product of x and y along ``dim`` (broadcasting the other dims): sum_i x_i y_i."""
    x, y = _t(x), _t(y)
    return _sum(x * y, dim=dim)
