"""Embedding layer (textbook 12.4.2 word embeddings): a trainable lookup table."""
from __future__ import annotations

import numpy as np

from ...backend import get_default_dtype, get_generator, is_host, to_dtype
from .. import init as _init
from ..functional.embedding import embedding
from ..module import Module
from ..parameter import Parameter


class Embedding(Module):
    """Map integer ids (any shape) to rows of ``weight`` (num_embeddings, embedding_dim).

    Default init N(0, 1) as PyTorch; the ``padding_idx`` row starts at zero and gets no gradient.
    Backward touches only the looked-up rows (scatter-add of the output gradient)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype=None,
                 weight_init=None, _weight=None, sparse: bool = False, device=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within [-{num_embeddings}, {num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        if _weight is not None:
            w = _weight._data if hasattr(_weight, "_data") else _weight
            # a copy where the values are (a device array stays on its device)
            w = np.array(w, dtype=dt) if is_host(w) or not hasattr(w, "shape") else w.astype(dt, copy=True)
            if w.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {w.shape}, expected {(num_embeddings, embedding_dim)}")
        else:
            w = get_generator().standard_normal((num_embeddings, embedding_dim)).astype(dt)
        self.weight = Parameter(w)
        if weight_init is not None:
            _init.apply_init(self.weight, weight_init)
        if padding_idx is not None and _weight is None:
            self.weight._data[padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None):
        """An Embedding holding ``embeddings`` (2-D); frozen (no gradient) by default."""
        arr = embeddings._data if hasattr(embeddings, "_data") else embeddings
        if not hasattr(arr, "shape"):
            arr = np.asarray(arr)
        m = cls(arr.shape[0], arr.shape[1], padding_idx=padding_idx, dtype=arr.dtype, _weight=arr)
        m.weight.requires_grad = not freeze
        return m

    def forward(self, ids):
        return embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        )
