"""Margin (hinge) losses: the SVM hinge (Textbook 5.7.2), its multi-class and ranking forms, the hinge embedding
loss, and the soft margin log(1 + exp(-y x)) (PyTorch's names and reductions)."""
from __future__ import annotations

import numpy as np

from ....autograd.tensor import Tensor, _wrap, array_of
from ....backend import namespace_of, to_device_of
from ....ops import gather, relu, softplus
from ....ops import sum as _sum
from .._checks import tensor_args
from ._common import _as_target, _as_weight, _check_same, _reduce


@tensor_args("input")
def hinge_embedding_loss(input: Tensor, target, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """x if y = 1, max(0, margin - x) if y = -1 (PyTorch's HingeEmbeddingLoss)."""
    target = _as_target(target, input)
    _check_same("hinge_embedding_loss", input, target)
    pos = (target == 1).type(input.dtype)
    loss = input * pos + relu(margin - input) * (target == -1).type(input.dtype)
    return _reduce(loss, reduction, "hinge_embedding_loss")


@tensor_args("input")
def hinge_loss(input: Tensor, target, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Binary SVM hinge max(0, margin - y f(x)) with y in {-1, +1} (textbook 5.7.2)."""
    target = _as_target(target, input)
    _check_same("hinge_loss", input, target)
    return _reduce(relu(margin - target * input), reduction, "hinge_loss")


@tensor_args("input")
def multi_margin_loss(
    input: Tensor, target, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"
) -> Tensor:
    """Multi-class hinge: sum_{j != y} max(0, margin - z_y + z_j)^p / C; input (N, C), target (N,) indices."""
    n, c = input.shape
    t = to_device_of(array_of(target).astype(np.intp), input)
    xp = namespace_of(t)
    zy = gather(input, 1, _wrap(t[:, None]))
    m = relu(input - zy + margin)
    if p == 2:
        m = m * m
    mask = xp.ones((n, c), dtype=input._data.dtype)
    mask[xp.arange(n), t] = 0
    m = m * _wrap(mask)
    weight = _as_weight(weight, input)
    if weight is not None:
        m = m * weight[_wrap(t)].reshape((-1, 1))
    return _reduce(_sum(m, 1) / c, reduction, "multi_margin_loss")


@tensor_args("input1", "input2")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target, margin: float = 0.0, reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin) with y in {-1, +1}."""
    target = _as_target(target, input1)
    return _reduce(relu(-target * (input1 - input2) + margin), reduction, "margin_ranking_loss")


@tensor_args("input")
def soft_margin_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)) = softplus(-y x) with y in {-1, +1}."""
    target = _as_target(target, input)
    _check_same("soft_margin_loss", input, target)
    return _reduce(softplus(-target * input, threshold=None), reduction, "soft_margin_loss")
