"""Autocast casts (textbook 12.1.6; PyTorch's autocast op lists): matmul/linear/conv run in the low-precision
dtype, softmax/log_softmax/losses in float32. Callers check ``AUTOCAST.dtype is not None`` first (one
thread-local attribute read), so nothing here runs when autocast is off. The casts are differentiable
``Cast`` ops, so gradients reach float32 master weights in float32."""
from __future__ import annotations

import numpy as np

from ..backend.device import device_of
from ..backend.lowp import AUTOCAST, is_floating

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def _eligible(t) -> bool:
    # torch: floating tensors other than float64, on the autocast's device type, are cast
    if t is None or not hasattr(t, "_data"):
        return False
    d = t._data
    if not is_floating(d.dtype) or d.dtype == _F64:
        return False
    return device_of(d).type == AUTOCAST.device_type


def to_lowp(*tensors):
    """The tensors cast to the autocast dtype (float16/bfloat16); float64 and non-float left alone."""
    dt = AUTOCAST.dtype
    return tuple(t.type(dt) if _eligible(t) and t._data.dtype != dt else t for t in tensors)


def to_fp32(*tensors):
    """The tensors cast to float32 (autocast's float32 list: softmax, log_softmax, losses)."""
    return tuple(t.type(_F32) if _eligible(t) and t._data.dtype != _F32 else t for t in tensors)
