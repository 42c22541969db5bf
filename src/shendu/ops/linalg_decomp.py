"""Linear algebra with PyTorch's ``torch.linalg`` names: solve, inv, det, slogdet, cholesky, qr, eigh,
eigvalsh, svd, svdvals, pinv and the vector/matrix norms (textbook 2.x linear algebra; used by the
quadratic analysis of weight decay, textbook 7.1.1 (7.8-7.17), and the pseudo-inverse limit (7.29)).

Every op works on a batch of matrices (..., m, n) and runs its forward through the input's array
namespace (``xp.linalg``: NumPy on the host, CuPy on a GPU). Backward rules are written with shendu's
differentiable ops (matmul, solve, inv, ...), so second derivatives come with ``create_graph=True``.
The rules are the standard ones PyTorch uses (Giles 2008; Murray 2016 for Cholesky; eigh/svd need
distinct eigen/singular values for the gradients through the vectors).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.tensor import Tensor, as_tensor
from .creation import eye
from .elementwise import abs as _abs
from .elementwise import where
from .linalg import tril, triu
from .reduce import amax, amin
from .reduce import norm as _norm
from .reduce import sum as _sum
from .shape import broadcast_to, cat, narrow, permute, squeeze, transpose, unsqueeze


class LinAlgError(ValueError, RuntimeError):
    """A matrix the op cannot handle (singular, not positive-definite); ``torch.linalg.LinAlgError``."""


SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
QRResult = namedtuple("QRResult", ["Q", "R"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


# --- helpers ----------------------------------------------------------------------------------------
def _t(x):
    return x if isinstance(x, Tensor) else as_tensor(x)


def _check(name, A, square=True, min_ndim=2):
    """Validate a (batch of) matrix input: floating dtype, at least 2 dims, square if asked."""
    if A.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {A.dtype}")
    if A.ndim < min_ndim:
        raise ValueError(
            f"{name}: expected a tensor of shape (*, m, n) with at least {min_ndim} dims, got shape {tuple(A.shape)}"
        )
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{name}: expected a batch of square matrices (*, n, n), got shape {tuple(A.shape)}")


def _lapack(name, shape, what, fn, *args, **kw):
    """Run an ``xp.linalg`` routine; a LinAlgError from it becomes ours, naming the op and the shape."""
    try:
        return fn(*args, **kw)
    except Exception as e:  # numpy.linalg.LinAlgError / cupy.linalg.LinAlgError
        if type(e).__name__ != "LinAlgError":
            raise
        raise LinAlgError(f"{name}: the input of shape {tuple(shape)} is {what} ({e})") from None


def _all(xp, cond) -> bool:
    return bool(xp.all(cond))


def _mT(x):
    return transpose(x, -2, -1)


def _eye(n, like):
    return eye(n, dtype=like.dtype, device=like.device)


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal (differentiable)."""
    return unsqueeze(v, -1) * _eye(v.shape[-1], v)


def _skew(x):
    return x - _mT(x)


def _div0(num, den):
    """num / den, with 0 where both are 0 (a gradient that is absent, given as zeros, through a repeated
    eigen/singular value); a nonzero num over 0 stays inf, as in PyTorch."""
    from .elementwise import logical_and

    return num / where(logical_and(den == 0, num == 0), 1.0, den)


def _expand2(g):
    """A gradient of a per-matrix scalar (...,) as (..., 1, 1)."""
    return unsqueeze(unsqueeze(g, -1), -1)


# --- solve / inv / det / slogdet ----------------------------------------------------------------------
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


# --- Cholesky / QR ------------------------------------------------------------------------------------
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
            from ..autograd.tensor import _wrap

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
            from ..autograd.tensor import _wrap

            U, Vh = _wrap(self.saved[0]), _wrap(self.saved[1])
        return (U * unsqueeze(gs, -2)) @ Vh


def svdvals(A):
    """Singular values of A (*, m, n), descending, (*, min(m, n))."""
    A = _t(A)
    _check("linalg.svdvals", A, square=False)
    return SvdVals()(A)


# --- pseudo-inverse -------------------------------------------------------------------------------------
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


# --- small compositions ------------------------------------------------------------------------------------
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


def _tolerance(s, shape, atol, rtol):
    """max(atol, rtol * s_max) per matrix, (*, 1), for singular values s (*, k) (PyTorch's defaults)."""
    from .elementwise import maximum

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
