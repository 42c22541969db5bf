"""Attention over encoder states (textbook 12.4.5.1, attention in neural machine translation; 10.4).

Scores e_{b,s} between a decoder query q_b (B, Hq) and encoder states k_{b,s} (B, S, Hk); weights
a = softmax_s(e) (masked positions get -inf); context c_b = sum_s a_{b,s} v_{b,s}.
- ``AdditiveAttention`` (Bahdanau et al. 2015): e = v^T tanh(W_q q + W_k k)   (the book gives no formula)
- ``DotAttention`` (Luong 'dot'): e = q . k;  ``GeneralAttention`` (Luong 'general'): e = q^T W k.
``forward(query, keys, values=None, mask=None)`` returns (context (B, Hv), weights (B, S)); ``query`` may
also be (B, T, Hq) for T queries at once, giving (B, T, Hv) and (B, T, S). ``mask`` (B, S): True/1 = keep.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import device_of, namespace_of, to_device
from ...ops import softmax
from ..functional._checks import check_tensor
from ..module import Module
from .linear import Linear


def _mask_scores(scores, mask, name):
    if mask is None:
        return scores
    m = mask._data if isinstance(mask, Tensor) else mask
    if not hasattr(m, "shape"):
        m = np.asarray(m)
    if tuple(m.shape) != (scores.shape[0], scores.shape[-1]):
        raise ValueError(
            f"{name}: mask of shape {tuple(m.shape)}, expected (B, S) = {(scores.shape[0], scores.shape[-1])}"
        )
    m = to_device(m, device_of(scores._data)).astype(bool)  # a host mask is copied to the scores' device
    if scores.ndim == 3:
        m = m[:, None, :]
    return scores.masked_fill(_wrap(~namespace_of(m).broadcast_to(m, scores.shape)), float("-inf"))


class _Attention(Module):
    def _check(self, q, k):
        name = type(self).__name__
        if k.ndim != 3 or q.ndim not in (2, 3) or q.shape[0] != k.shape[0]:
            raise ValueError(f"{name}: expected query (B, Hq) or (B, T, Hq) and keys (B, S, Hk), "
                             f"got {tuple(q.shape)} and {tuple(k.shape)}")

    def forward(self, query, keys, values=None, mask=None):
        query = check_tensor(self, query, "query")
        keys = check_tensor(self, keys, "keys")
        self._check(query, keys)
        values = keys if values is None else values
        q3 = query if query.ndim == 3 else query.unsqueeze(1)  # (B, T, Hq)
        scores = _mask_scores(self.score(q3, keys), mask, type(self).__name__)  # (B, T, S)
        w = softmax(scores, -1)
        ctx = w @ values  # (B, T, Hv)
        if query.ndim == 2:
            return ctx.squeeze(1), w.squeeze(1)
        return ctx, w


class DotAttention(_Attention):
    """Luong dot score e = q . k (optionally scaled by 1/sqrt(H)). q (B, [T,] H), keys (B, S, H)."""

    def __init__(self, scaled=False):
        super().__init__()
        self.scaled = scaled

    def score(self, q3, k):
        if q3.shape[-1] != k.shape[-1]:
            raise ValueError(f"DotAttention: query size {q3.shape[-1]} != key size {k.shape[-1]}")
        s = q3 @ k.transpose(1, 2)
        return s * (1.0 / math.sqrt(k.shape[-1])) if self.scaled else s


class GeneralAttention(_Attention):
    """Luong general score e = q^T W k with W (Hq, Hk)."""

    def __init__(self, query_size, key_size=None, dtype=None):
        super().__init__()
        key_size = query_size if key_size is None else key_size
        self.proj = Linear(key_size, query_size, bias=False, dtype=dtype)

    def score(self, q3, k):
        return q3 @ self.proj(k).transpose(1, 2)


class AdditiveAttention(_Attention):
    """Bahdanau score e = v^T tanh(W_q q + W_k k); W_q (A, Hq), W_k (A, Hk), v (A,)."""

    def __init__(self, query_size, key_size, attn_size=None, dtype=None):
        super().__init__()
        attn_size = attn_size or query_size
        self.w_q = Linear(query_size, attn_size, bias=False, dtype=dtype)
        self.w_k = Linear(key_size, attn_size, bias=True, dtype=dtype)
        self.v = Linear(attn_size, 1, bias=False, dtype=dtype)

    def score(self, q3, k):
        e = (self.w_q(q3).unsqueeze(2) + self.w_k(k).unsqueeze(1)).tanh()  # (B, T, S, A)
        return self.v(e).squeeze(-1)


Attention = GeneralAttention
