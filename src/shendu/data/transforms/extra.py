"""Chapter-12 image preprocessing and augmentation (textbook 12.2.1; NumPy, host side, (N, C, H, W) batches):

* :func:`resize` / :class:`Resize`: rescale to a standard size (12.2.1.1), bilinear as PyTorch
  ``F.interpolate(mode='bilinear', align_corners=False)`` (no antialiasing) or nearest;
* :class:`PCAColorJitter` (AlexNet colour perturbation, 12.2.1.2): add V (alpha * lambda) to every pixel of an
  image, alpha ~ N(0, std^2) per image, (lambda, V) the eigen-decomposition of the RGB covariance of the data;
* :class:`ElasticDistortion` (Simard et al. 2003, nonlinear geometric distortion): a random displacement field
  U(-1, 1) smoothed by a Gaussian of width ``sigma`` and scaled by ``alpha``, applied by bilinear resampling;
* :class:`RangeCheck`: warns once when [0, 1]-scaled and [0, 255]-scaled batches are mixed (12.2.1);
* :func:`tta_predict` / :func:`ten_crop_views`: test-time augmentation, the average of the predictions over
  several views of each test image (AlexNet's 10 crops: 4 corners + centre, and their mirror images).
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .base import Transform, pair

__all__ = ["resize", "Resize", "PCAColorJitter", "fit_pca_color", "ElasticDistortion", "elastic_field",
           "warp_by_field", "RangeCheck", "tta_predict", "ten_crop_views", "flip_views"]


def _src_coords(n_out, n_in):
    """Source coordinates of output pixels, align_corners=False (PyTorch), clamped at 0."""
    s = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    return np.clip(s, 0, None)


def resize(x, size, interpolation="bilinear"):
    """Resample images (N, C, H, W) or (C, H, W) to ``size`` = (h, w) (or an int for both): bilinear
    (PyTorch's F.interpolate, align_corners=False, no antialias) or nearest. Keeps the float dtype."""
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"resize: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"resize: expected images (N, C, H, W) or (C, H, W), got shape {x.shape}")
    h, w = pair(size, "resize")
    if h < 1 or w < 1:
        raise ValueError(f"resize: size must be >= 1, got {size!r}")
    single = x.ndim == 3
    xb = x[None] if single else x
    dt = xb.dtype if np.issubdtype(xb.dtype, np.floating) else np.float32
    H, W = xb.shape[2:]
    if interpolation == "nearest":
        iy = np.minimum(np.floor(np.arange(h) * (H / h)).astype(np.intp), H - 1)
        ix = np.minimum(np.floor(np.arange(w) * (W / w)).astype(np.intp), W - 1)
        out = xb[:, :, iy][:, :, :, ix].astype(dt)
    else:
        sy, sx = _src_coords(h, H), _src_coords(w, W)
        y0 = np.minimum(np.floor(sy).astype(np.intp), H - 1)
        x0 = np.minimum(np.floor(sx).astype(np.intp), W - 1)
        y1, x1 = np.minimum(y0 + 1, H - 1), np.minimum(x0 + 1, W - 1)
        wy = (sy - y0)[:, None].astype(dt)
        wx = (sx - x0)[None, :].astype(dt)
        xf = xb.astype(dt)
        top = xf[:, :, y0][:, :, :, x0] * (1 - wx) + xf[:, :, y0][:, :, :, x1] * wx
        bot = xf[:, :, y1][:, :, :, x0] * (1 - wx) + xf[:, :, y1][:, :, :, x1] * wx
        out = top * (1 - wy) + bot * wy
    return out[0] if single else out


class Resize(Transform):
    """Rescale every image to ``size`` (h, w); or by ``scale`` (a factor) when size is None (textbook 12.2.1.1:
    a standard input size)."""

    def __init__(self, size=None, scale=None, interpolation="bilinear"):
        super().__init__(0)
        if (size is None) == (scale is None):
            raise ValueError("Resize: give exactly one of size and scale")
        if scale is not None and not (isinstance(scale, numbers.Real) and scale > 0):
            raise ValueError(f"Resize: scale must be a positive number, got {scale!r}")
        self.size, self.scale, self.interpolation = size, scale, interpolation

    def apply(self, x):
        size = self.size
        if size is None:
            size = (max(1, int(np.floor(x.shape[2] * self.scale))), max(1, int(np.floor(x.shape[3] * self.scale))))
        return resize(x, size, self.interpolation)


def fit_pca_color(images):
    """Eigenvalues (3,) (descending) and eigenvectors (3, 3) (columns) of the covariance of the RGB values of
    all pixels of ``images`` (N, 3, H, W) (AlexNet's colour PCA)."""
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"fit_pca_color: expected RGB images (N, 3, H, W), got shape {x.shape}")
    px = x.transpose(0, 2, 3, 1).reshape(-1, 3)
    lam, vec = np.linalg.eigh(np.cov(px, rowvar=False))
    order = np.argsort(lam)[::-1]
    return lam[order], vec[:, order]


