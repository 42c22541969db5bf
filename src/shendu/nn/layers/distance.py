"""Similarity, distance and embedding-loss layers (torch.nn.CosineSimilarity, PairwiseDistance,
TripletMarginLoss, CosineEmbeddingLoss): Modules over ``nn.functional.distance``, used by RBF units and
metric learning (Textbook 6.3.3 radial basis units; 5.7.2 margins)."""
from __future__ import annotations

from ..functional.distance import cosine_embedding_loss, cosine_similarity, pairwise_distance, triplet_margin_loss
from ..module import Module


class CosineSimilarity(Module):
    """Cosine similarity x1 . x2 / max(||x1|| ||x2||, eps) of two inputs along ``dim``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, dim=self.dim, eps=self.eps)


class PairwiseDistance(Module):
    """p-norm distance ||x1 - x2 + eps||_p between rows of two inputs."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.p, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, p=self.p, eps=self.eps, keepdim=self.keepdim)


class TripletMarginLoss(Module):
    """max(d(a, p) - d(a, n) + margin, 0), averaged (see F.triplet_margin_loss)."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
        super().__init__()
        if swap:
            raise ValueError("TripletMarginLoss: swap=True is not supported")
        self.margin, self.p, self.eps, self.reduction = margin, p, eps, reduction

    def forward(self, anchor, positive, negative):
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.reduction)


class CosineEmbeddingLoss(Module):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1."""

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__()
        self.margin, self.reduction = margin, reduction

    def forward(self, x1, x2, target):
        return cosine_embedding_loss(x1, x2, target, self.margin, self.reduction)
