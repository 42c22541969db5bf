"""Text data augmentation (text 003 section on augmentation, T3.18): synonym replacement on token lists and
interpolation between word embeddings (mixup in embedding space). Host-side token code uses Python/NumPy;
the embedding interpolation composes tensor ops."""
from __future__ import annotations

import numpy as np


def synonym_replace(tokens, synonyms, p=0.2, rng=None):
    """Replace each token that has synonyms (``synonyms``: dict token -> list of tokens) with probability ``p``
    by one of them, drawn uniformly. Returns a new token list of the same length."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"synonym_replace: p must be in [0, 1], got {p}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    out = []
    for t in tokens:
        alts = synonyms.get(t)
        if alts and rng.random() < p:
            out.append(alts[int(rng.integers(len(alts)))])
        else:
            out.append(t)
    return out


def interpolate_embeddings(e_a, e_b, lam):
    """lam * e_a + (1 - lam) * e_b for embedding tensors of the same shape (a new training input between two
    examples in embedding space; pair it with the same mix of their targets). lam in [0, 1]."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"interpolate_embeddings: lam must be in [0, 1], got {lam}")
    if tuple(e_a.shape) != tuple(e_b.shape):
        raise ValueError(f"interpolate_embeddings: shapes differ, {tuple(e_a.shape)} vs {tuple(e_b.shape)}")
    return e_a * lam + e_b * (1.0 - lam)
