"""Cost-sensitive error (textbook 11.1): a total cost with a different price for each kind of mistake."""
from __future__ import annotations

import numpy as np

from ._validation import as_labels, to_numpy

__all__ = ["cost_sensitive_error"]


def cost_sensitive_error(y_true, y_pred, cost_matrix, normalize=True):
    """Total (or mean, normalize=True) cost sum_i C[y_i, yhat_i] of predictions (textbook 11.1: e.g. blocking a
    legitimate e-mail costs more than letting spam through). cost_matrix: (K, K), C[true, predicted], usually 0 on
    the diagonal; y_true, y_pred: integer labels (N,) or scores (N, K) (argmax). With C = 1 - I it is the error rate."""
    yt = as_labels(y_true, "cost_sensitive_error", "y_true")
    yp = as_labels(y_pred, "cost_sensitive_error", "y_pred")
    C = np.asarray(to_numpy(cost_matrix, "cost_sensitive_error", "cost_matrix"), dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"cost_sensitive_error: cost_matrix must be square (K, K), got shape {C.shape}")
    if yt.shape != yp.shape:
        raise ValueError(f"cost_sensitive_error: y_true has shape {yt.shape} but y_pred has {yp.shape}")
    if yt.size == 0:
        raise ValueError("cost_sensitive_error: no examples")
    for name, a in (("y_true", yt), ("y_pred", yp)):
        if a.dtype.kind not in "iub" or a.min() < 0 or a.max() >= C.shape[0]:
            raise ValueError(f"cost_sensitive_error: {name} must hold integer labels in [0, {C.shape[0]}), got "
                             f"values in [{a.min()}, {a.max()}] ({a.dtype})")
    total = float(C[yt.astype(np.intp), yp.astype(np.intp)].sum())
    return total / yt.size if normalize else total
