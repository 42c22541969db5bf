"""Short list (textbook 12.4.3.1): a full softmax over the frequent words mixed with an n-gram model
for the tail, and hashed direct n-gram features added to the output scores (12.4.4).
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...backend import get_default_dtype
from ...nn import Module, Parameter
from ...nn import functional as F
from ._common import _ids, _rows


def shortlist_mixture(short_logits, tail_logit, tail_probs, shortlist_ids, tail_ids):
    """Short-list mixture (12.10) as probabilities over V (B, V):
    P(y=i|C) = [i in L] softmax(short_logits)_i (1 - P(T|C)) + [i in T] P_ngram(i|C, i in T) P(T|C),
    P(T|C) = sigmoid(tail_logit) (B, 1); tail_probs (B, |T|) is the n-gram distribution restricted to T (it is
    renormalised here); shortlist_ids (|L|,) and tail_ids (|T|,) partition the vocabulary ids."""
    L, T = np.asarray(shortlist_ids, np.int64), np.asarray(tail_ids, np.int64)
    V = len(L) + len(T)
    if sorted(np.concatenate([L, T]).tolist()) != list(range(V)):
        raise ValueError(f"shortlist_mixture: shortlist_ids and tail_ids must partition 0..{V - 1}")
    if short_logits.shape[-1] != len(L) or tail_probs.shape[-1] != len(T):
        raise ValueError(f"shortlist_mixture: got short_logits {tuple(short_logits.shape)} for |L|={len(L)} and "
                         f"tail_probs {tuple(tail_probs.shape)} for |T|={len(T)}")
    p_tail = F.sigmoid(tail_logit)
    pt = tail_probs / tail_probs.sum(dim=-1, keepdim=True)
    both = ops.cat([F.softmax(short_logits, dim=-1) * (1 - p_tail), pt * p_tail], dim=-1)
    inv = np.argsort(np.concatenate([L, T]))
    return both[:, inv]


class ShortlistSoftmax(Module):
    """Short list L handled by the network, tail T by an n-gram model (Schwenk 2002; 12.10): a softmax over L
    plus one sigmoid unit for P(i in T | C). forward(h, tail_probs) -> P(y | C) over V (B, V); loss(h, tail_probs,
    y) = mean -log P(y | C)."""

    def __init__(self, in_features, shortlist_ids, vocab_size):
        super().__init__()
        L = np.asarray(shortlist_ids, np.int64)
        self.shortlist_ids = L
        self.tail_ids = np.setdiff1d(np.arange(vocab_size), L)
        from ...nn import Linear

        self.short = Linear(in_features, len(L))
        self.tail = Linear(in_features, 1)

    def forward(self, h, tail_probs):
        return shortlist_mixture(self.short(h), self.tail(h), tail_probs, self.shortlist_ids, self.tail_ids)

    def loss(self, h, tail_probs, y):
        p = self.forward(h, tail_probs)
        y = _ids(y, "ShortlistSoftmax")
        return -ops.log(p[np.arange(len(y)), y]).mean()


# ---------------------------------------------------------------------------------------------------------
# max-ent direct n-gram features (Mikolov et al. 2011, RNNME)
class DirectNgramFeatures(Module):
    """Hashed direct connections from n-gram context indicators to the output logits (textbook 12.4.4; the
    maximum-entropy part of RNNME): logit_w += sum_k theta[hash(last k context ids, w)] for k in orders.

    forward(context (B, n-1) ids) -> (B, V) logits to add to a network's; parameters theta (hash_size,) start at 0.
    Each example touches len(orders) * V entries of theta, whatever its size."""

    def __init__(self, vocab_size, orders=(1, 2), hash_size=2 ** 20):
        super().__init__()
        if not orders or min(orders) < 1:
            raise ValueError(f"DirectNgramFeatures: orders must be context lengths >= 1, got {orders!r}")
        self.vocab_size, self.orders, self.hash_size = vocab_size, tuple(int(k) for k in orders), int(hash_size)
        self.weight = Parameter(np.zeros(self.hash_size, get_default_dtype()))

    def indices(self, context):
        ctx = _ids(context, "DirectNgramFeatures")
        if ctx.ndim != 2 or ctx.shape[1] < max(self.orders):
            raise ValueError(f"DirectNgramFeatures: context must be (B, >= {max(self.orders)}) ids, got {ctx.shape}")
        M = (1 << 61) - 1
        out = []
        for k in self.orders:
            hsh = np.full(len(ctx), k * 1000003, dtype=object)
            for j in range(ctx.shape[1] - k, ctx.shape[1]):
                hsh = (hsh * 1000000007 + ctx[:, j].astype(object) + 1) % M
            base = np.array([int(x) for x in hsh], dtype=np.int64) % self.hash_size
            out.append((base[:, None] + np.arange(self.vocab_size)[None, :] * 40503) % self.hash_size)
        return np.stack(out, axis=1)                                                 # (B, K, V)

    def forward(self, context):
        return _rows(self.weight, self.indices(context)).sum(dim=1)
