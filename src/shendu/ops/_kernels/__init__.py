"""Optional compiled CPU kernels (numba ``njit``, cache=True) for hot loops that the NumPy path does as many
passes over memory (issue 20): today the backward scatter of 2-D max pooling (ops/pool.py).

Opt-in: used only with ``SHENDU_NUMBA=1``. Measured on the shared 2-core machine (benchmarks/kernels_ab.py,
same-run alternation): training steps of cifar_cnn, mnist_cnn and lenet 1.01x faster at load ~1.5 (up to ~4%
at load ~6), while importing numba and loading the compiled kernel add ~90 MiB to the process's peak RSS
(mnist_cnn's training loop 144 -> 237 MiB, PyTorch's 176 MiB) and ~0.6 s (cache hit) to 1 s (cold compile)
to the first backward. The NumPy kernels stay the reference and the fallback: a compiled kernel runs only
when numba imports and every array is a host NumPy array of float32/float64 (CuPy and the strict stand-in
device always take the existing path). numba is imported lazily at the first call that qualifies, never by
``import shendu`` or ``shendu train``'s default recipe (an MLP).
"""
from __future__ import annotations

import os

import numpy as np

_STATE = {"mod": None, "tried": False}
#: dtypes the compiled kernels take (others fall back to NumPy)
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def enabled() -> bool:
    """True with SHENDU_NUMBA=1 (read at each call, so it can be switched at run time)."""
    return os.environ.get("SHENDU_NUMBA", "0") == "1"


def pool_kernels():
    """The compiled pooling kernels module, or None (disabled, numba absent, or failed to import)."""
    if not enabled():
        return None
    if not _STATE["tried"]:
        _STATE["tried"] = True
        try:
            from . import _pool  # imports numba

            _STATE["mod"] = _pool
        except Exception:  # pragma: no cover - depends on the machine
            _STATE["mod"] = None
    return _STATE["mod"]


def host_ok(*arrays) -> bool:
    """Every array a host NumPy array of a dtype the kernels take."""
    return all(type(a) is np.ndarray and a.dtype in DTYPES for a in arrays)


def maxpool2d_backward(kern, gy, idx, k, s, d, pads, x_shape):
    """gx of 2-D max pooling by the compiled scatter ``kern.maxpool2d_bwd``: gy (N, C, Ho, Wo), idx its arg-max
    taps (uint8, NCHW), geometry as shendu.ops.pool.MaxPoolNd. Reference: shendu.reference.pool.max_pool2d_backward."""
    nc = x_shape[0] * x_shape[1]
    osz = gy.shape[2:]
    gx = np.empty(x_shape, dtype=gy.dtype)
    kern.maxpool2d_bwd(np.ascontiguousarray(gy).reshape((nc,) + osz), np.ascontiguousarray(idx).reshape((nc,) + osz),
                       k[1], s[0], s[1], d[0], d[1], pads[0][0], pads[1][0], gx.reshape((nc,) + tuple(x_shape[2:])))
    return gx
