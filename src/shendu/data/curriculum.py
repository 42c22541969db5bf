"""Curriculum learning as a sampler (textbook 8.7.6; Bengio et al. 2009; Zaremba & Sutskever 2014).

``CurriculumSampler(difficulty, schedule)`` admits, in epoch e, the easiest fraction ``schedule(e)`` of the data
(ranked by ``difficulty``, ties broken by index) and yields those indices shuffled; the fraction grows over epochs,
so early objectives J^(i) give simple examples more influence (continuation view). ``mix`` > 0 gives the stochastic
curriculum: that share of each epoch's draws comes uniformly from the whole data set, the rest from the admitted
easy part, so hard examples appear from the start and their proportion rises as the fraction grows.
Use with ``DataLoader(dataset, batch_size, sampler=CurriculumSampler(...))``; each pass over the sampler is one
epoch (``set_epoch(e)`` jumps), and ``len()`` is the size of the next epoch.
"""
from __future__ import annotations

import numpy as np

from .loader import as_generator

__all__ = ["CurriculumSampler", "linear_schedule", "curriculum_weights"]


def linear_schedule(start: float = 0.25, epochs: int = 5):
    """fraction(e) = start + (1 - start) * min(e / epochs, 1).

    Grows from ``start`` to the whole data set in ``epochs`` epochs."""
    if not 0.0 < start <= 1.0 or epochs < 0:
        raise ValueError(f"linear_schedule: need 0 < start <= 1 and epochs >= 0, got {start}, {epochs}")
    return lambda e: 1.0 if epochs == 0 else start + (1.0 - start) * min(e / epochs, 1.0)


def curriculum_weights(difficulty, fraction: float, hard_weight: float = 0.0) -> np.ndarray:
    """Per-example cost weights of the curriculum objective J^(i) (textbook 8.7.6, the weighting form): 1 for the
    easiest ``fraction`` of the examples (by ``difficulty``, ties by index), ``hard_weight`` for the others.
    (N,) float32."""
    d = np.asarray(difficulty.numpy() if hasattr(difficulty, "numpy") else difficulty, dtype=np.float64)
    if d.ndim != 1 or d.size == 0 or not 0.0 < fraction <= 1.0 or hard_weight < 0:
        raise ValueError(f"curriculum_weights: need 1-D difficulty, 0 < fraction <= 1 and hard_weight >= 0, got shape "
                         f"{d.shape}, {fraction}, {hard_weight}")
    w = np.full(d.size, hard_weight, dtype=np.float32)
    w[np.argsort(d, kind="stable")[:max(1, int(round(fraction * d.size)))]] = 1.0
    return w


class CurriculumSampler:
    """Indices of the easiest ``schedule(epoch)`` fraction by ``difficulty`` (N,), shuffled each epoch.

    schedule: callable epoch -> fraction in (0, 1] (default ``linear_schedule(0.25, 5)``); mix: share of draws taken
    uniformly from all N (stochastic curriculum); generator: int seed or numpy Generator."""

    def __init__(self, difficulty, schedule=None, mix: float = 0.0, generator=None, shuffle: bool = True):
        d = np.asarray(difficulty.numpy() if hasattr(difficulty, "numpy") else difficulty, dtype=np.float64)
        if d.ndim != 1 or d.size == 0 or not np.isfinite(d).all():
            raise ValueError(
                f"CurriculumSampler: difficulty must be a non-empty 1-D array of finite numbers, got shape {d.shape}"
            )
        if not 0.0 <= mix <= 1.0:
            raise ValueError(f"CurriculumSampler: mix must be in [0, 1], got {mix}")
        self.difficulty = d
        self.order = np.argsort(d, kind="stable")  # easiest first
        self.schedule = linear_schedule() if schedule is None else schedule
        if not callable(self.schedule):
            raise TypeError(
                f"CurriculumSampler: schedule must be callable epoch -> fraction, got {type(schedule).__name__}"
            )
        self.mix, self.shuffle, self.epoch = float(mix), bool(shuffle), 0
        self._gen = as_generator(generator, "generator")

    def fraction(self, epoch=None) -> float:
        f = float(self.schedule(self.epoch if epoch is None else epoch))
        if not 0.0 < f <= 1.0:
            raise ValueError(
                f"CurriculumSampler: schedule({self.epoch if epoch is None else epoch}) = {f} is not in (0, 1]"
            )
        return f

    def admitted(self, epoch=None) -> np.ndarray:
        """The indices admitted in ``epoch`` (default: the next one), easiest first."""
        n = len(self.order)
        return self.order[:max(1, int(round(self.fraction(epoch) * n)))]

    def example_weights(self, epoch=None, hard_weight: float = 0.0) -> np.ndarray:
        """``curriculum_weights`` at this sampler's fraction for ``epoch`` (default: the next one).

        For a weighted loss."""
        return curriculum_weights(self.difficulty, self.fraction(epoch), hard_weight)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.admitted())

    def __iter__(self):
        idx = self.admitted()
        g = self._gen
        if self.mix > 0:
            k = len(idx)
            from_all = g.random(k) < self.mix
            out = np.where(from_all, g.integers(0, len(self.order), k), idx[g.integers(0, k, k)])
        else:
            out = g.permutation(idx) if self.shuffle else idx.copy()
        self.epoch += 1
        return iter(out.tolist())