class PCAColorJitter(Transform):
    """AlexNet colour augmentation: x + V (alpha * lambda) added to every pixel of an image, one
    alpha ~ N(0, std^2) (3,) per image (std 0.1 in the paper). ``eigvals`` (3,), ``eigvecs`` (3, 3) columns,
    from :func:`fit_pca_color`. The last draw is kept as ``last_alpha`` (N, 3)."""

    needs_float = True

    def __init__(self, eigvals, eigvecs, std=0.1, rng=None):
        super().__init__(rng)
        self.eigvals = np.asarray(eigvals, dtype=np.float64).reshape(3)
        self.eigvecs = np.asarray(eigvecs, dtype=np.float64).reshape(3, 3)
        if std < 0:
            raise ValueError(f"PCAColorJitter: std must be >= 0, got {std}")
        self.std = std
        self.last_alpha = None

    def apply(self, x):
        if x.shape[1] != 3:
            raise ValueError(f"PCAColorJitter: expected 3 colour channels, got shape {x.shape}")
        alpha = self.rng.normal(0.0, self.std, size=(x.shape[0], 3))
        self.last_alpha = alpha
        shift = (alpha * self.eigvals) @ self.eigvecs.T            # (N, 3) = V (alpha * lambda) per image
        return (x + shift[:, :, None, None]).astype(x.dtype)


def _gauss_blur(f, sigma):
    """Separable Gaussian blur (truncate 4 sigma, 'reflect' borders) of fields (N, H, W)."""
    if sigma <= 0:
        return f
    r = max(1, int(4 * sigma + 0.5))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (r, r)
        fp = np.pad(f, pad, mode="reflect" if f.shape[axis] > r else "edge")
        f = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), axis, fp)
    return f


def elastic_field(n, h, w, alpha, sigma, rng):
    """Simard's random displacement fields: (dx, dy), each (n, h, w) = alpha * gaussian_blur(U(-1, 1), sigma)."""
    dx = alpha * _gauss_blur(rng.uniform(-1, 1, size=(n, h, w)), sigma)
    dy = alpha * _gauss_blur(rng.uniform(-1, 1, size=(n, h, w)), sigma)
    return dx, dy


def warp_by_field(x, dx, dy, fill=0.0):
    """out[n, c, i, j] = x[n, c, i + dy[n, i, j], j + dx[n, i, j]] by bilinear interpolation; outside reads fill."""
    n, c, H, W = x.shape
    yy, xx = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    sy, sx = yy[None] + dy, xx[None] + dx
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=fill)
    sy, sx = np.clip(sy + 1, 0, H + 1), np.clip(sx + 1, 0, W + 1)
    y0, x0 = np.floor(sy).astype(np.intp), np.floor(sx).astype(np.intp)
    y1, x1 = np.minimum(y0 + 1, H + 1), np.minimum(x0 + 1, W + 1)
    wy, wx = (sy - y0)[:, None], (sx - x0)[:, None]
    b = np.arange(n)[:, None, None]

    def g(iy, ix):
        return xp[b, :, iy, ix].transpose(0, 3, 1, 2)

    out = (g(y0, x0) * (1 - wx) + g(y0, x1) * wx) * (1 - wy) + (g(y1, x0) * (1 - wx) + g(y1, x1) * wx) * wy
    return out.astype(x.dtype)


