"""Importance sampling (textbook 12.4.3.3) and noise-contrastive estimation (18.6): a proposal
distribution, the biased importance-sampled softmax loss and the NCE loss, with their output layers.
"""
from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...autograd.tensor import Tensor
from ...backend import get_default_dtype, get_generator, to_device_of
from ...nn import Module, Parameter
from ...nn import functional as F
from ._common import _const, _ids, _rows, _uniform


class Proposal:
    """A proposal q over the vocabulary for importance sampling / NCE: 1-D (unigram) or 2-D (rows q(.|prev),
    bigram). sample(m, context=None) -> host ids: (m,) shared, or (B, m) per row of a bigram proposal."""

    def __init__(self, probs):
        p = np.asarray(probs, np.float64)
        if p.ndim not in (1, 2) or (p < 0).any():
            raise ValueError(f"Proposal: probs must be a non-negative (V,) or (V, V) table, got shape {p.shape}")
        s = p.sum(axis=-1, keepdims=True)
        if (s <= 0).any():
            raise ValueError("Proposal: every distribution must have positive mass")
        self.probs = p / s
        self.cdf = np.cumsum(self.probs, axis=-1)
        self.cdf[..., -1] = 1.0
        self.log_probs = np.log(np.maximum(self.probs, 1e-300))

    @property
    def is_bigram(self):
        return self.probs.ndim == 2

    def sample(self, m, context=None, rng=None):
        rng = rng or get_generator()
        if not self.is_bigram:
            return np.searchsorted(self.cdf, rng.random(m), side="right").astype(np.int64)
        if context is None:
            raise ValueError("Proposal.sample: a bigram proposal needs context (the previous word ids, (B,))")
        ctx = _ids(context, "Proposal.sample")
        u = rng.random((len(ctx), m))
        cdf = self.cdf[ctx]
        return np.minimum((cdf[:, None, :] <= u[:, :, None]).sum(-1), self.probs.shape[-1] - 1).astype(np.int64)

    def log_q(self, ids, context=None):
        """log q(ids) (host float64), rows picked by context for a bigram proposal."""
        if not self.is_bigram:
            return self.log_probs[ids]
        ctx = _ids(context, "Proposal.log_q")
        return self.log_probs[ctx[:, None] if np.ndim(ids) == 2 else ctx, ids]


def unigram_proposal(counts, power=1.0, alpha=0.0):
    """q(w) proportional to (count(w) + alpha)^power (power 0.75 is word2vec's choice)."""
    c = np.asarray(counts, np.float64) + alpha
    return Proposal(c ** power)


def bigram_proposal(sequences, vocab_size, alpha=0.1):
    """q(w | prev) = (c(prev, w) + alpha) / (c(prev) + alpha V) from id sequences (textbook: a bigram proposal)."""
    c = np.full((vocab_size, vocab_size), float(alpha))
    for s in sequences:
        s = np.asarray(s, np.int64)
        np.add.at(c, (s[:-1], s[1:]), 1.0)
    return Proposal(c)


def importance_weights(p, q):
    """Self-normalised importance weights w_i = (p_i / q_i) / sum_j (p_j / q_j) (12.17); p may be unnormalised.

    W12.6: p = [0.1, 0.2], q = [0.2, 0.1] -> [0.2, 0.8]."""
    r = np.asarray(p, np.float64) / np.asarray(q, np.float64)
    return r / r.sum(axis=-1, keepdims=True)


def sampled_softmax_loss(a_target, a_neg, log_q_neg, log_q_target=None, hit_mask=None):
    """Importance-sampled softmax NLL (Bengio & Senecal 2008; 12.13-12.18), per example (B,).

    Book form (log_q_target None): -a_y + log Z_hat, Z_hat = (1/m) sum_i exp(a_{n_i}) / q(n_i); its gradient is
    -da_y + sum_i w_i da_{n_i} with the self-normalised weights w_i proportional to exp(a_{n_i}) / q(n_i) (12.17,
    12.18 without the book's 1/m). It is unbounded below in a_y when y is rarely sampled.
    With log_q_target (Jean et al. 2015): the target joins the candidates, -log softmax over
    [a_y - log m q(y), a_{n_i} - log m q(n_i)] at the target; hit_mask (B, m) True drops samples equal to y.

    a_target (B,), a_neg (B, m) scores of the negatives n_i ~ q, log_q_neg (m,) or (B, m), log_q_target (B,)."""
    m = a_neg.shape[-1]
    lq = log_q_neg if isinstance(log_q_neg, Tensor) else _const(log_q_neg, a_neg)
    if log_q_target is None:
        return ops.logsumexp(a_neg - lq, dim=-1) - math.log(m) - a_target
    lqt = log_q_target if isinstance(log_q_target, Tensor) else _const(log_q_target, a_target)
    z_t = a_target - lqt
    z_n = a_neg - lq
    if hit_mask is not None:
        z_n = ops.masked_fill(z_n, to_device_of(hit_mask, z_n), -1e30)
    z = ops.cat([z_t.reshape(-1, 1), z_n], dim=-1)
    return ops.logsumexp(z, dim=-1) - z_t


def _marginal_log_q(proposal):
    """Initial output bias log q(w) (the proposal's unigram marginal): the model starts normalised and at the
    noise distribution (textbook 8.27's output-bias rule; Mnih & Teh 2012), so unsampled rare words do not keep
    the large initial mass that a zero bias would give them."""
    q = proposal.probs if not proposal.is_bigram else proposal.probs.mean(0)
    return np.log(np.maximum(q, 1e-30)).astype(get_default_dtype())


