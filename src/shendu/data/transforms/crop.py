"""Crops and translations (textbook 7.4 and 12.2.1.2: random translations; the CIFAR-10 example's 24x24 crops).

Random crops pick one offset per image and gather all windows with a single fancy-indexing
operation on a sliding-window view of the padded batch.
"""
from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import Transform, pair

__all__ = ["RandomCrop", "CenterCrop", "RandomTranslation", "crop_at"]


def crop_at(x, oy, ox, h, w):
    """Windows x[i, :, oy[i]:oy[i]+h, ox[i]:ox[i]+w] for every i: (N, C, H, W) -> (N, C, h, w)."""
    windows = sliding_window_view(x, (h, w), axis=(2, 3))  # (N, C, H-h+1, W-w+1, h, w), a view
    return np.ascontiguousarray(windows[np.arange(x.shape[0]), :, oy, ox])


def _pad(x, ph, pw, fill):
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant", constant_values=fill)


class RandomCrop(Transform):
    """Crop a random (h, w) window from each image after zero-padding (`fill`) by `padding` pixels."""

    def __init__(self, size, padding=0, fill=0.0, rng=None):
        super().__init__(rng)
        self.size = pair(size, "RandomCrop")
        self.padding = pair(padding, "RandomCrop", "padding")
        self.fill = fill
        if min(self.size) < 1:
            raise ValueError(f"RandomCrop: size must be >= 1, got {size!r}")

    def apply(self, x):
        (h, w), (ph, pw) = self.size, self.padding
        xp = _pad(x, ph, pw, self.fill)
        H, W = xp.shape[2:]
        if h > H or w > W:
            raise ValueError(f"RandomCrop: crop size {(h, w)} larger than the padded image {(H, W)} "
                             f"(input shape {x.shape}, padding {(ph, pw)})")
        n = x.shape[0]
        return crop_at(xp, self.rng.integers(0, H - h + 1, n), self.rng.integers(0, W - w + 1, n), h, w)


class CenterCrop(Transform):
    """Crop the central (h, w) window, top-left corner ((H - h) // 2, (W - w) // 2)."""

    def __init__(self, size):
        super().__init__(0)
        self.size = pair(size, "CenterCrop")

    def apply(self, x):
        (h, w), (H, W) = self.size, x.shape[2:]
        if not (1 <= h <= H and 1 <= w <= W):
            raise ValueError(f"CenterCrop: crop size {(h, w)} does not fit images of size {(H, W)}")
        top, left = (H - h) // 2, (W - w) // 2
        return np.ascontiguousarray(x[:, :, top:top + h, left:left + w])


class RandomTranslation(Transform):
    """Shift each image by integers (dy, dx) uniform in [-max_shift, max_shift], filling with `fill`.

    max_shift: pixels (int or pair), or a fraction of the size if a float in (0, 1).
    """

    def __init__(self, max_shift, fill=0.0, rng=None):
        super().__init__(rng)
        if isinstance(max_shift, float) and not 0.0 <= max_shift < 1.0:
            raise ValueError(f"RandomTranslation: a float max_shift is a fraction in [0, 1), got {max_shift}")
        self.max_shift = max_shift if isinstance(max_shift, float) else pair(max_shift, "RandomTranslation",
                                                                             "max_shift")
        self.fill = fill

    def apply(self, x):
        H, W = x.shape[2:]
        if isinstance(self.max_shift, numbers.Real) and not isinstance(self.max_shift, tuple):
            my, mx = int(self.max_shift * H), int(self.max_shift * W)
        else:
            my, mx = self.max_shift
        my, mx = min(my, H), min(mx, W)
        xp = _pad(x, my, mx, self.fill)
        n = x.shape[0]
        # offset my - dy in the padded image shifts the content by +dy
        oy = my - self.rng.integers(-my, my + 1, n)
        ox = mx - self.rng.integers(-mx, mx + 1, n)
        return crop_at(xp, oy, ox, H, W)
