"""SciPy's BLAS on host arrays (an optional dependency) for the few calls NumPy does not expose: an axpy
(``optim.sgd``) and a GEMM that adds into its output (``gemm_bias``). Each caller keeps its NumPy path for when
SciPy is missing or the arrays are not plain C-contiguous float32/float64 host arrays (devices never come here).
"""
from __future__ import annotations

import numpy as np

try:
    from scipy.linalg import blas
except ImportError:  # pragma: no cover - then every caller's NumPy path
    blas = None


#: Below this many multiply-adds SciPy's call overhead (~0.4 us) outweighs the saved pass: 32 x 64 -> 64 ran 4-6%
#: slower, 128 x 256 -> 10 and 64 x 128 -> 128 4-11% faster (``python benchmarks/mlp.py --gemm-bias``).
GEMM_BIAS_MIN_MACS = 1 << 18


def gemm_bias(x, w, b):
    """y = x W^T + b as one GEMM with beta = 1 on y pre-filled with b (textbook 6.1's affine map), or None when
    not applicable. x (n, in), W (out, in), b (out,): C-contiguous host arrays of one dtype, float32 or float64.
    The bias pass folds into the GEMM's own write of y: F.linear 2-3.5% faster at 1024 rows (784 -> 512, 512 ->
    256), 7% at 128 rows, 1.2-1.4% for word_lm's decoder (2026-11-30, 1 BLAS thread,
    ``python benchmarks/mlp.py --gemm-bias``); the product is computed as W x^T in BLAS's
    column-major view of y, so no operand is copied."""
    if (blas is None or x.shape[0] * w.shape[0] * w.shape[-1] < GEMM_BIAS_MIN_MACS or type(x) is not np.ndarray
            or type(w) is not np.ndarray or type(b) is not np.ndarray
            or not (x.dtype == w.dtype == b.dtype) or x.dtype.char not in "fd" or x.ndim != 2
            or not (x.flags.c_contiguous and w.flags.c_contiguous) or max(x.shape + w.shape) >= 2**31):
        return None
    y = np.empty((x.shape[0], w.shape[0]), dtype=x.dtype)
    y[...] = b
    if y.size:
        (blas.sgemm if x.dtype.char == "f" else blas.dgemm)(1.0, w.T, x.T, beta=1.0, c=y.T, trans_a=True,
                                                            overwrite_c=True)
    return y
