"""Global and local contrast normalization (textbook 12.2.1.1, eqs. 12.1-12.3).

GCN (12.3): X' = s (X - mean(X)) / max(eps, sqrt(lam + mean((X - mean(X))^2))), the mean taken
over all pixels and channels of one image. LCN: the same with a local (Gaussian- or box-weighted)
mean and std around each pixel, computed with separable filters:
  v = X - k*X,  sigma = sqrt(k*(v^2)),  Y = v / max(eps, sqrt(lam + sigma^2)).
"""
from __future__ import annotations

import numpy as np

from ._base import as_float_array

__all__ = ["global_contrast_normalize", "local_contrast_normalize", "gaussian_kernel1d"]


def _check_reg(who, s, lam, eps):
    if lam < 0 or eps < 0:
        raise ValueError(f"{who}: lam and eps must be >= 0, got lam={lam}, eps={eps}")
    if not np.isfinite(s):
        raise ValueError(f"{who}: s must be finite, got {s}")


def global_contrast_normalize(X, s=1.0, lam=0.0, eps=1e-8, per_example=True):
    """GCN (textbook eq. 12.3) of each example: mean 0, contrast (pixel std) s when lam = 0.

    X: (N, ...) with `per_example` (each X[i] normalized over all its entries; a 1-D X is one
    example), or one image of any shape with per_example=False. A constant image maps to zeros
    (the 0/0 of eps = lam = 0 is guarded). Returns X's float dtype (ints -> float32).
    """
    _check_reg("global_contrast_normalize", s, lam, eps)
    X = as_float_array(X, "global_contrast_normalize")
    axes = tuple(range(1, X.ndim)) if per_example and X.ndim > 1 else None
    centered = X - X.mean(axis=axes, keepdims=True)
    contrast = np.sqrt(lam + np.mean(centered * centered, axis=axes, keepdims=True))
    denom = np.maximum(eps, contrast)
    denom = np.where(denom == 0, 1, denom)  # only when the image is constant (numerator 0 too)
    return (s * centered / denom).astype(X.dtype, copy=False)


def gaussian_kernel1d(size, sigma):
    """Normalized 1-D Gaussian weights exp(-t^2 / (2 sigma^2)), t = -(size//2)..size//2, summing to 1."""
    t = np.arange(size, dtype=np.float64) - size // 2
    w = np.exp(-0.5 * (t / sigma) ** 2)
    return w / w.sum()


def _filter1d(x, w, axis):
    """Correlate `x` with weights `w` along `axis`, symmetric ('reflect' in scipy.ndimage) borders."""
    r = len(w) // 2
    pad = [(0, 0)] * x.ndim
    pad[axis] = (r, r)
    xp = np.pad(x, pad, mode="symmetric")
    n = x.shape[axis]
    out = np.zeros_like(x)
    for i, wi in enumerate(w):
        out += wi * np.take(xp, np.arange(i, i + n), axis=axis)
    return out


def local_contrast_normalize(X, size=9, sigma=2.0, kernel="gaussian", lam=0.0, eps=1e-2,
                             across_channels=False):
    """LCN: subtract the local weighted mean and divide by the local weighted std (textbook 12.2.1.1).

    X: (..., H, W); with across_channels, (..., C, H, W) and the local statistics are also averaged
    over the C channels (each pixel normalized using all channels). kernel: 'gaussian' (std `sigma`)
    or 'box', both `size` x `size` (odd), separable. eps floors the local std (LCN needs more
    regularization than GCN: small windows often have ~zero std). Returns X's float dtype.
    """
    who = "local_contrast_normalize"
    _check_reg(who, 1.0, lam, eps)
    X = as_float_array(X, who, min_ndim=3 if across_channels else 2)
    if not isinstance(size, (int, np.integer)) or size < 1 or size % 2 == 0:
        raise ValueError(f"{who}: size must be a positive odd int, got {size!r}")
    if kernel == "gaussian":
        if not sigma > 0:
            raise ValueError(f"{who}: sigma must be > 0, got {sigma!r}")
        w = gaussian_kernel1d(size, sigma)
    elif kernel == "box":
        w = np.full(size, 1.0 / size)
    else:
        raise ValueError(f"{who}: kernel must be 'gaussian' or 'box', got {kernel!r}")
    w = w.astype(X.dtype)

    def smooth(a):
        a = _filter1d(_filter1d(a, w, a.ndim - 2), w, a.ndim - 1)
        return a.mean(axis=-3, keepdims=True) if across_channels else a

    v = X - smooth(X)
    sigma_loc2 = smooth(v * v)
    denom = np.maximum(eps, np.sqrt(lam + sigma_loc2))
    denom = np.where(denom == 0, 1, denom)
    return (v / denom).astype(X.dtype, copy=False)
