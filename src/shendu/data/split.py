"""Splitting data: `random_split` (train/validation sets) and `KFold` (textbook 003 §1.6.3, k-fold cross-validation).

k-fold cross-validation splits the data into k disjoint subsets of (nearly) equal size; run i
holds out subset i for evaluation and trains on the rest, and the k scores are averaged.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .dataset import Subset
from .loader import _draw_seed, as_generator

__all__ = ["random_split", "KFold"]


def _split_sizes(n, lengths):
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ValueError(f"random_split: lengths {lengths} must be >= 0 and sum to the data set length {n}")
        return [int(x) for x in lengths]
    fracs = [float(x) for x in lengths]
    if any(f < 0 or f > 1 for f in fracs) or not math.isclose(sum(fracs), 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: fractions {lengths} must lie in [0, 1] and sum to 1")
    sizes = [int(math.floor(n * f)) for f in fracs]
    for i in range(n - sum(sizes)):  # distribute the remainder round-robin, like PyTorch
        sizes[i % len(sizes)] += 1
    return sizes


def random_split(dataset, lengths, seed=None):
    """Randomly partition `dataset` into non-overlapping `Subset`s of the given lengths or fractions."""
    n = len(dataset)
    sizes = _split_sizes(n, lengths)
    perm = as_generator(seed, name="random_split seed").permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


class KFold:
    """k-fold cross-validation indices: `split(n)` yields (train_idx, val_idx) k times.

    Fold sizes: the first n % k folds have n // k + 1 examples, the rest n // k (as scikit-learn).
    With shuffle=True the indices are permuted by a Generator seeded by `seed` (drawn once at
    construction when None), so every `split` call gives the same folds, as scikit-learn with an int seed.
    """

    def __init__(self, n_splits=5, shuffle=False, seed=None):
        if not isinstance(n_splits, numbers.Integral) or n_splits < 2:
            raise ValueError(f"KFold: n_splits must be an int >= 2, got {n_splits!r}")
        self.n_splits = int(n_splits)
        self.shuffle = bool(shuffle)
        if seed is not None and not isinstance(seed, numbers.Integral):
            raise TypeError(f"KFold: seed must be None or an int, got {type(seed).__name__}")
        self.seed = int(_draw_seed() if seed is None else seed)

    def get_n_splits(self) -> int:
        """Number of folds k."""
        return self.n_splits

    def split(self, n):
        """Yield (train_idx, val_idx) int arrays for `n` examples (an int, or anything with a length)."""
        if not isinstance(n, numbers.Integral):
            n = len(n)
        n = int(n)
        if n < self.n_splits:
            raise ValueError(f"KFold: cannot split {n} examples into {self.n_splits} folds")
        indices = np.random.default_rng(self.seed).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.intp)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            mask = np.zeros(n, dtype=bool)
            mask[indices[start:start + size]] = True
            yield np.flatnonzero(~mask), np.flatnonzero(mask)  # both sorted, as scikit-learn
            start += size
