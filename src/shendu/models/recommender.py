"""Recommender systems and relational embeddings (Goodfellow et al. 12.5.1 and 12.5.3; not in the course text):

* :class:`MatrixFactorization`: collaborative filtering r^_ui = mu + b_u + b_i + p_u . q_i (user and item
  embeddings learned from the observed ratings only; the SVD-style model of the Netflix prize);
* :class:`TransE` (Bordes et al. 2013): entities and relations in one space, a triple (h, r, t) is plausible when
  h + r ~ t; score = -||e_h + w_r - e_t||, trained with the margin ranking loss against corrupted triples."""
from __future__ import annotations

import numpy as np

from .. import nn, ops


class MatrixFactorization(nn.Module):
    """forward(users (B,), items (B,)) -> predicted ratings (B,) = mu + b_u + b_i + <p_u, q_i>."""

    def __init__(self, n_users, n_items, dim=8, global_mean=0.0):
        super().__init__()
        self.user, self.item = nn.Embedding(n_users, dim), nn.Embedding(n_items, dim)
        self.user_bias, self.item_bias = nn.Embedding(n_users, 1), nn.Embedding(n_items, 1)
        for e in (self.user, self.item):
            nn.init.normal_(e.weight, 0.0, 0.1)
        for e in (self.user_bias, self.item_bias):
            nn.init.zeros_(e.weight)
        self.global_mean = float(global_mean)

    def forward(self, users, items):
        dot = (self.user(users) * self.item(items)).sum(-1)
        return dot + self.user_bias(users).reshape(-1) + self.item_bias(items).reshape(-1) + self.global_mean


class TransE(nn.Module):
    """forward(heads, relations, tails) -> scores (B,) = -||e_h + w_r - e_t||_2 (higher = more plausible)."""

    def __init__(self, n_entities, n_relations, dim=16):
        super().__init__()
        self.entity, self.relation = nn.Embedding(n_entities, dim), nn.Embedding(n_relations, dim)
        bound = 6.0 / np.sqrt(dim)
        for e in (self.entity, self.relation):
            nn.init.uniform_(e.weight, -bound, bound)

    def forward(self, h, r, t):
        d = self.entity(h) + self.relation(r) - self.entity(t)
        return -((d * d).sum(-1) + 1e-9).sqrt()

    def margin_loss(self, pos, neg, margin=1.0):
        """mean max(0, margin - score(pos) + score(neg)) for triples pos, neg = (h, r, t) index tensors."""
        return ops.relu(margin - self(*pos) + self(*neg)).mean()
