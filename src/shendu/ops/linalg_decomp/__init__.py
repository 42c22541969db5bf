"""Linear algebra with PyTorch's ``torch.linalg`` names (textbook 2.x linear algebra; used by the quadratic
analysis of weight decay, textbook 7.1.1 (7.8-7.17), and the pseudo-inverse limit (7.29)), by concept:

- ``inverse``: solve, inv, det, slogdet, matrix_power, multi_dot, vecdot;
- ``factor``: cholesky, qr, eigh/eigvalsh, svd/svdvals;
- ``spectral``: pinv, vector/matrix norms, matrix_rank, cond.

Every op works on a batch of matrices (..., m, n) and runs its forward through the input's array
namespace (``xp.linalg``: NumPy on the host, CuPy on a GPU). Backward rules are written with shendu's
differentiable ops (matmul, solve, inv, ...), so second derivatives come with ``create_graph=True``.
The rules are the standard ones PyTorch uses (Giles 2008; Murray 2016 for Cholesky; eigh/svd need
distinct eigen/singular values for the gradients through the vectors).
"""
from ._common import EighResult, LinAlgError, QRResult, SlogdetResult, SVDResult  # noqa: F401
from .factor import QR, SVD, Cholesky, Eigh, EigvalsH, SvdVals, cholesky, eigh, eigvalsh, qr, svd, svdvals  # noqa: F401
from .inverse import Det, Inv, SlogDet, Solve, det, inv, matrix_power, multi_dot, slogdet, solve, vecdot  # noqa: F401
from .spectral import Pinv, cond, matrix_norm, matrix_rank, norm, pinv, vector_norm  # noqa: F401
