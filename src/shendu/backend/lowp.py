"""Low-precision dtypes and the autocast switch (textbook 12.1.6).

``bfloat16`` comes from the ``ml_dtypes`` package on the CPU (NumPy has no native bfloat16); its NumPy
kind is ``'V'``, so code that asks "is this a floating dtype?" uses :func:`is_floating` instead of
``dtype.kind == 'f'``. ``AUTOCAST`` is the per-thread autocast state that matmul/linear/conv read with
one attribute check (``AUTOCAST.dtype is None`` when autocast is off)."""
from __future__ import annotations

import threading

import numpy as np

try:  # ml_dtypes is a declared dependency; keep import failure non-fatal for minimal installs
    import ml_dtypes as _ml

    bfloat16 = np.dtype(_ml.bfloat16)
except ImportError:  # pragma: no cover
    _ml = None
    bfloat16 = None

float16 = np.dtype(np.float16)
LOW_PRECISION = tuple(d for d in (float16, bfloat16) if d is not None)


def is_floating(dtype) -> bool:
    """True for float16/32/64, complex and bfloat16 (whose NumPy kind is 'V')."""
    dt = np.dtype(dtype)
    return dt.kind in "fc" or (bfloat16 is not None and dt == bfloat16)


def finfo(dtype):
    """``finfo`` that also knows bfloat16 (eps 2^-7, max ~3.39e38)."""
    dt = np.dtype(dtype)
    if bfloat16 is not None and dt == bfloat16:
        return _ml.finfo(dt)
    return np.finfo(dt)


class _AutocastState(threading.local):
    """Per-thread autocast: ``dtype`` is the low-precision compute dtype inside ``amp.autocast``, else None."""

    dtype = None
    device_type = None


AUTOCAST = _AutocastState()
