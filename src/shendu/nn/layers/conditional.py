"""Conditional computation (Textbook 12.1.5): ``ConditionalBlockDropout``, a hidden layer split into blocks,
each switched on per example by a Bernoulli policy pi(x) (Bengio et al. 2015), trained with REINFORCE (policy
gradient) plus a sparsity target; at test time the policy's mode (p > 0.5) picks the blocks, and only those
are computed."""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import generator_for, namespace_of
from ...ops import index_add, index_select, log, sigmoid, zeros
from ..module import Module
from .linear import Linear


class ConditionalBlockDropout(Module):
    """h = relu(x W^T + b) with its units in ``n_blocks`` blocks, block j kept per example with probability
    p_j(x) = sigmoid(x V^T + c)_j (a learned policy; textbook 12.1.5 "conditional dropout on blocks of hidden
    units", trained by policy gradient). x: (N, in) -> (N, out).

    Training: masks m ~ Bernoulli(p) are sampled, ``log_prob`` keeps sum_j log P(m_j); call
    ``reinforce_loss(reward)`` (reward per example, e.g. minus the task loss) and add it to the task loss:
    -(reward - baseline) * log_prob (the REINFORCE estimator; baseline = running mean reward) plus
    ``sparsity_weight`` * (mean p - target_rate)^2. Eval: blocks with p > 0.5 are kept, and only the kept
    blocks' rows of W are computed (grouped by mask pattern). ``last_active`` is the fraction of blocks run."""

    def __init__(self, in_features: int, out_features: int, n_blocks: int, target_rate: float = 0.5,
                 sparsity_weight: float = 1.0, baseline_momentum: float = 0.9, dtype=None):
        super().__init__()
        if n_blocks < 1 or out_features % n_blocks:
            raise ValueError(f"ConditionalBlockDropout: out_features={out_features} must be a positive multiple of "
                             f"n_blocks={n_blocks}")
        if not 0.0 <= target_rate <= 1.0:
            raise ValueError(f"ConditionalBlockDropout: target_rate must lie in [0, 1], got {target_rate}")
        self.in_features, self.out_features, self.n_blocks = in_features, out_features, n_blocks
        self.layer = Linear(in_features, out_features, dtype=dtype)
        self.policy = Linear(in_features, n_blocks, dtype=dtype)
        self.target_rate, self.sparsity_weight = float(target_rate), float(sparsity_weight)
        self.baseline_momentum = float(baseline_momentum)
        self.baseline = None
        self.log_prob = None
        self.probs = None
        self.last_active = None
        self.last_mask = None  # the (N, n_blocks) mask sampled in the last training forward

    def block_probs(self, x) -> Tensor:
        return sigmoid(self.policy(x))

    def forward(self, x):
        B = self.out_features // self.n_blocks
        p = self.block_probs(x)
        self.probs = p
        if self.training:
            u = generator_for(p._data).random(p.shape, dtype=np.float64)
            m = (u < p._data).astype(p._data.dtype)
            mt = _wrap(m)
            eps = 1e-7
            self.log_prob = (mt * log(p.clamp(eps, 1.0)) + (1.0 - mt) * log((1.0 - p).clamp(eps, 1.0))).sum(1)
            self.last_active = float(m.mean())
            self.last_mask = mt
            h = self.layer(x).relu()
            mask = _wrap(namespace_of(m).repeat(m, B, axis=1))
            return h * mask
        return self._sparse_eval(x, p._data > 0.5, B)

    def _sparse_eval(self, x, keep, B):
        """Only the kept blocks' rows of W are multiplied, per group of examples sharing a mask pattern."""
        xp = namespace_of(keep)
        N = x.shape[0]
        self.log_prob = None
        self.last_active = float(keep.mean()) if keep.size else 0.0
        out = zeros((N, self.out_features), dtype=x.dtype, device=x.device)
        if N == 0:
            return out
        codes = (keep.astype(np.int64) * (2 ** xp.arange(self.n_blocks))[None, :]).sum(1)
        W, b = self.layer.weight, self.layer.bias
        for code in [int(c) for c in xp.unique(codes)]:
            rows = xp.nonzero(codes == code)[0]
            blocks = [j for j in range(self.n_blocks) if code >> j & 1]
            if not blocks:
                continue
            units = xp.concatenate([xp.arange(j * B, (j + 1) * B) for j in blocks])
            xr = index_select(x, 0, _wrap(rows))
            h = (xr @ index_select(W, 0, _wrap(units)).transpose(0, 1) + index_select(b, 0, _wrap(units))).relu()
            full = index_add(zeros((rows.shape[0], self.out_features), dtype=x.dtype, device=x.device), 1,
                             _wrap(units), h)
            out = index_add(out, 0, _wrap(rows), full)
        return out

    def reinforce_loss(self, reward) -> Tensor:
        """Policy-gradient surrogate for the last training forward: -mean((r - baseline) * log pi(m|x)) +
        sparsity_weight * (mean p - target_rate)^2; ``reward`` (N,) is treated as a constant."""
        if self.log_prob is None:
            raise RuntimeError("ConditionalBlockDropout.reinforce_loss: call forward in training mode first")
        r = reward.detach() if isinstance(reward, Tensor) else _wrap(namespace_of(self.log_prob._data).asarray(reward))
        r = r.reshape(-1)
        mean_r = float(r.mean().item())
        if self.baseline is None:
            self.baseline = mean_r
        adv = r - self.baseline
        self.baseline = self.baseline_momentum * self.baseline + (1 - self.baseline_momentum) * mean_r
        pg = -(adv * self.log_prob).mean()
        gap = self.probs.mean() - self.target_rate
        return pg + gap * gap * self.sparsity_weight
