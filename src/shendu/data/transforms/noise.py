"""Gaussian input-noise injection (textbook 7.5, noise robustness; 7.4: noise on the inputs as augmentation)."""
from __future__ import annotations

from .base import Transform

__all__ = ["GaussianNoise"]


class GaussianNoise(Transform):
    """x + e with e ~ N(0, std^2) drawn independently for every entry; keeps x's float dtype."""

    needs_float = True
    image_only = False  # any input shape (N, ...)

    def __init__(self, std, rng=None):
        super().__init__(rng)
        if not std >= 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = float(std)

    def apply(self, x):
        return (x + self.rng.normal(0.0, self.std, size=x.shape).astype(x.dtype)).astype(x.dtype, copy=False)
