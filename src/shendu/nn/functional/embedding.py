"""Embedding lookup (textbook 12.4 word embeddings): row i of the table is the vector of token i."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import check_values
from ...autograd.tensor import Tensor
from ...backend import is_host, namespace_of, to_device_of, to_host
from ...ops import zeros
from ...ops._arr import add_rows_at
from ...ops.index import IndexAdd


class _Embedding(Function):
    """y = W[idx]; dW[i] = sum of g over positions where idx == i (only the used rows are touched),
    zero for ``padding_idx``."""

    needs_input_values = False

    def __init__(self, idx, padding_idx):
        self.idx, self.padding_idx = idx, padding_idx

    def forward(self, w):
        self.wshape = w.shape
        return w[self.idx]

    def _flat(self, gy):
        idx = self.idx.reshape(-1)
        g = gy.reshape(idx.shape[0], -1)
        return idx, g

    def backward_array(self, gy):
        xp = self.xp
        idx, g = self._flat(gy)
        out = xp.zeros(self.wshape, dtype=gy.dtype)
        if self.padding_idx is not None:
            keep = idx != self.padding_idx
            idx, g = idx[keep], g[keep]
        return add_rows_at(out, idx, g)

    def backward(self, gy):
        idx = self.idx.reshape(-1)
        g = gy.reshape((idx.shape[0], -1))
        if self.padding_idx is not None:
            keep = self.xp.nonzero(idx != self.padding_idx)[0]
            idx, g = idx[keep], g[keep]
        # the indices were range-checked in embedding(): IndexAdd directly, no second check (no device sync)
        return IndexAdd(0, idx)(zeros(*self.wshape, dtype=gy.dtype, device=gy.device), g)


def _check_rows(idx, n):
    """Refuse indices outside [0, n) (negative ones too, as PyTorch): one min and one max, read on the host (one
    device-to-host copy of two values for device indices)."""
    if idx.size:
        lo, hi = (idx.min(), idx.max()) if is_host(idx) else to_host(namespace_of(idx).stack((idx.min(), idx.max())))
        if lo < 0 or hi >= n:
            raise IndexError(f"embedding: index out of range [0, {n}) (got min {lo}, max {hi})")


def embedding(input, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, dim) at integer ``input`` (any shape) -> (*input.shape, dim)."""
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding: weight must be a Tensor, got {type(weight).__name__}")
    idx = input._data if isinstance(input, Tensor) else input
    if not hasattr(idx, "dtype") or isinstance(idx, np.generic):
        idx = np.asarray(idx)  # host index data (lists, numbers) as a host array
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    n = weight.shape[0]
    check_values(idx, _check_rows, n=n)  # (a captured replay checks its indices again)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return _Embedding(to_device_of(idx, weight), padding_idx)(weight)  # indices go to the table's device
