"""Feature scaling fitted on the training set: z-score (`StandardScaler`) and min-max (`MinMaxScaler`).

Textbook 002 §2.5 (mean subtraction, normalization: statistics from the training set only, then
applied to train, validation and test sets); textbook 004 (min-max and z-score normalization).
`axis` names the reduced axes: 0 gives per-feature statistics (mean image for image batches),
(0, 2, 3) gives per-channel statistics for (N, C, H, W) batches.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._base import Fitted, as_float_array

__all__ = ["StandardScaler", "MinMaxScaler"]


def _norm_axes(axis, ndim, who):
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {axis!r} is invalid for an input with {ndim} dims")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{who}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


class _AxisScaler(Fitted):
    def __init__(self, axis):
        self.axis = axis
        self.mean_ = None

    def _prepare_fit(self, X):
        who = f"{type(self).__name__}.fit"
        X = as_float_array(X, who, min_ndim=1)
        self._axes = _norm_axes(self.axis, X.ndim, who)
        if any(X.shape[a] == 0 for a in self._axes):
            raise ValueError(f"{who}: cannot fit on an empty array of shape {X.shape}")
        self._ndim = X.ndim
        self._kept = tuple(s for i, s in enumerate(X.shape) if i not in self._axes)
        return X

    def _prepare(self, X, what):
        self._check_fitted()
        who = f"{type(self).__name__}.{what}"
        X = as_float_array(X, who)
        kept = tuple(s for i, s in enumerate(X.shape) if i not in self._axes) if X.ndim == self._ndim else None
        if kept != self._kept:
            raise ValueError(f"{who}: input shape {X.shape} does not match the fitted data "
                             f"({self._ndim} dims, feature shape {self._kept} outside axis {self.axis!r})")
        return X

    def _squeeze(self, a):
        return np.squeeze(a, axis=self._axes)


class StandardScaler(_AxisScaler):
    """z-score: x' = (x - mean) / std, with mean/std (ddof=0) of the training set over `axis`.

    A feature with zero variance gets scale 1 (as scikit-learn).
    """

    def __init__(self, with_mean=True, with_std=True, axis=0):
        super().__init__(axis)
        self.with_mean, self.with_std = bool(with_mean), bool(with_std)
        self.scale_ = self.var_ = None

    def fit(self, X):
        """Compute mean and std of the training set `X` over `axis` (float64 statistics)."""
        X = self._prepare_fit(X).astype(np.float64)
        mean = X.mean(axis=self._axes, keepdims=True)
        var = X.var(axis=self._axes, keepdims=True)
        std = np.sqrt(var)
        self._mean = mean if self.with_mean else np.zeros_like(mean)
        self._scale = np.where(std == 0, 1.0, std) if self.with_std else np.ones_like(std)
        self.mean_, self.var_, self.scale_ = self._squeeze(mean), self._squeeze(var), self._squeeze(self._scale)
        return self

    def transform(self, X):
        """(X - mean) / scale, in X's float dtype."""
        X = self._prepare(X, "transform")
        return ((X - self._mean.astype(X.dtype)) / self._scale.astype(X.dtype)).astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """X * scale + mean."""
        X = self._prepare(X, "inverse_transform")
        return (X * self._scale.astype(X.dtype) + self._mean.astype(X.dtype)).astype(X.dtype, copy=False)


class MinMaxScaler(_AxisScaler):
    """Min-max: x' = a + (x - min) (b - a) / (max - min) with min/max of the training set, range (a, b).

    A feature with max == min gets range 1 (as scikit-learn); `clip` clips outputs to (a, b).
    """

    def __init__(self, feature_range=(0.0, 1.0), axis=0, clip=False):
        super().__init__(axis)
        lo, hi = feature_range
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: feature_range must be (min, max) with min < max, got {feature_range!r}")
        self.feature_range = (float(lo), float(hi))
        self.clip = bool(clip)
        self.data_min_ = self.data_max_ = self.data_range_ = self.scale_ = self.min_ = None
        self._fitted_attr = "scale_"

    def fit(self, X):
        """Compute per-feature min and max of the training set `X` over `axis`."""
        X = self._prepare_fit(X).astype(np.float64)
        dmin, dmax = X.min(axis=self._axes, keepdims=True), X.max(axis=self._axes, keepdims=True)
        rng = dmax - dmin
        lo, hi = self.feature_range
        self._scale = (hi - lo) / np.where(rng == 0, 1.0, rng)
        self._min = lo - dmin * self._scale
        self.data_min_, self.data_max_ = self._squeeze(dmin), self._squeeze(dmax)
        self.data_range_ = self._squeeze(rng)
        self.scale_, self.min_ = self._squeeze(self._scale), self._squeeze(self._min)
        return self

    def transform(self, X):
        """X * scale + min (optionally clipped to feature_range), in X's float dtype."""
        X = self._prepare(X, "transform")
        out = X * self._scale.astype(X.dtype) + self._min.astype(X.dtype)
        if self.clip:
            np.clip(out, *self.feature_range, out=out)
        return out.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """(X - min) / scale."""
        X = self._prepare(X, "inverse_transform")
        return ((X - self._min.astype(X.dtype)) / self._scale.astype(X.dtype)).astype(X.dtype, copy=False)
