"""Shared pieces of the ``torch.linalg`` ops: the LinAlgError, result tuples, input checks, LAPACK error
translation and small differentiable helpers (transpose of the last two dims, skew part, safe division)."""
from __future__ import annotations

from collections import namedtuple

from ...autograd.tensor import Tensor, as_tensor
from ..creation import eye
from ..elementwise import where
from ..shape import transpose, unsqueeze


class LinAlgError(ValueError, RuntimeError):
    """A matrix the op cannot handle (singular, not positive-definite); ``torch.linalg.LinAlgError``."""


SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
QRResult = namedtuple("QRResult", ["Q", "R"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])

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
    from ..elementwise import logical_and

    return num / where(logical_and(den == 0, num == 0), 1.0, den)


def _expand2(g):
    """A gradient of a per-matrix scalar (...,) as (..., 1, 1)."""
    return unsqueeze(unsqueeze(g, -1), -1)

