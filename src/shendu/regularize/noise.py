"""Label smoothing targets (textbook 7.5.1): the book's form eps/(k-1) on wrong classes and 1-eps on the true
class, and PyTorch's form (1-eps) one-hot + eps/k. The loss option: ``F.cross_entropy(...,
label_smoothing=eps, label_smoothing_form="book")``. Noise layers live in ``shendu.nn`` (GaussianNoise,
GaussianDropout, DropConnect, WeightNoise, StochasticPool2d)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, _wrap, tensor
from ..backend import get_default_dtype, namespace_of

_FORMS = ("book", "torch")


def smooth_labels(y, k: int, eps: float, form: str = "book", dtype=None) -> Tensor:
    """Smoothed one-hot targets (N, k) for class indices ``y`` (N,) (textbook 7.5.1, W7.7).

    form='book': q = 1-eps on the true class, eps/(k-1) elsewhere ([0.033, 0.033, 0.9, 0.033] for eps=0.1, k=4);
    form='torch': q = (1-eps) onehot + eps/k ([0.025, 0.025, 0.925, 0.025]). On y's device when y is a Tensor."""
    if form not in _FORMS:
        raise ValueError(f"smooth_labels: form must be one of {_FORMS}, got {form!r}")
    if int(k) != k or k < 2:
        raise ValueError(f"smooth_labels: k must be an integer >= 2, got {k}")
    k = int(k)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"smooth_labels: eps must be in [0, 1], got {eps}")
    arr = y._data if isinstance(y, Tensor) else np.asarray(y)
    if arr.dtype.kind not in "iu" or arr.ndim > 1:
        raise ValueError(f"smooth_labels: y must be integer class indices of shape (N,), got dtype {arr.dtype}, "
                         f"shape {tuple(arr.shape)}")
    xp = namespace_of(arr)
    dt = np.dtype(get_default_dtype() if dtype is None else dtype)
    if arr.size and bool(((arr < 0) | (arr >= k)).any()):
        raise ValueError(
            f"smooth_labels: class indices must lie in [0, {k}), got min {int(arr.min())}, max {int(arr.max())}"
        )
    off, on = (eps / (k - 1), 1.0 - eps) if form == "book" else (eps / k, 1.0 - eps + eps / k)
    onehot = (arr.reshape(-1, 1) == xp.arange(k).reshape(1, -1)).astype(dt)
    q = onehot * dt.type(on - off) + dt.type(off)
    q = q.reshape(tuple(arr.shape) + (k,))
    return _wrap(q) if isinstance(y, Tensor) else tensor(q)
