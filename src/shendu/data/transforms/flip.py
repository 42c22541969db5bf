"""Random horizontal flips (textbook 7.4 and 12.2.1.2: flips are class-preserving for many objects)."""
from __future__ import annotations

from .base import Transform

__all__ = ["RandomHorizontalFlip"]


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right (W axis) independently with probability `p`."""

    def __init__(self, p=0.5, rng=None):
        super().__init__(rng)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must lie in [0, 1], got {p}")
        self.p = float(p)

    def apply(self, x):
        flip = self.rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip, :, :, ::-1]
        return out
