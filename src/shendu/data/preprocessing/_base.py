"""Shared helpers for fitted preprocessors (fit on the training set only, then transform any set)."""
from __future__ import annotations

import numpy as np

from ..dataset import to_numpy


def as_float_array(X, who: str, min_ndim: int = 1) -> np.ndarray:
    """X as a floating array (ints/bools -> float32, float dtypes kept); checks ndim >= min_ndim."""
    arr = to_numpy(X, name=f"{who} input")
    if not np.issubdtype(arr.dtype, np.floating):
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise TypeError(f"{who}: expected a numeric array, got dtype {arr.dtype}")
        arr = arr.astype(np.float32)
    if arr.ndim < min_ndim:
        raise ValueError(f"{who}: expected an array with at least {min_ndim} dims, got shape {arr.shape}")
    return arr


class Fitted:
    """Mixin: `fit_transform`, and a clear error when `transform` is called before `fit`."""

    _fitted_attr = "mean_"

    def fit_transform(self, X):
        """`fit(X)` then `transform(X)`."""
        return self.fit(X).transform(X)

    def _check_fitted(self):
        if getattr(self, self._fitted_attr, None) is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(X_train) first")
