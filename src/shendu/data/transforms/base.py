"""Base class and `Compose` for batch image transforms on (N, C, H, W) arrays.

Dataset augmentation (textbook 7.4 and 12.2.1.2): class-preserving transformations of the
training inputs, applied at training time only. Every transform works on a whole batch at once;
a single (C, H, W) image is accepted and returned as such.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..dataset import to_numpy
from ..loader import as_generator

__all__ = ["Transform", "Compose", "pair"]


def pair(value, who, name="size"):
    """(h, w) from an int or a pair of ints (all >= 0)."""
    if isinstance(value, numbers.Integral):
        value = (value, value)
    try:
        h, w = (int(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{who}: {name} must be an int or a pair of ints, got {value!r}") from exc
    if h < 0 or w < 0:
        raise ValueError(f"{who}: {name} must be >= 0, got {value!r}")
    return h, w


class Transform:
    """Batch transform: `t(x)` with x (N, C, H, W) or (C, H, W); random ones own a Generator `rng`."""

    needs_float = False
    image_only = True

    def __init__(self, rng=None):
        self.rng = as_generator(rng, name=f"{type(self).__name__} rng")

    def __call__(self, x):
        who = type(self).__name__
        x = to_numpy(x, name=f"{who} input")
        if self.needs_float and not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float32)
        if not self.image_only:
            return self.apply(x)
        if x.ndim not in (3, 4):
            raise ValueError(f"{who}: expected images (N, C, H, W) or (C, H, W), got shape {x.shape}")
        single = x.ndim == 3
        out = self.apply(x[None] if single else x)
        return out[0] if single else out

    def apply(self, x):  # pragma: no cover - abstract
        """Transform a batch (N, C, H, W) -> (N, C, H', W')."""
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "rng" and not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class Compose:
    """Apply `transforms` in order: Compose([a, b])(x) = b(a(x))."""

    def __init__(self, transforms):
        transforms = list(transforms)
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")
        self.transforms = transforms

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"
