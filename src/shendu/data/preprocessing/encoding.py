"""One-hot encoding of integer class labels (the target format of softmax output units, textbook 6.2.2.3)."""
from __future__ import annotations

import numpy as np

from ..dataset import to_numpy

__all__ = ["one_hot"]


def one_hot(labels, num_classes=None, dtype=np.float32):
    """labels (...) of ints in [0, num_classes) -> (..., num_classes) with 1 at the label, else 0."""
    y = to_numpy(labels, name="one_hot labels")
    if y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        elif y.size:
            raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
        else:
            y = y.astype(np.int64)
    if num_classes is None:
        if y.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty labels; pass num_classes")
        num_classes = int(y.max()) + 1
    num_classes = int(num_classes)
    if num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be >= 1, got {num_classes}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got range [{y.min()}, {y.max()}]")
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return out
