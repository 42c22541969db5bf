"""Dropout boosting (Warde-Farley et al. 2014; textbook 7.12): train the dropout ensemble as one model, i.e. maximise
the ensemble's likelihood (1/k) sum_k p_k(y|x) over k sampled subnetworks, instead of dropout's mean
log-likelihood (1/k) sum_k log p_k(y|x). The book cites it as a control experiment: same masks, almost no
regularisation."""
from __future__ import annotations

import math
import numbers

from ..autograd.tensor import Tensor
from ..nn.functional import cross_entropy
from ..ops.reduce import logsumexp
from ..ops.shape import stack

__all__ = ["dropout_boosting_loss"]


def dropout_boosting_loss(model, x: Tensor, y, n_masks: int = 2, reduction: str = "mean") -> Tensor:
    """-log (1/K) sum_{k=1..K} p_k(y|x): the negative log-likelihood of the arithmetic-mean ensemble (7.53) of
    K = ``n_masks`` subnetworks, each a forward pass of ``model`` (in train mode, so its dropout layers draw a fresh
    mask) on the whole batch; computed as log K - logsumexp_k log p_k(y|x). With K = 1 it is the plain dropout
    loss (cross-entropy of one masked forward). model(x): logits (N, C); y: class indices (N,).
    reduction: 'mean' | 'sum' | 'none' over the N examples."""
    if not isinstance(n_masks, numbers.Integral) or isinstance(n_masks, bool) or n_masks < 1:
        raise ValueError(f"dropout_boosting_loss: n_masks must be an int >= 1, got {n_masks!r}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"dropout_boosting_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    logp = []
    for _ in range(int(n_masks)):
        out = model(x)
        if out.ndim != 2:
            raise ValueError(f"dropout_boosting_loss: model output must be logits (N, C), got shape {tuple(out.shape)}")
        logp.append(-cross_entropy(out, y, reduction="none"))  # log p_k(y_n | x_n), (N,)
    per_example = math.log(n_masks) - logsumexp(stack(logp, dim=0), dim=0)
    if reduction == "none":
        return per_example
    return per_example.mean() if reduction == "mean" else per_example.sum()
