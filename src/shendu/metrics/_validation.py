"""Input checks shared by the metrics: arrays or shendu Tensors in, validated NumPy arrays out."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import is_array, is_host, to_host


def to_numpy(x, who, name):
    """`x` as a NumPy array (shendu tensors and device arrays copied to the host, other tensors through
    `.numpy()`), rejecting NaN/Inf in floating inputs."""
    if type(x) is not np.ndarray:
        if isinstance(x, Tensor):
            x = to_host(x._data)  # a tensor on a GPU: one copy to the host, where metrics are computed
        elif is_array(x) and not is_host(x):
            x = to_host(x)  # a device array
        elif not isinstance(x, np.ndarray):
            numpy_method = getattr(x, "numpy", None)
            x = numpy_method() if callable(numpy_method) and not isinstance(x, (list, tuple)) else np.asarray(x)
    if x.dtype == object:
        raise TypeError(f"{who}: {name} must be numeric, got an object array")
    if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        raise ValueError(f"{who}: {name} contains NaN or Inf")
    return x


def as_labels(y, who, name, num_classes_hint=None):
    """1-D class labels from labels (N,) or from scores / one-hot (N, K) via argmax."""
    y = to_numpy(y, who, name)
    if y.ndim == 2:
        if y.shape[1] == 1:
            raise ValueError(f"{who}: {name} of shape {y.shape} is ambiguous (one column); pass 1-D labels, "
                             "e.g. (p > 0.5).astype(int) for binary probabilities")
        return np.argmax(y, axis=1)
    if y.ndim != 1:
        raise ValueError(f"{who}: {name} must be labels (N,) or scores (N, K), got shape {y.shape}")
    return y


def check_pair(y_true, y_pred, who):
    """Labels (N,) for both, same length, at least one example."""
    t = as_labels(y_true, who, "y_true")
    p = as_labels(y_pred, who, "y_pred")
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"{who}: y_true and y_pred have different lengths {t.shape[0]} and {p.shape[0]}")
    if t.shape[0] == 0:
        raise ValueError(f"{who}: got empty inputs")
    return t, p


def safe_divide(num, den, zero_division):
    """num / den elementwise, `zero_division` where den == 0 (float64)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def nan_average(a, weights=None):
    """Weighted mean ignoring NaNs; equal weights if all weights are zero (as scikit-learn)."""
    a = np.asarray(a, dtype=np.float64)
    mask = ~np.isnan(a)
    if not mask.any():
        return float("nan")
    if weights is None:
        return float(a[mask].mean())
    w = np.asarray(weights, dtype=np.float64)[mask]
    return float(np.average(a[mask], weights=w)) if w.sum() > 0 else float(a[mask].mean())
