"""Per-image standardization (the CIFAR-10 example's per-sample normalization, TensorFlow-compatible).

y = (x - mean) / max(std, 1 / sqrt(M)), mean and std (ddof 0) over the M = C*H*W entries of
each image; the floor keeps uniform images finite.
"""
from __future__ import annotations

import numpy as np

from .base import Transform

__all__ = ["PerImageStandardization"]


class PerImageStandardization(Transform):
    """Standardize every image to mean 0 and std 1 (std floored at 1/sqrt(C*H*W))."""

    needs_float = True

    def __init__(self):
        super().__init__(0)

    def apply(self, x):
        m = x[0].size
        mean = x.mean(axis=(1, 2, 3), keepdims=True)
        std = x.std(axis=(1, 2, 3), keepdims=True)
        adjusted = np.maximum(std, np.asarray(1.0 / np.sqrt(m), dtype=x.dtype))
        return ((x - mean) / adjusted).astype(x.dtype, copy=False)
