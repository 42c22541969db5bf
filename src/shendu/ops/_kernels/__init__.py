"""Optional compiled CPU kernels (numba ``njit``, cache=True) for hot loops the NumPy path does as many passes
over memory (issue 20): today the backward scatter of 2-D max pooling.

The NumPy kernels in ``shendu.ops`` stay the reference and the fallback: a compiled kernel is used only when
numba imports, ``SHENDU_NUMBA`` is not "0", and every array is a host NumPy array of float32/float64 (CuPy and
the strict stand-in device always take the existing path). numba is imported lazily at the first call that
qualifies, never by ``import shendu``; the first compile costs about 2-4 s per signature on this machine, later
processes load it from numba's on-disk cache (~0.1 s).
"""
from __future__ import annotations

import os

import numpy as np

_STATE = {"mod": None, "tried": False}
#: dtypes the compiled kernels take (others fall back to NumPy)
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def enabled() -> bool:
    """True unless SHENDU_NUMBA=0 (checked at each call, so tests can switch it)."""
    return os.environ.get("SHENDU_NUMBA", "1") != "0"


def pool_kernels():
    """The compiled pooling kernels module, or None (numba absent, disabled, or failed to import)."""
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
