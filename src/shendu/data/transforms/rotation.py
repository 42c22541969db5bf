"""Small random rotations (textbook 7.4 and 12.2.1.2), NumPy only, vectorized over the batch.

Each output pixel p is sampled at R(theta)^-1 (p - c) + c of its input image (c = image centre),
with bilinear or nearest interpolation; points outside the image read `fill`.
"""
from __future__ import annotations

import numbers

import numpy as np

from .base import Transform

__all__ = ["RandomRotation", "rotate"]


def rotate(x, angles_deg, fill=0.0, interpolation="bilinear"):
    """Rotate each image x[i] (N, C, H, W) counter-clockwise (as displayed) by angles_deg[i] degrees."""
    n, _, H, W = x.shape
    theta = np.deg2rad(np.asarray(angles_deg, dtype=np.float64)).reshape(n, 1, 1)
    cos, sin = np.cos(theta), np.sin(theta)
    cy, cx = (H - 1) / 2.0, (W - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(H) - cy, np.arange(W) - cx, indexing="ij")
    # inverse map: rows grow downwards, so a displayed counter-clockwise turn by theta reads from
    src_x = cos * xx - sin * yy + cx
    src_y = sin * xx + cos * yy + cy
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="constant", constant_values=fill)
    src_x, src_y = src_x + 1.0, src_y + 1.0  # coordinates in the padded image
    batch = np.arange(n).reshape(n, 1, 1)

    def gather(iy, ix):
        iy = np.clip(iy, 0, H + 1)
        ix = np.clip(ix, 0, W + 1)
        return xp[batch, :, iy, ix]  # (N, H, W, C)

    if interpolation == "nearest":
        out = gather(np.rint(src_y).astype(np.intp), np.rint(src_x).astype(np.intp))
    elif interpolation == "bilinear":
        x0f, y0f = np.floor(src_x), np.floor(src_y)
        wx, wy = (src_x - x0f)[..., None], (src_y - y0f)[..., None]
        x0, y0 = x0f.astype(np.intp), y0f.astype(np.intp)
        out = ((1 - wy) * ((1 - wx) * gather(y0, x0) + wx * gather(y0, x0 + 1))
               + wy * ((1 - wx) * gather(y0 + 1, x0) + wx * gather(y0 + 1, x0 + 1)))
    else:
        raise ValueError(f"rotate: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2)).astype(x.dtype, copy=False)


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
