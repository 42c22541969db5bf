"""Distances and similarities between vectors (used by RBF units, ranking and embedding losses)."""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops import clamp, maximum, sqrt
from ...ops import sum as _sum


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim (PyTorch's pairwise_distance). (*, D), (*, D) -> (*)."""
    d = (x1 - x2 + eps).abs()
    if p == 2:
        return sqrt(_sum(d * d, -1, keepdim=keepdim))
    if p == 1:
        return _sum(d, -1, keepdim=keepdim)
    return _sum(d ** p, -1, keepdim=keepdim) ** (1.0 / p)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / max(||x1|| ||x2||, eps) along ``dim``."""
    num = _sum(x1 * x2, dim)
    n1 = _sum(x1 * x1, dim)
    n2 = _sum(x2 * x2, dim)
    return num / sqrt(clamp(n1 * n2, min=eps * eps))


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """All pairwise p-norm distances: (N, D), (M, D) -> (N, M). p = 2 via ||a||^2 - 2 a.b + ||b||^2."""
    if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
        raise ValueError(f"cdist: expected (N, D) and (M, D), got {tuple(x1.shape)} and {tuple(x2.shape)}")
    if p == 2:
        d2 = _sum(x1 * x1, 1, keepdim=True) - (x1 @ x2.transpose(0, 1)) * 2 + _sum(x2 * x2, 1).reshape((1, -1))
        return sqrt(maximum(d2, 0.0))
    diff = (x1.unsqueeze(1) - x2.unsqueeze(0)).abs()
    if p == 1:
        return _sum(diff, -1)
    return _sum(diff ** p, -1) ** (1.0 / p)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with pairwise_distance d."""
    from ...ops import relu
    from .loss import _reduce

    loss = relu(pairwise_distance(anchor, positive, p, eps) - pairwise_distance(anchor, negative, p, eps) + margin)
    return _reduce(loss, reduction, "triplet_margin_loss")


def cosine_embedding_loss(x1: Tensor, x2: Tensor, target, margin: float = 0.0, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) if y = 1, max(0, cos(x1, x2) - margin) if y = -1 (PyTorch's CosineEmbeddingLoss)."""
    from ...ops import relu
    from .loss import _as_target, _reduce

    target = _as_target(target, x1)
    cos = cosine_similarity(x1, x2, 1, eps=1e-12) if x1.ndim > 1 else cosine_similarity(x1, x2, 0, eps=1e-12)
    pos = (target == 1).type(x1.dtype)
    neg = (target == -1).type(x1.dtype)
    return _reduce((1 - cos) * pos + relu(cos - margin) * neg, reduction, "cosine_embedding_loss")
