"""Dynamic structure (textbook 12.1.5): mixture of experts, cascades of classifiers, conditional computation.

* ``MixtureOfExperts(experts, gater)``: a gater g(x) gives one weight per expert. ``gater='soft'``: weights
  softmax(g(x)), output sum_e w_e f_e(x) (every expert runs; W12.10). ``'top1'`` (hard mixture, one expert per
  example) and ``'topk'``: only the chosen experts run, each on the rows routed to it (per-branch batching:
  gather rows, run the expert once, scatter-add back). topk weights are the softmax over the k chosen logits
  (renormalised); top1 uses the chosen expert's softmax probability (Switch Transformer) so the gater still
  gets a gradient. ``aux_loss`` after a forward is the optional load-balancing loss E * sum_e f_e P_e
  (f_e: fraction of rows routed to e, P_e: mean gate probability), 1 when the load is uniform.
* ``Cascade([(model, threshold), ...])``: run stages in order, each only on the examples no earlier stage
  rejected; an example is accepted iff every stage accepts (score >= threshold). ``last_stats`` gives the rows
  each stage evaluated and the compute saved against running every stage on every example.
* ``ConditionalBlockDropout``: a hidden layer split into blocks, each switched on per example by a Bernoulli
  policy pi(x) (Bengio et al. 2015), trained with REINFORCE (policy gradient) plus a sparsity target; at test
  time the policy's mode (p > 0.5) picks the blocks, and only those are computed."""
from __future__ import annotations

import numpy as np

from ...autograd import no_grad
from ...autograd.tensor import Tensor, _wrap
from ...backend import generator_for, namespace_of, to_host
from ...ops import index_add, index_select, log, sigmoid, softmax, stack, zeros
from ..containers import ModuleList
from ..module import Module
from .linear import Linear

_MODES = ("soft", "top1", "topk")


def _in_features(experts):
    for e in experts:
        n = getattr(e, "in_features", None)
        if n is None and hasattr(e, "__getitem__"):
            try:
                n = getattr(e[0], "in_features", None)
            except (TypeError, IndexError, KeyError):
                n = None
        if n is not None:
            return n
    return None


class MixtureOfExperts(Module):
    """y = sum_e w_e(x) f_e(x) with a softmax gater (soft) or a hard top-1/top-k gater (textbook 12.1.5).

    experts: list of Modules mapping (N, in) -> (N, out), all with the same output shape. gater: 'soft',
    'top1', 'topk' (with ``k``), or a Module giving (N, E) gate logits (then ``mode`` picks the rule).
    The gate network defaults to ``Linear(in_features, E)`` (in_features read from the first expert when it
    has one). x: (N, in) -> (N, out)."""

    def __init__(self, experts, gater="soft", k: int = 1, in_features=None, mode=None, renormalize=None,
                 load_balance: bool = True):
        super().__init__()
        experts = list(experts)
        if not experts or not all(isinstance(e, Module) for e in experts):
            raise TypeError("MixtureOfExperts: experts must be a non-empty list of Modules")
        E = len(experts)
        self.experts = ModuleList(experts)
        if isinstance(gater, str):
            mode = gater if mode is None else mode
            n_in = in_features if in_features is not None else _in_features(experts)
            if n_in is None:
                raise ValueError("MixtureOfExperts: cannot infer the gate's input size; pass in_features=")
            self.gate = Linear(n_in, E)
        elif isinstance(gater, Module):
            self.gate = gater
            mode = "soft" if mode is None else mode
        else:
            raise TypeError(f"MixtureOfExperts: gater must be 'soft', 'top1', 'topk' or a Module, got {gater!r}")
        if mode not in _MODES:
            raise ValueError(f"MixtureOfExperts: gater mode must be one of {_MODES}, got {mode!r}")
        if mode == "top1":
            k = 1
        if not 1 <= int(k) <= E:
            raise ValueError(f"MixtureOfExperts: k must lie in [1, {E}] (the number of experts), got {k}")
        self.mode, self.k = mode, int(k)
        self.renormalize = (mode == "topk" and self.k > 1) if renormalize is None else bool(renormalize)
        self.load_balance = load_balance
        self.aux_loss = None
        self.last_counts = None  # rows each expert evaluated in the last forward

    def gate_probs(self, x) -> Tensor:
        """softmax(g(x)): (N, E) gate probabilities."""
        return softmax(self.gate(x), -1)

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"MixtureOfExperts: expected input (N, in_features), got shape {tuple(x.shape)}")
        logits = self.gate(x)
        E = len(self.experts)
        if logits.ndim != 2 or logits.shape[1] != E:
            raise ValueError(f"MixtureOfExperts: the gater gave shape {tuple(logits.shape)}, expected (N, {E})")
        probs = softmax(logits, -1)
        N = x.shape[0]
        if self.mode == "soft":
            ys = stack([e(x) for e in self.experts], 1)  # (N, E, *out)
            w = probs.reshape(probs.shape + (1,) * (ys.ndim - 2))
            self.last_counts = [N] * E
            self.aux_loss = None
            return (w * ys).sum(1)
        xp = namespace_of(logits._data)
        order = xp.argsort(-logits._data, axis=1, kind="stable")[:, :self.k]  # chosen experts (N, k)
        rows_all = xp.arange(N)
        if self.renormalize:
            chosen = logits[_wrap(rows_all[:, None]), _wrap(order)]  # (N, k) chosen logits
            w = softmax(chosen, -1)
        else:
            w = probs[_wrap(rows_all[:, None]), _wrap(order)]
        out = None
        counts = []
        for e, expert in enumerate(self.experts):
            hit = order == e
            rows, slots = xp.nonzero(hit)
            counts.append(int(rows.shape[0]))
            if rows.shape[0] == 0:
                continue
            ye = expert(index_select(x, 0, _wrap(rows)))
            we = w[_wrap(rows), _wrap(slots)]
            contrib = ye * we.reshape(we.shape + (1,) * (ye.ndim - 1))
            if out is None:
                out = zeros((N,) + tuple(ye.shape[1:]), dtype=ye.dtype, device=ye.device)
            out = index_add(out, 0, _wrap(rows), contrib)
        self.last_counts = counts
        if self.load_balance:
            top1 = order[:, 0]
            frac = (top1[:, None] == xp.arange(E)[None, :]).astype(probs._data.dtype).mean(axis=0)
            self.aux_loss = (probs.mean(0) * _wrap(frac)).sum() * float(E)
        return out

    def extra_repr(self):
        return f"experts={len(self.experts)}, gater={self.mode!r}, k={self.k}, renormalize={self.renormalize}"


