"""Small random rotations (textbook 7.4 and 12.2.1.2), NumPy only, vectorized over the batch.

Each output pixel p is sampled at R(theta)^-1 (p - c) + c of its input image (c = image centre),
with bilinear or nearest interpolation; points outside the image read `fill` (the shared `affine.warp`).
"""
from __future__ import annotations

import numbers

import numpy as np

from .affine import warp
from .base import Transform

__all__ = ["RandomRotation", "rotate"]


def rotate(x, angles_deg, fill=0.0, interpolation="bilinear"):
    """Rotate each image x[i] (N, C, H, W) counter-clockwise (as displayed) by angles_deg[i] degrees."""
    n = x.shape[0]
    theta = np.deg2rad(np.asarray(angles_deg, dtype=np.float64)).reshape(n)
    cos, sin = np.cos(theta), np.sin(theta)
    # inverse map: rows grow downwards, so a displayed counter-clockwise turn by theta reads from
    # (cos x - sin y, sin x + cos y) about the centre
    inverse = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], 1)
    return warp(x, inverse, None, fill, interpolation, who="rotate")


class RandomRotation(Transform):
    """Rotate each image by an angle uniform in [-degrees, degrees] (or in (lo, hi)) degrees."""

    needs_float = True

    def __init__(self, degrees, fill=0.0, interpolation="bilinear", rng=None):
        super().__init__(rng)
        if isinstance(degrees, numbers.Real):
            if degrees < 0:
                raise ValueError(f"RandomRotation: degrees must be >= 0, got {degrees}")
            degrees = (-float(degrees), float(degrees))
        lo, hi = (float(d) for d in degrees)
        if lo > hi:
            raise ValueError(f"RandomRotation: degrees range ({lo}, {hi}) has lo > hi")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"RandomRotation: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.degrees, self.fill, self.interpolation = (lo, hi), fill, interpolation

    def apply(self, x):
        angles = self.rng.uniform(self.degrees[0], self.degrees[1], x.shape[0])
        return rotate(x, angles, self.fill, self.interpolation)
