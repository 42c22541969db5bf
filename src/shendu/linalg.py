"""``sd.linalg``: PyTorch's ``torch.linalg`` names, batched over leading dims and differentiable
(second derivatives too). See ``shendu.ops.linalg_decomp`` for the rules.

    import shendu as sd
    w = sd.linalg.solve(X.T @ X + alpha * sd.eye(n), X.T @ y)   # ridge, textbook 7.17
    lam, Q = sd.linalg.eigh(H)                                  # H = Q diag(lam) Q^T, textbook 7.11
"""
from .ops.linalg import diagonal as _diagonal
from .ops.linalg import matmul  # noqa: F401
from .ops.linalg_decomp import (  # noqa: F401
    EighResult,
    LinAlgError,
    QRResult,
    SlogdetResult,
    SVDResult,
    cholesky,
    cond,
    det,
    eigh,
    eigvalsh,
    inv,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
    vecdot,
    vector_norm,
)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of a batch of matrices (``torch.linalg.diagonal``: dims -2, -1 by default)."""
    return _diagonal(A, offset, dim1, dim2)


__all__ = [
    "cholesky",
    "cond",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
    "LinAlgError",
    "EighResult",
    "QRResult",
    "SlogdetResult",
    "SVDResult",
]