def _default_score(out, positive_class):
    """Probability of the positive class from a stage's output: sigmoid of one logit, else softmax column."""
    if out.ndim == 1 or out.shape[-1] == 1:
        return sigmoid(out.reshape(-1))
    return softmax(out, -1)[:, positive_class]


def _cost(model):
    return float(sum(p.numel() for p in model.parameters())) or 1.0


class Cascade(Module):
    """A cascade of classifiers with early rejection (textbook 12.1.5; Viola & Jones 2001).

    ``Cascade([(model, threshold), ...], costs=None, positive_class=1)``: stage i scores the examples that
    every earlier stage accepted and rejects those with score < threshold_i; ``forward(x)`` returns the (N,)
    bool accept mask (the AND of the stage decisions). Early stages should be cheap and high-recall
    (``recall_threshold`` picks such a threshold), the last one precise. Costs default to each stage's
    parameter count (a proxy for multiply-adds per example). After a call, ``last_stats`` holds
    ``evaluated`` (rows per stage), ``rejected``, ``compute`` and ``compute_saved`` (1 - compute / compute of
    running every stage on every example)."""

    def __init__(self, stages, costs=None, positive_class: int = 1, score_fn=None):
        super().__init__()
        stages = list(stages)
        if not stages or not all(isinstance(s, (tuple, list)) and len(s) == 2 and isinstance(s[0], Module)
                                 for s in stages):
            raise TypeError("Cascade: expected a non-empty list of (model, threshold) pairs")
        self.stages = ModuleList([m for m, _ in stages])
        self.thresholds = [float(t) for _, t in stages]
        if costs is not None and len(costs) != len(stages):
            raise ValueError(f"Cascade: {len(costs)} costs for {len(stages)} stages")
        self.costs = None if costs is None else [float(c) for c in costs]
        self.positive_class = positive_class
        self.score_fn = score_fn or (lambda out: _default_score(out, positive_class))
        self.last_stats = None

    def stage_scores(self, x):
        """Every stage's score on every example (no early exit): a list of (N,) tensors (for analysis)."""
        with no_grad():
            return [self.score_fn(m(x)) for m in self.stages]

    def forward(self, x):
        N = x.shape[0]
        xp = namespace_of(x._data)
        alive = xp.arange(N)
        accept = xp.zeros(N, dtype=bool)
        evaluated, rejected = [], []
        costs = self.costs or [_cost(m) for m in self.stages]
        with no_grad():
            for m, thr in zip(self.stages, self.thresholds):
                evaluated.append(int(alive.shape[0]))
                if alive.shape[0] == 0:
                    rejected.append(0)
                    continue
                s = self.score_fn(m(index_select(x, 0, _wrap(alive))))._data
                keep = s >= thr
                rejected.append(int((~keep).sum()))
                alive = alive[keep]
        accept[alive] = True
        compute = float(sum(n * c for n, c in zip(evaluated, costs)))
        full = float(N * sum(costs)) or 1.0
        self.last_stats = {"evaluated": evaluated, "rejected": rejected, "compute": compute,
                           "compute_full": full, "compute_saved": 1.0 - compute / full}
        return _wrap(accept)


def recall_threshold(model, x, y, recall: float = 0.99, positive_class: int = 1, score_fn=None) -> float:
    """The largest threshold that keeps at least ``recall`` of the positives of (x, y) (for early, high-recall
    cascade stages): the (1 - recall) quantile of the positives' scores, rounded down."""
    if not 0.0 < recall <= 1.0:
        raise ValueError(f"recall_threshold: recall must lie in (0, 1], got {recall}")
    score_fn = score_fn or (lambda out: _default_score(out, positive_class))
    with no_grad():
        s = to_host(score_fn(model(x))._data)  # host-side statistics (a threshold is a Python float)
    yh = to_host(y._data) if isinstance(y, Tensor) else (to_host(y) if hasattr(y, "shape") else np.asarray(y))
    pos = np.sort(s[yh == positive_class])
    if pos.size == 0:
        raise ValueError("recall_threshold: no positive examples")
    drop = int(np.floor((1.0 - recall) * pos.size + 1e-9))
    return float(np.nextafter(pos[drop], -np.inf))


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


__all__ = ["Cascade", "ConditionalBlockDropout", "MixtureOfExperts", "recall_threshold"]
