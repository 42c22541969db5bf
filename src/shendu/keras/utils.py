"""Keras utilities: ``to_categorical`` (one-hot labels, text 004's MNIST example)."""
from __future__ import annotations

import numpy as np

from ..backend import to_host

__all__ = ["to_categorical"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot matrix of integer labels y: (..., ) -> (..., num_classes) as a NumPy array (Keras semantics:
    a trailing axis of size 1 is dropped; num_classes defaults to max(y) + 1)."""
    y = np.asarray(to_host(y._data) if hasattr(y, "_data") else y)
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError("to_categorical: labels must be integers, got non-integer floats")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(f"to_categorical: labels must be integers, got dtype {y.dtype}")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    num_classes = int(num_classes)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must lie in [0, {num_classes}), got min {y.min()}, max {y.max()}")
    out = np.zeros(y.shape + (num_classes,), dtype=np.dtype(dtype))
    np.put_along_axis(out, y[..., None].astype(np.int64), 1, axis=-1)
    return out
