"""Cascade of classifiers with early rejection (Textbook 12.1.5, dynamic structure; Viola & Jones 2001):
``Cascade([(model, threshold), ...])`` runs stages in order, each only on the examples no earlier stage
rejected; an example is accepted iff every stage accepts (score >= threshold). ``last_stats`` gives the rows
each stage evaluated and the compute saved against running every stage on every example.
``recall_threshold`` picks a high-recall threshold for an early stage."""
from __future__ import annotations

import numpy as np

from ...autograd import no_grad
from ...autograd.tensor import Tensor, _wrap
from ...backend import namespace_of, to_host
from ...ops import index_select, sigmoid, softmax
from ..containers import ModuleList
from ..module import Module


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
