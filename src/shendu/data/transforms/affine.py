"""Affine image augmentation (textbook 7.4: translate, rotate, scale; texts 003/004 also skew/shear), NumPy only,
vectorized over the batch.

Coordinates: x to the right, y downwards, origin at the image centre c. A forward map A (2x2, in (x, y) order) and a
translation t move the content point q to A (q - c) + c + t; each output pixel p is sampled at its source
A^-1 (p - c - t) + c with bilinear or nearest interpolation; points outside the image read ``fill``.
"""
from __future__ import annotations

import numbers

import numpy as np

from .base import Transform

__all__ = ["affine", "warp", "zoom", "shear", "affine_matrices", "RandomZoom", "RandomShear", "RandomAffine"]

_INTERP = ("bilinear", "nearest")


def warp(x, inverse, offset=None, fill=0.0, interpolation="bilinear", who="warp"):
    """Sample each image x[i] (N, C, H, W) at src = inverse[i] @ (p - c) + c + offset[i] for every output pixel p
    (centred (x, y) coordinates; inverse (N, 2, 2), offset (N, 2) in pixels, default 0). Returns x's shape/dtype."""
    if interpolation not in _INTERP:
        raise ValueError(f"{who}: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    n, _, H, W = x.shape
    inv = np.asarray(inverse, dtype=np.float64).reshape(n, 2, 2)
    off = np.zeros((n, 2)) if offset is None else np.asarray(offset, dtype=np.float64).reshape(n, 2)
    cy, cx = (H - 1) / 2.0, (W - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(H) - cy, np.arange(W) - cx, indexing="ij")
    a, b = inv[:, 0, 0, None, None], inv[:, 0, 1, None, None]
    c, d = inv[:, 1, 0, None, None], inv[:, 1, 1, None, None]
    src_x = a * xx + b * yy + cx + off[:, 0, None, None]
    src_y = c * xx + d * yy + cy + off[:, 1, None, None]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="constant", constant_values=fill)
    src_x, src_y = src_x + 1.0, src_y + 1.0  # coordinates in the padded image
    # anything farther than one pixel outside reads the padding
    src_x = np.clip(src_x, -0.5, W + 1.5)
    src_y = np.clip(src_y, -0.5, H + 1.5)
    batch = np.arange(n).reshape(n, 1, 1)

    def gather(iy, ix):
        iy = np.clip(iy, 0, H + 1)
        ix = np.clip(ix, 0, W + 1)
        return xp[batch, :, iy, ix]  # (N, H, W, C)

    if interpolation == "nearest":
        out = gather(np.rint(src_y).astype(np.intp), np.rint(src_x).astype(np.intp))
    else:
        x0f, y0f = np.floor(src_x), np.floor(src_y)
        wx, wy = (src_x - x0f)[..., None], (src_y - y0f)[..., None]
        x0, y0 = x0f.astype(np.intp), y0f.astype(np.intp)
        out = ((1 - wy) * ((1 - wx) * gather(y0, x0) + wx * gather(y0, x0 + 1))
               + wy * ((1 - wx) * gather(y0 + 1, x0) + wx * gather(y0 + 1, x0 + 1)))
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2)).astype(x.dtype, copy=False)


def affine(x, matrices, translations=None, fill=0.0, interpolation="bilinear"):
    """Apply forward maps: content point q goes to matrices[i] (q - c) + c + translations[i] (pixels, (x, y)).
    x (N, C, H, W); matrices (N, 2, 2) or one (2, 2) for all; translations (N, 2) or None."""
    n = x.shape[0]
    m = np.broadcast_to(np.asarray(matrices, dtype=np.float64), (n, 2, 2))
    det = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    if np.any(np.abs(det) < 1e-12):
        raise ValueError(f"affine: the 2x2 maps must be invertible, got determinants {det[np.abs(det) < 1e-12]}")
    inv = np.linalg.inv(m)
    off = None
    if translations is not None:
        t = np.broadcast_to(np.asarray(translations, dtype=np.float64), (n, 2))
        off = -np.einsum("nij,nj->ni", inv, t)
    return warp(x, inv, off, fill, interpolation, who="affine")


def affine_matrices(angles_deg=0.0, scales=1.0, shears_deg=0.0, n=1):
    """Forward 2x2 maps R(angle) @ Shear(shear) @ diag(scale, scale), (n, 2, 2); R turns counter-clockwise as
    displayed (y down), Shear moves (x, y) to (x + tan(shear) y, y)."""
    th = np.deg2rad(np.broadcast_to(np.asarray(angles_deg, dtype=np.float64), (n,)))
    s = np.broadcast_to(np.asarray(scales, dtype=np.float64), (n,))
    k = np.tan(np.deg2rad(np.broadcast_to(np.asarray(shears_deg, dtype=np.float64), (n,))))
    cos, sin = np.cos(th), np.sin(th)
    R = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], 1)  # y down: displayed CCW
    Sh = np.zeros((n, 2, 2))
    Sh[:, 0, 0] = Sh[:, 1, 1] = 1.0
    Sh[:, 0, 1] = k
    return R @ Sh * s[:, None, None]


