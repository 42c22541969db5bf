"""The base of the output distributions (Textbook 6.2.1.1: the network computes omega = f(x; theta) and the
loss is -log p(y; omega), 6.12) and the helpers they share: values as tensors on the parameters' device."""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, _wrap, as_tensor
from ...backend import device_of, to_device

_LOG_2PI = math.log(2 * math.pi)


def _t(x, like=None):
    """``x`` as a Tensor; a host value given with ``like`` takes like's device (and float dtype)."""
    if isinstance(x, Tensor):
        return x
    if like is not None:
        arr = np.asarray(x, dtype=like._data.dtype if np.asarray(x).dtype.kind == "f" else None)
        return _wrap(to_device(arr, device_of(like._data)))
    return as_tensor(x)


def _float_dtype(t):
    """The float dtype to draw samples in for tensor ``t`` (float32 stays float32)."""
    return np.float32 if t._data.dtype == np.float32 else np.float64


class Distribution:
    """Base: ``log_prob(value)`` (differentiable), ``sample(shape=())`` (no gradient), ``entropy()``, ``mean``."""

    def log_prob(self, value):  # pragma: no cover - abstract
        raise NotImplementedError

    def entropy(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def nll(self, value):
        """Mean negative log-likelihood -1/m sum log p(y; omega) (Textbook 6.12), the training loss."""
        return -self.log_prob(value).mean()
