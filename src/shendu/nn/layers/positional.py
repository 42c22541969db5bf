"""Sinusoidal positional encoding (Vaswani et al. 2017), for the Transformer of text 004 (T4.2):
PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)); y = x + PE[:L] (then dropout).
Attention itself is permutation-equivariant: without it a Transformer cannot use token order."""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import _wrap
from ...backend import device_of, to_device
from ..module import Module
from .dropout import Dropout


def sinusoidal_table(max_len, d_model):
    """The (max_len, d_model) float64 table PE above (host NumPy)."""
    if d_model < 1 or max_len < 1:
        raise ValueError(f"sinusoidal_table: need max_len, d_model >= 1, got {max_len}, {d_model}")
    pos = np.arange(max_len)[:, None]
    div = np.exp(-math.log(10000.0) * np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((max_len, d_model))
    pe[:, 0::2] = np.sin(pos * div)
    pe[:, 1::2] = np.cos(pos * div[: d_model // 2])
    return pe


class PositionalEncoding(Module):
    """x + PE[:L] for x (L, N, d_model), or (N, L, d_model) with ``batch_first``; dropout p after the sum."""

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self._pe = sinusoidal_table(max_len, d_model)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        L = x.shape[1] if self.batch_first else x.shape[0]
        if x.shape[-1] != self.d_model or L > self.max_len:
            raise ValueError(f"PositionalEncoding: expected (..., {self.d_model}) with length <= {self.max_len}, "
                             f"got {tuple(x.shape)}")
        pe = self._pe[:L].astype(x.dtype)
        pe = pe[None] if self.batch_first else pe[:, None]
        return self.dropout(x + _wrap(to_device(pe, device_of(x._data))))

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"
