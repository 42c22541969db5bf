"""Scaled dot-product attention (the Transformer's attention; textbook text 004, 'Transformer', points to Ch. 7).

softmax(Q K^T * scale + M) V with scale = 1/sqrt(E) by default (Vaswani et al. 2017). Masks as PyTorch:
``scaled_dot_product_attention`` takes a bool mask with True = take part, nn.MultiheadAttention a bool mask
with True = masked out; a float mask is added to the scores in both.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import namespace_of, to_device_of
from ...ops import softmax
from .dropout import dropout


def apply_mask(scores, mask, true_means_keep, name):
    """``scores`` with a bool mask (-inf where masked) or a float mask (added) broadcast over it."""
    if mask is None:
        return scores
    shape = tuple(mask.shape) if hasattr(mask, "shape") else np.shape(mask)
    try:
        target = np.broadcast_shapes(shape, tuple(scores.shape))
    except ValueError:
        target = None
    if target != tuple(scores.shape):
        raise ValueError(f"{name}: mask of shape {shape} does not broadcast to the scores' shape {tuple(scores.shape)}")
    if isinstance(mask, Tensor) and mask.dtype != bool:
        return scores + mask  # a float tensor mask keeps its graph
    m = to_device_of(mask, scores)  # a host mask is copied to the scores' device
    xp = namespace_of(m)
    if m.dtype == bool:
        drop = ~m if true_means_keep else m
        return scores.masked_fill(_wrap(xp.broadcast_to(drop, scores.shape)), float("-inf"))
    if m.dtype.kind not in "fc":
        raise TypeError(f"{name}: mask must be bool or floating, got dtype {m.dtype}")
    return scores + _wrap(m.astype(scores.dtype))


def causal_mask(L, S, ref):
    """Bool (L, S) mask, True on and below the diagonal (positions a query may attend to), on ``ref``'s device."""
    xp = namespace_of(ref._data)
    return xp.tril(xp.ones((L, S), dtype=bool))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over the last two dims (torch.nn.functional.scaled_dot_product_attention).

    query (*, L, E), key (*, S, E), value (*, S, Ev) -> (*, L, Ev). ``attn_mask``: bool (True = take part) or
    float (added), broadcast to (*, L, S). ``is_causal``: query i attends to keys j <= i (no attn_mask then).
    ``dropout_p``: dropout on the attention weights (always applied when > 0, as PyTorch)."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa=True is not supported")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2 or query.shape[-1] != key.shape[-1] \
            or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: expected query (*, L, E), key (*, S, E), value (*, S, Ev), "
                         f"got {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: pass either attn_mask or is_causal=True, not both")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = causal_mask(query.shape[-2], key.shape[-2], scores)
    scores = apply_mask(scores, attn_mask, True, "scaled_dot_product_attention")
    w = softmax(scores, -1)
    if dropout_p > 0.0:
        w = dropout(w, dropout_p, training=True)
    return w @ value
