"""Multi-head attention (Vaswani et al. 2017; torch.nn.MultiheadAttention's names, defaults and masks).

Textbook text 004 (Ch. 1, 'Transformer': attention reaches every sequence element at once); Textbook 12.4.5.1
(attention in machine translation). Head h: softmax(Q_h K_h^T / sqrt(d) + M) V_h with Q_h = q W_q^h etc.;
outputs concatenated and projected by ``out_proj``. Masks: bool (True = masked out) or float (added).
Layouts (L, N, E) by default, (N, L, E) with ``batch_first=True``, (L, E) unbatched.
"""
from __future__ import annotations

import numpy as np

from ...backend import get_default_dtype, to_dtype
from ...ops import softmax
from .. import init as _init
from ..functional._checks import check_tensor
from ..functional.attention import apply_mask
from ..functional.dropout import dropout as _dropout
from ..functional.linear import linear
from ..module import Module
from ..parameter import Parameter
from .linear import Linear


def _empty(shape, dtype):
    """An uninitialised array of ``shape`` (filled by ``_reset_parameters``) in ``dtype`` or the default dtype."""
    return np.empty(shape, dtype=get_default_dtype() if dtype is None else to_dtype(dtype))


class MultiheadAttention(Module):
    """Multi-head attention (torch.nn.MultiheadAttention): parameters ``in_proj_weight`` (3E, E) (or
    ``q/k/v_proj_weight`` when kdim/vdim differ from E), ``in_proj_bias`` (3E,), ``out_proj`` Linear(E, E).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None); weights (N, L, S) averaged over
    heads, else (N, H, L, S)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple of "
                             f"num_heads ({num_heads})")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv=True / add_zero_attn=True are not supported")
        self.embed_dim, self.num_heads, self.head_dim = int(embed_dim), int(num_heads), embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else int(kdim)
        self.vdim = embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(_empty((3 * E, E), dtype))
            for n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(n, None)
        else:
            self.q_proj_weight = Parameter(_empty((E, E), dtype))
            self.k_proj_weight = Parameter(_empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(_empty((E, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(_empty((3 * E,), dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's init: xavier_uniform_ projections, zero biases."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                _init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            _init.constant_(self.in_proj_bias, 0.0)
            _init.constant_(self.out_proj.bias, 0.0)

    def _weights(self):
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[0:E], w[E:2 * E], w[2 * E:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None, None, None) if b is None else (b[0:E], b[E:2 * E], b[2 * E:])
        return ws, bs

    def _to_nle(self, x, name, size, unbatched):
        x = check_tensor(self, x, name)
        want = 2 if unbatched else 3
        if x.ndim != want or x.shape[-1] != size:
            raise ValueError(f"MultiheadAttention: {name} of shape {tuple(x.shape)}, expected "
                             f"{'(L, E)' if unbatched else ('(N, L, E)' if self.batch_first else '(L, N, E)')} "
                             f"with E = {size}")
        if unbatched:
            return x.unsqueeze(0)
        return x if self.batch_first else x.transpose(0, 1)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal hint "
                               "(use nn.Transformer.generate_square_subsequent_mask(L))")
        query = check_tensor(self, query, "query")
        unbatched = query.ndim == 2
        q = self._to_nle(query, "query", self.embed_dim, unbatched)
        k = self._to_nle(key, "key", self.kdim, unbatched)
        v = self._to_nle(value, "value", self.vdim, unbatched)
        N, L, S, H, D = q.shape[0], q.shape[1], k.shape[1], self.num_heads, self.head_dim
        if k.shape[0] != N or v.shape[:2] != k.shape[:2]:
            raise ValueError(f"MultiheadAttention: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} disagree in batch or source length")
        (wq, wk, wv), (bq, bk, bv) = self._weights()

        def heads(x, w, b, n):  # (N, n, E) -> (N, H, n, D)
            return linear(x, w, b).reshape(N, n, H, D).permute(0, 2, 1, 3)

        qh, kh, vh = heads(q, wq, bq, L), heads(k, wk, bk, S), heads(v, wv, bv, S)
        scores = (qh @ kh.transpose(-2, -1)) * (1.0 / np.sqrt(D))  # (N, H, L, S)
        scores = apply_mask(scores, self._attn_mask(attn_mask, N, L, S, unbatched), False, "MultiheadAttention")
        if key_padding_mask is not None:
            kpm = key_padding_mask
            if tuple(kpm.shape) != ((S,) if unbatched else (N, S)):
                raise ValueError(f"MultiheadAttention: key_padding_mask of shape {tuple(kpm.shape)}, expected "
                                 f"{(S,) if unbatched else (N, S)}")
            kpm = kpm.reshape(N, 1, 1, S) if hasattr(kpm, "reshape") else np.asarray(kpm).reshape(N, 1, 1, S)
            scores = apply_mask(scores, kpm, False, "MultiheadAttention")
        w = softmax(scores, -1)
        if self.dropout > 0.0:
            w = _dropout(w, self.dropout, training=self.training)
        out = (w @ vh).permute(0, 2, 1, 3).reshape(N, L, self.embed_dim)
        out = self.out_proj(out)
        out = out.squeeze(0) if unbatched else (out if self.batch_first else out.transpose(0, 1))
        if not need_weights:
            return out, None
        w = w.mean(1) if average_attn_weights else w
        return out, (w.squeeze(0) if unbatched else w)

    def _attn_mask(self, m, N, L, S, unbatched):
        """attn_mask (L, S) or (N*H, L, S) -> broadcastable to (N, H, L, S)."""
        if m is None:
            return None
        shape = tuple(m.shape)
        if shape == (L, S):
            return m
        if shape == (N * self.num_heads, L, S):
            return m.reshape(N, self.num_heads, L, S) if hasattr(m, "reshape") else np.asarray(m).reshape(
                N, self.num_heads, L, S)
        raise ValueError(f"MultiheadAttention: attn_mask of shape {shape}, expected {(L, S)} or "
                         f"{(N * self.num_heads, L, S)}")

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
