"""The ranking loss (textbook 12.19) and the sampled reconstruction loss for sparse inputs
(12.4.3.3, Dauphin et al. 2011).
"""
from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...backend import get_default_dtype
from ...nn import Module, Parameter
from ...nn import functional as F
from ._common import _const, _ids, _rows, _uniform
from .sampled import Proposal


def ranking_loss(scores, target, margin=1.0, include_target=False, reduction="mean"):
    """Ranking loss (Collobert & Weston 2008; textbook 12.19): L = sum_{i != y} max(0, margin - a_y + a_i).

    include_target=True adds the book's i = y term (a constant margin, zero gradient). scores (B, V) or (V,),
    target (B,) or int. W12.7: a_y = 2, others [0.5, 1.5, 3] -> 2.5 (3.5 with the i = y term)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"ranking_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    one = scores.ndim == 1
    if one:
        scores = scores.reshape(1, -1)
    t = _ids(target, "ranking_loss").reshape(-1)
    if scores.ndim != 2 or t.shape != (scores.shape[0],):
        raise ValueError(f"ranking_loss: scores (B, V) and target (B,), got {tuple(scores.shape)} and {t.shape}")
    a_y = scores[np.arange(len(t)), t].reshape(-1, 1)
    terms = F.relu(margin - a_y + scores)
    if not include_target:
        keep = np.ones(scores.shape, np.float64)
        keep[np.arange(len(t)), t] = 0.0
        terms = terms * _const(keep, scores)
    per = terms.sum(dim=1)
    if one and reduction == "none":
        return per.reshape(())
    return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per


# ---------------------------------------------------------------------------------------------------------
# sparse bag-of-words outputs (Dauphin et al. 2011)
class SampledReconstructionLoss(Module):
    """Sigmoid reconstruction of a sparse bag-of-words target v (textbook 12.4.3.3, Dauphin et al. 2011): the
    cross-entropy on the positive words plus m negatives n_j ~ q with importance weights 1 / (m q(n_j)),
    an unbiased estimate of the full sum_i BCE(v_i, sigmoid(a_i)); samples that are positives of a row are
    dropped from that row (their term is the positive one). forward(h (B, n_h), positives (B, P) ids padded with
    -1, samples=None) -> mean over the batch. full_loss(h, positives) is the exact O(V) sum."""

    def __init__(self, in_features, vocab_size, num_sampled, proposal=None):
        super().__init__()
        proposal = Proposal(np.ones(vocab_size)) if proposal is None else proposal
        if not isinstance(proposal, Proposal) or proposal.is_bigram:
            raise TypeError("SampledReconstructionLoss: proposal must be a unigram Proposal (or None: uniform)")
        self.in_features, self.vocab_size = in_features, vocab_size
        self.num_sampled, self.proposal = num_sampled, proposal
        k = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(_uniform((vocab_size, in_features), k))
        self.bias = Parameter(np.zeros(vocab_size, get_default_dtype()))

    def _pos(self, positives):
        p = _ids(positives, "SampledReconstructionLoss")
        if p.ndim != 2 or p.max(initial=-1) >= self.vocab_size:
            raise ValueError(f"SampledReconstructionLoss: positives must be (B, P) ids < {self.vocab_size} padded "
                             f"with -1, got shape {p.shape}")
        return p

    def forward(self, h, positives, samples=None):
        p = self._pos(positives)
        neg = self.proposal.sample(self.num_sampled) if samples is None else _ids(samples, "samples")
        valid = p >= 0
        pc = np.where(valid, p, 0)
        a_p = ops.einsum("bph,bh->bp", _rows(self.weight, pc), h) + _rows(self.bias, pc)
        a_n = h @ _rows(self.weight, neg).t() + _rows(self.bias, neg)                    # (B, m)
        hit = (neg[None, :, None] == p[:, None, :]).any(-1)                              # sample is a positive
        w_n = np.where(hit, 0.0, (1.0 / (len(neg) * self.proposal.probs[neg]))[None, :])
        pos_term = (F.softplus(-a_p) * _const(valid, a_p)).sum(dim=1)                   # -log sigmoid(a)
        neg_term = (F.softplus(a_n) * _const(w_n, a_n)).sum(dim=1)                      # -log(1 - sigmoid(a))
        return (pos_term + neg_term).mean()

    def full_loss(self, h, positives):
        p = self._pos(positives)
        v = np.zeros((len(p), self.vocab_size))
        rows = np.repeat(np.arange(len(p)), p.shape[1])
        keep = p.reshape(-1) >= 0
        v[rows[keep], p.reshape(-1)[keep]] = 1.0
        a = h @ self.weight.t() + self.bias
        return F.binary_cross_entropy_with_logits(a, _const(v, a), reduction="sum") / len(p)
