"""Bernoulli (sigmoid) cross-entropies (Textbook 6.2.2.2, eq. 6.22-6.23): from logits through softplus, never
log(sigmoid); on probabilities with logs clamped at -100 as PyTorch; and the multi-label forms."""
from __future__ import annotations

from ....autograd.tensor import Tensor, _wrap
from ....backend import namespace_of
from ....ops import clamp, log, softplus, where
from .._checks import tensor_args
from ._common import _as_target, _as_weight, _check_same, _min_max, _reduce


@tensor_args("input")
def binary_cross_entropy_with_logits(input: Tensor, target, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid cross-entropy from logits z: (1 - y) z + softplus(-z) = softplus(z) - y z
    (textbook 6.2.2.2, eq. 6.22-6.23: through softplus, never log(sigmoid)). Shapes: any, equal."""
    target = _as_target(target, input)
    _check_same("binary_cross_entropy_with_logits", input, target)
    if pos_weight is None:
        loss = softplus(input, threshold=None) - target * input
    else:  # -[p y log s(z) + (1-y) log(1-s(z))] = p y softplus(-z) + (1-y) softplus(z)
        loss = target * _as_weight(pos_weight, input) * softplus(-input, threshold=None) + (1 - target) * softplus(
            input, threshold=None
        )
    weight = _as_weight(weight, input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _safe_log(p: Tensor) -> Tensor:
    """log p floored at -100 (PyTorch's BCE convention); log(0) gives -100 with a zero gradient, never NaN."""
    xp = namespace_of(p._data)
    pos = _wrap(p._data > 0)
    return clamp(
        where(pos, log(where(pos, p, _wrap(xp.ones_like(p._data)))), _wrap(xp.full_like(p._data, -100.0))), min=-100.0
    )


@tensor_args("input")
def binary_cross_entropy(input: Tensor, target, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] on probabilities p, logs clamped at -100 as PyTorch (textbook 6.2.2.2).

    Prefer ``binary_cross_entropy_with_logits`` (stable)."""
    target = _as_target(target, input)
    _check_same("binary_cross_entropy", input, target)
    if input._data.size:  # probabilities only, as PyTorch (NaN fails too); one host sync on a device
        lo, hi = _min_max(input._data)
        if not (lo >= 0 and hi <= 1):
            raise ValueError(f"binary_cross_entropy: all elements of input should be probabilities in [0, 1], got "
                             f"min {lo}, max {hi} (for logits use binary_cross_entropy_with_logits)")
    lo = _safe_log(input)
    l1 = _safe_log(1 - input)
    loss = -(target * lo + (1 - target) * l1)
    weight = _as_weight(weight, input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


@tensor_args("input")
def multilabel_soft_margin_loss(input: Tensor, target, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """Multi-label sigmoid cross-entropy: mean over the C labels of BCE-with-logits, per sample (N, C) -> (N,)."""
    target = _as_target(target, input)
    _check_same("multilabel_soft_margin_loss", input, target)
    loss = softplus(input, threshold=None) - target * input
    weight = _as_weight(weight, input)
    if weight is not None:
        loss = loss * weight
    loss = loss.mean(-1)
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


@tensor_args("input")
def sigmoid_cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Multi-label sigmoid cross-entropy, one independent Bernoulli per output (textbook 6.2.2.2)."""
    return binary_cross_entropy_with_logits(input, target, reduction=reduction)