def zoom(x, factors, fill=0.0, interpolation="bilinear"):
    """Scale each image x[i] (N, C, H, W) about its centre by factors[i] (> 1 enlarges, < 1 shrinks)."""
    f = np.broadcast_to(np.asarray(factors, dtype=np.float64), (x.shape[0],))
    if np.any(f <= 0):
        raise ValueError(f"zoom: scale factors must be > 0, got {f[f <= 0]}")
    return affine(x, affine_matrices(scales=f, n=x.shape[0]), None, fill, interpolation)


def shear(x, degrees, fill=0.0, interpolation="bilinear"):
    """Shear each image x[i] horizontally: (x, y) -> (x + tan(degrees[i]) y, y) about the centre (y down)."""
    d = np.broadcast_to(np.asarray(degrees, dtype=np.float64), (x.shape[0],))
    if np.any(np.abs(d) >= 90):
        raise ValueError(f"shear: angles must be in (-90, 90) degrees, got {d[np.abs(d) >= 90]}")
    return affine(x, affine_matrices(shears_deg=d, n=x.shape[0]), None, fill, interpolation)


def _range(who, name, value, centre, lo_bound=None, hi_bound=None):
    """(lo, hi) from a pair, or centre -+ value from a number."""
    if isinstance(value, numbers.Real):
        if value < 0:
            raise ValueError(f"{who}: {name} must be >= 0, got {value}")
        lo, hi = centre - float(value), centre + float(value)
    else:
        try:
            lo, hi = (float(v) for v in value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{who}: {name} must be a number or a pair (lo, hi), got {value!r}") from exc
    if lo > hi or (lo_bound is not None and lo <= lo_bound) or (hi_bound is not None and hi >= hi_bound):
        raise ValueError(f"{who}: {name} range ({lo}, {hi}) must have lo <= hi and lie in "
                         f"({lo_bound}, {hi_bound})")
    return lo, hi


def _check_interp(who, interpolation):
    if interpolation not in _INTERP:
        raise ValueError(f"{who}: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")


class RandomZoom(Transform):
    """Scale each image about its centre by a factor uniform in ``scale`` = (lo, hi), or (1 - s, 1 + s) for a
    number s (> 1 enlarges; textbook 7.4, 'scale')."""

    needs_float = True

    def __init__(self, scale=0.1, fill=0.0, interpolation="bilinear", rng=None):
        super().__init__(rng)
        self.scale = _range("RandomZoom", "scale", scale, 1.0, 0.0, None)
        _check_interp("RandomZoom", interpolation)
        self.fill, self.interpolation = fill, interpolation

    def apply(self, x):
        return zoom(x, self.rng.uniform(*self.scale, x.shape[0]), self.fill, self.interpolation)


class RandomShear(Transform):
    """Shear each image horizontally by an angle uniform in [-degrees, degrees] (or (lo, hi)): (x, y) ->
    (x + tan(angle) y, y) about the centre, y down (skew, asked for by texts 003 and 004)."""

    needs_float = True

    def __init__(self, degrees=10.0, fill=0.0, interpolation="bilinear", rng=None):
        super().__init__(rng)
        self.degrees = _range("RandomShear", "degrees", degrees, 0.0, -90.0, 90.0)
        _check_interp("RandomShear", interpolation)
        self.fill, self.interpolation = fill, interpolation

    def apply(self, x):
        return shear(x, self.rng.uniform(*self.degrees, x.shape[0]), self.fill, self.interpolation)


class RandomAffine(Transform):
    """Random rotation, scale, shear and translation in one resampling (torchvision's ``RandomAffine``):
    forward map R(angle) Shear(shear) diag(s, s) about the centre, then a shift (tx W, ty H) with tx, ty uniform in
    [-translate[0], translate[0]], [-translate[1], translate[1]]. degrees / shear: number d (-d, d) or (lo, hi);
    scale: (lo, hi) or None."""

    needs_float = True

    def __init__(self, degrees=0.0, translate=None, scale=None, shear=None, fill=0.0, interpolation="bilinear",
                 rng=None):
        super().__init__(rng)
        self.degrees = _range("RandomAffine", "degrees", degrees, 0.0)
        if translate is not None:
            tx, ty = (float(v) for v in translate)
            if not (0.0 <= tx <= 1.0 and 0.0 <= ty <= 1.0):
                raise ValueError(f"RandomAffine: translate fractions must be in [0, 1], got {translate!r}")
            translate = (tx, ty)
        self.translate = translate
        self.scale = None if scale is None else _range("RandomAffine", "scale", scale, 1.0, 0.0, None)
        self.shear = None if shear is None else _range("RandomAffine", "shear", shear, 0.0, -90.0, 90.0)
        _check_interp("RandomAffine", interpolation)
        self.fill, self.interpolation = fill, interpolation

    def apply(self, x):
        n, _, H, W = x.shape
        u = self.rng.uniform
        ang = u(*self.degrees, n)
        sc = u(*self.scale, n) if self.scale else np.ones(n)
        sh = u(*self.shear, n) if self.shear else np.zeros(n)
        t = None
        if self.translate:
            t = np.stack([u(-1, 1, n) * self.translate[0] * W, u(-1, 1, n) * self.translate[1] * H], axis=1)
        return affine(x, affine_matrices(ang, sc, sh, n), t, self.fill, self.interpolation)