def _scores(weight, bias, h, y, ids):
    """(a_y (B,), a_ids (B, m)): scores a_i = w_i . h + b_i of the targets and of the samples (ids (m,) shared
    by the batch, or (B, m) per row), with one gather of the rows."""
    B = len(y)
    if ids.ndim == 1:
        both = np.concatenate([y, ids])
        w, b = _rows(weight, both), _rows(bias, both)
        a_y = ops.einsum("bh,bh->b", w[:B], h) + b[:B]
        return a_y, h @ w[B:].t() + b[B:]
    both = np.concatenate([y[:, None], ids], axis=1)             # (B, 1 + m)
    a = ops.einsum("bmh,bh->bm", _rows(weight, both), h) + _rows(bias, both)
    return a[:, 0], a[:, 1:]


class _SampledOutput(Module):
    """What SampledSoftmaxLoss and NCELoss share: the output layer (V, n_h) with weight ~ U(-1/sqrt(n_h),
    1/sqrt(n_h)) and bias starting at log q of the proposal, its full scores and the targets' log q."""

    def __init__(self, in_features, vocab_size, proposal):
        super().__init__()
        if not isinstance(proposal, Proposal):
            proposal = Proposal(proposal)
        if proposal.probs.shape[-1] != vocab_size:
            raise ValueError(f"{type(self).__name__}: proposal over {proposal.probs.shape[-1]} words, "
                             f"vocab_size {vocab_size}")
        self.in_features, self.vocab_size, self.proposal = in_features, vocab_size, proposal
        k = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(_uniform((vocab_size, in_features), k))
        self.bias = Parameter(_marginal_log_q(proposal))

    def logits(self, h):
        """The full affine scores a = W h + b (B, V), for evaluation with the exact softmax."""
        return h @ self.weight.t() + self.bias

    def _log_q_target(self, y, context):
        """log q(y) of the targets (B,) under the proposal (a bigram proposal: given the previous words)."""
        if self.proposal.is_bigram:
            return self.proposal.log_probs[_ids(context, "context"), y]
        return self.proposal.log_q(y, context)


class SampledSoftmaxLoss(_SampledOutput):
    """Output layer (V, n_h) trained by importance sampling with m negatives from ``proposal`` (12.4.3.3).

    forward(h (B, n_h), y (B,), context=None, samples=None) -> mean loss; the gradient costs O(m n_h), not
    O(V n_h). context: previous word ids for a bigram proposal; samples: fixed negatives (for tests).
    include_target=False is the book's estimator (negatives only); True (default) adds the target to the
    candidates (Jean et al. 2015), which keeps rare targets' scores bounded; remove_accidental_hits drops samples
    equal to the target (TensorFlow's default; it biases the estimate of log Z down by the target's share).
    logits(h) gives the full affine scores a = W h + b (for evaluation with the exact softmax)."""

    def __init__(self, in_features, vocab_size, num_sampled, proposal, include_target=True,
                 remove_accidental_hits=False):
        super().__init__(in_features, vocab_size, proposal)
        self.num_sampled = num_sampled
        self.include_target, self.remove_accidental_hits = bool(include_target), bool(remove_accidental_hits)

    def forward(self, h, y, context=None, samples=None):
        y = _ids(y, "SampledSoftmaxLoss")
        neg = self.proposal.sample(self.num_sampled, context) if samples is None else _ids(samples, "samples")
        a_y, a_n = _scores(self.weight, self.bias, h, y, neg)
        lq_n = self.proposal.log_q(neg, context)
        if not self.include_target:
            return sampled_softmax_loss(a_y, a_n, lq_n).mean()
        lm = math.log(self.num_sampled)
        lq_y = self._log_q_target(y, context)
        hits = ((neg[None, :] if neg.ndim == 1 else neg) == y[:, None]) if self.remove_accidental_hits else None
        return sampled_softmax_loss(a_y, a_n, lq_n + lm, lq_y + lm, hit_mask=hits).mean()


def nce_loss(s_target, s_noise, log_q_target, log_q_noise, k):
    """Noise-contrastive estimation (Gutmann & Hyvarinen 2010; Mnih & Teh 2012), per example (B,):
    -log sigmoid(D(y)) - sum_j log sigmoid(-D(n_j)), D(w) = s(w) - log(k q(w)), s = unnormalised log-probability
    (self-normalised: log Z fixed to 0). s_target (B,), s_noise (B, k), log_q_* matching host arrays or tensors."""
    lqt = log_q_target if isinstance(log_q_target, Tensor) else _const(log_q_target, s_target)
    lqn = log_q_noise if isinstance(log_q_noise, Tensor) else _const(log_q_noise, s_noise)
    lk = math.log(k)
    return -F.logsigmoid(s_target - lqt - lk) - F.logsigmoid(-(s_noise - lqn - lk)).sum(dim=-1)


class NCELoss(_SampledOutput):
    """Output layer (V, n_h) trained by NCE with k noise samples from ``proposal``; exp(W h + b) approaches the
    normalised model (self-normalisation). forward(h, y, context=None, samples=None) -> mean loss. The bias starts
    at log q (as SampledSoftmaxLoss's)."""

    def __init__(self, in_features, vocab_size, num_noise, proposal):
        super().__init__(in_features, vocab_size, proposal)
        self.num_noise = num_noise

    def forward(self, h, y, context=None, samples=None):
        y = _ids(y, "NCELoss")
        neg = self.proposal.sample(self.num_noise, context) if samples is None else _ids(samples, "samples")
        s_y, s_n = _scores(self.weight, self.bias, h, y, neg)
        lq_n = self.proposal.log_q(neg, context)
        if lq_n.ndim == 1:
            lq_n = np.broadcast_to(lq_n, (len(y), len(lq_n)))
        lq_y = self._log_q_target(y, context)
        return nce_loss(s_y, s_n, lq_y, lq_n, self.num_noise).mean()