class ElasticDistortion(Transform):
    """Elastic distortion (Simard, Steinkraus & Platt 2003): displacement fields alpha * G_sigma * U(-1, 1)
    per image (alpha 34, sigma 4 for 28x28 MNIST in the paper), bilinear resampling. (N, C, H, W) -> same."""

    needs_float = True

    def __init__(self, alpha=34.0, sigma=4.0, fill=0.0, rng=None):
        super().__init__(rng)
        if alpha < 0 or sigma < 0:
            raise ValueError(f"ElasticDistortion: alpha and sigma must be >= 0, got {alpha}, {sigma}")
        self.alpha, self.sigma, self.fill = alpha, sigma, fill

    def apply(self, x):
        dx, dy = elastic_field(x.shape[0], x.shape[2], x.shape[3], self.alpha, self.sigma, self.rng)
        return warp_by_field(x, dx, dy, self.fill)


class RangeCheck(Transform):
    """Identity that warns (once) when batches scaled to [0, 1] and to [0, 255] are mixed (textbook 12.2.1:
    mixing the two scales is a common bug): a batch with max > ``high`` after batches with max <= 1, or the
    reverse. Use it first in a Compose or as a DataLoader transform. Works on any array shape."""

    image_only = False

    def __init__(self, high=1.5):
        super().__init__(0)
        self.high = float(high)
        self.seen_unit = self.seen_255 = self.warned = False

    def apply(self, x):
        if x.size:
            m = float(np.max(x))
            if m <= 1.0:
                self.seen_unit = True
            elif m > self.high:
                self.seen_255 = True
            if self.seen_unit and self.seen_255 and not self.warned:
                self.warned = True
                warnings.warn(f"RangeCheck: batches scaled to [0, 1] and to [0, 255] are mixed (this batch's max is "
                              f"{m:g}); scale all inputs the same way", UserWarning, stacklevel=3)
        return x


def flip_views():
    """The identity and the horizontal mirror (two TTA views)."""
    return [lambda x: x, lambda x: x[..., ::-1].copy()]


def ten_crop_views(size):
    """AlexNet's 10 test views: the 4 corner crops and the centre crop of (h, w) = size, and their mirrors."""
    h, w = pair(size, "ten_crop_views")

    def crop(where):
        def f(x):
            H, W = x.shape[-2:]
            if h > H or w > W:
                raise ValueError(f"ten_crop_views: crop {h}x{w} larger than the image {H}x{W}")
            oy = {"t": 0, "b": H - h, "c": (H - h) // 2}[where[0]]
            ox = {"l": 0, "r": W - w, "c": (W - w) // 2}[where[1]]
            return np.ascontiguousarray(x[..., oy:oy + h, ox:ox + w])
        return f

    crops = [crop(k) for k in ("tl", "tr", "bl", "br", "cc")]
    return crops + [(lambda c: (lambda x: c(x)[..., ::-1].copy()))(c) for c in crops]


def tta_predict(predict, x, views):
    """Test-time augmentation (textbook 12.2.1.2): mean over ``views`` (callables on the batch) of
    ``predict(view(x))`` (arrays or Tensors of probabilities (N, K)). Returns a NumPy array (N, K)."""
    views = list(views)
    if not views:
        raise ValueError("tta_predict: need at least one view")
    total = None
    for v in views:
        p = predict(v(x))
        p = np.asarray(p.cpu().numpy() if hasattr(p, "cpu") else p, dtype=np.float64)
        total = p if total is None else total + p
    return total / len(views)
