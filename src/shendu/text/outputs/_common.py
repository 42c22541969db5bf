"""Shared helpers of the high-dimensional output layers (textbook 12.4.3): host constants on a tensor's
device, target ids, a row gather with a scatter-add backward, uniform initialisation.
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...autograd.function import Function
from ...autograd.tensor import Tensor, as_tensor
from ...backend import get_default_dtype, get_generator, to_device_of, to_host
from ...ops._arr import add_rows_at
from ...ops.index import IndexAdd


def _const(arr, like):
    """Host array ``arr`` as a constant tensor with the dtype and device of tensor ``like``."""
    return as_tensor(to_device_of(arr, like, like.dtype))


def _ids(y, who):
    """Target ids as a host int64 array (a Tensor is read back: the ids select host-side tree paths)."""
    if isinstance(y, Tensor):
        y = to_host(y._data)
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{who}: target ids must be integers, got dtype {y.dtype}")
    return y.astype(np.int64)


class _GatherRows(Function):
    """y = W[idx] (rows of a table); dW = rows of g summed per index (``ops._arr.add_rows_at``)."""

    needs_input_values = False

    def __init__(self, idx):
        self.idx = idx

    def forward(self, w):
        self.wshape = w.shape
        if self.xp is not np:
            self.idx = to_device_of(self.idx, w)
        return w[self.idx]

    def backward_array(self, gy):
        idx = self.idx.reshape(-1)
        out = self.xp.zeros((self.wshape[0], gy.size // idx.shape[0]), dtype=gy.dtype)
        return add_rows_at(out, idx, gy.reshape(idx.shape[0], -1)).reshape(self.wshape)

    def backward(self, gy):
        idx = self.idx.reshape(-1)
        g = gy.reshape((idx.shape[0], -1))
        base = ops.zeros(self.wshape[0], g.shape[1], dtype=gy.dtype, device=gy.device)
        return IndexAdd(0, idx)(base, g).reshape(self.wshape)


def _rows(w, idx):
    """w[idx] for a host int array idx of any shape, differentiable (fast scatter-add backward)."""
    return _GatherRows(np.ascontiguousarray(idx, dtype=np.int64))(w)


def _uniform(shape, k):
    return (get_generator().random(shape) * 2 * k - k).astype(get_default_dtype())
