"""Matrix factorizations: Cholesky, QR, the symmetric eigendecomposition A = Q diag(l) Q^T (textbook 7.1.1,
eq. 7.11) and the SVD A = U diag(s) V^T. Backward rules as PyTorch's (Murray 2016 for Cholesky; eigh/svd
need distinct eigen/singular values for the gradients through the vectors)."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled
from ..linalg import tril, triu
from ..shape import cat, narrow, unsqueeze
from ._common import (
    EighResult,
    LinAlgError,
    QRResult,
    SVDResult,
    _all,
    _check,
    _diag_embed,
    _div0,
    _eye,
    _lapack,
    _mT,
    _skew,
    _t,
)
from .inverse import inv, solve


class Cholesky(Function):
    """A = L L^T with L lower; grad_A = L^{-T} Phi(L^T G) L^{-1}, Phi symmetrizing tril (Murray 2016)."""

    def forward(self, a):
        xp = self.xp
        L = _lapack("linalg.cholesky", a.shape, "not positive-definite", xp.linalg.cholesky, a)
        if xp is not np:  # CuPy does not raise: a failed factorization leaves a non-positive pivot or NaN
            d = xp.diagonal(L, 0, -2, -1)
            if not _all(xp, d > 0):
                raise LinAlgError(f"linalg.cholesky: the input of shape {a.shape} is not positive-definite")
        self.saved = L
        return L

    def backward(self, gL):
        L = self.output()
        X = tril(_mT(L) @ gL)
        P = 0.5 * (X + _mT(tril(X, -1)))
        Linv = inv(L)
        return _mT(Linv) @ P @ Linv


def cholesky(A, *, upper=False):
    """Cholesky factor of a symmetric positive-definite A (*, n, n): lower L with A = L L^T
    (``upper=True``: U = L^T, A = U^T U). Reads the lower triangle. Raises LinAlgError if A is not PD."""
    A = _t(A)
    _check("linalg.cholesky", A)
    L = Cholesky()(A)
    return _mT(L) if upper else L


class QR(Function):
    """A = QR (m >= n); grad_A = (G_Q + Q copyltu(triu(G_R R^T - Q^T G_Q))) R^{-T} (PyTorch's rule)."""

    def __init__(self, mode):
        self.mode = mode

    def forward(self, a):
        q, r = self.xp.linalg.qr(a, mode=self.mode)
        self.saved = (q, r)
        return q, r

    def backward(self, gQ, gR):
        a = self.inputs[0]
        m, n = a.shape[-2:]
        if self.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: the QR decomposition is not differentiable when mode='complete' and m > n")
        Q, R = self.output(0), self.output(1)
        M = triu(gR @ _mT(R) - _mT(Q) @ gQ)
        Y = gQ + Q @ (M + _mT(triu(M, 1)))
        return _mT(solve(R, _mT(Y)))  # Y R^{-T}


def qr(A, mode="reduced"):
    """QR decomposition of A (*, m, n): Q (*, m, k) with orthonormal columns and upper-triangular R (*, k, n),
    k = min(m, n) (``mode='complete'``: Q (*, m, m), R (*, m, n)). Differentiable for the reduced form."""
    A = _t(A)
    _check("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete"):
        raise ValueError(f"linalg.qr: mode must be 'reduced' or 'complete', got {mode!r}")
    m, n = A.shape[-2:]
    if m < n:  # wide: QR of the leading square block, R's right part is Q^T times the rest
        Q, U = QR("reduced")(narrow(A, -1, 0, m))
        return QRResult(Q, cat([U, _mT(Q) @ narrow(A, -1, m, n - m)], dim=-1))
    return QRResult(*QR(mode)(A))


# --- symmetric eigendecomposition -----------------------------------------------------------------------
class Eigh(Function):
    """A = V diag(l) V^T; grad_A = V (diag(g_l) + skew(V^T G_V)/2 / E) V^T, E_ij = l_j - l_i."""

    def __init__(self, uplo):
        self.uplo = uplo

    def forward(self, a):
        w, v = self.xp.linalg.eigh(a, UPLO=self.uplo)
        self.saved = (w, v)
        return w, v

    def backward(self, gl, gV):
        lam, V = self.output(0), self.output(1)
        S = 0.5 * _skew(_mT(V) @ gV)
        E = unsqueeze(lam, -2) - unsqueeze(lam, -1) + _eye(lam.shape[-1], lam)  # 1 on the diagonal
        return V @ (_div0(S, E) + _diag_embed(gl)) @ _mT(V)


def _uplo(name, UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError(f"{name}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending, (*, n)) and orthonormal eigenvectors (columns, (*, n, n)) of a symmetric A
    (*, n, n), reading the ``UPLO`` triangle: A = Q diag(l) Q^T (textbook 7.11). Gradients through the
    eigenvectors need distinct eigenvalues."""
    A = _t(A)
    _check("linalg.eigh", A)
    return EighResult(*Eigh(_uplo("linalg.eigh", UPLO))(A))


class EigvalsH(Function):
    """Eigenvalues alone; grad_A = V diag(g) V^T (defined for repeated eigenvalues too)."""

    def __init__(self, uplo):
        self.uplo = uplo

    def forward(self, a):
        w, v = self.xp.linalg.eigh(a, UPLO=self.uplo)
        self.saved = v
        return w

    def backward(self, gl):
        if is_grad_enabled():  # recording a graph: V as a function of A, for second derivatives
            V = Eigh(self.uplo)(self.inputs[0])[1]
        else:
            from ...autograd.tensor import _wrap

            V = _wrap(self.saved)
        return (V * unsqueeze(gl, -2)) @ _mT(V)


def eigvalsh(A, UPLO="L"):
    """Eigenvalues (ascending) of a symmetric A (*, n, n) -> (*, n)."""
    A = _t(A)
    _check("linalg.eigvalsh", A)
    return EigvalsH(_uplo("linalg.eigvalsh", UPLO))(A)


# --- singular value decomposition ---------------------------------------------------------------------
class SVD(Function):
    """A = U diag(s) Vh; PyTorch's svd_backward (distinct nonzero singular values for the U/V terms)."""

    def __init__(self, full):
        self.full = full

    def forward(self, a):
        u, s, vh = self.xp.linalg.svd(a, full_matrices=self.full)
        self.saved = (u, s, vh)
        return u, s, vh

    def backward(self, gU, gS, gVh):
        a = self.inputs[0]
        m, n = a.shape[-2:]
        k = min(m, n)
        U, S, Vh = self.output(0), self.output(1), self.output(2)
        if self.full:  # the extra columns of U / rows of Vh are arbitrary bases: their gradients are ignored
            U, gU = narrow(U, -1, 0, k), narrow(gU, -1, 0, k)
            Vh, gVh = narrow(Vh, -2, 0, k), narrow(gVh, -2, 0, k)
        V, gV = _mT(Vh), _mT(gVh)
        UhgU = _skew(_mT(U) @ gU)
        VhgV = _skew(_mT(V) @ gV)
        S2 = S * S
        E = unsqueeze(S2, -2) - unsqueeze(S2, -1) + _eye(k, S)
        gA = _div0(UhgU * unsqueeze(S, -2) + unsqueeze(S, -1) * VhgV, E) + _diag_embed(gS)
        if m > k:
            gUSinv = _div0(gU, unsqueeze(S, -2))
            gA = (U @ gA + gUSinv - U @ (_mT(U) @ gUSinv)) @ Vh
        elif n > k:
            SinvgVh = _div0(gVh, unsqueeze(S, -1))
            gA = U @ (gA @ Vh + SinvgVh - (SinvgVh @ V) @ Vh)
        else:
            gA = U @ gA @ Vh
        return gA


def svd(A, full_matrices=True):
    """A = U diag(S) Vh for A (*, m, n): U (*, m, k), S (*, k) descending, Vh (*, k, n), k = min(m, n)
    (``full_matrices=True``, PyTorch's default: U (*, m, m), Vh (*, n, n)). Gradients through U and Vh
    need distinct nonzero singular values; ``svdvals`` needs neither."""
    A = _t(A)
    _check("linalg.svd", A, square=False)
    return SVDResult(*SVD(bool(full_matrices))(A))


class SvdVals(Function):
    """Singular values alone; grad_A = U diag(g) Vh."""

    def forward(self, a):
        u, s, vh = self.xp.linalg.svd(a, full_matrices=False)
        self.saved = (u, vh)
        return s

    def backward(self, gs):
        if is_grad_enabled():  # recording a graph: U, Vh as functions of A
            U, _, Vh = SVD(False)(self.inputs[0])
        else:
            from ...autograd.tensor import _wrap

            U, Vh = _wrap(self.saved[0]), _wrap(self.saved[1])
        return (U * unsqueeze(gs, -2)) @ Vh


def svdvals(A):
    """Singular values of A (*, m, n), descending, (*, min(m, n))."""
    A = _t(A)
    _check("linalg.svdvals", A, square=False)
    return SvdVals()(A)
