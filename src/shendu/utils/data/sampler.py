"""Samplers (torch.utils.data.sampler): iterables of data set indices for ``DataLoader(sampler=, batch_sampler=)``.

Random samplers draw from their ``generator`` (an int seed or a NumPy Generator) or, by default, a seed drawn
from shendu's global generator each epoch, so ``sd.manual_seed`` fixes the order."""
from __future__ import annotations

import numpy as np

from ...data.loader import _draw_seed, as_generator


def _rng(generator):
    return np.random.default_rng(_draw_seed()) if generator is None else as_generator(
        generator.get_generator() if hasattr(generator, "get_generator") else generator, "generator")


class Sampler:
    """Base class: iterate over indices of a data set."""

    def __init__(self, data_source=None):
        self.data_source = data_source

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1 in order."""

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each epoch (or ``num_samples`` draws with replacement)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        super().__init__(data_source)
        self.replacement, self._num_samples, self.generator = bool(replacement), num_samples, generator
        if generator is not None:
            self._gen = _rng(generator)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def __iter__(self):
        g = self._gen if self.generator is not None else _rng(None)
        n = len(self.data_source)
        if self.replacement:
            return iter(g.integers(0, n, self.num_samples).tolist())
        reps = -(-self.num_samples // n) if n else 0
        return iter(np.concatenate([g.permutation(n) for _ in range(reps)] or [np.zeros(0, int)])[:self.num_samples].tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each epoch."""

    def __init__(self, indices, generator=None):
        super().__init__(None)
        self.indices, self.generator = list(indices), generator
        if generator is not None:
            self._gen = _rng(generator)

    def __iter__(self):
        g = self._gen if self.generator is not None else _rng(None)
        return iter([self.indices[i] for i in g.permutation(len(self.indices))])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        super().__init__(None)
        w = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, dtype=np.float64)
        if w.ndim != 1 or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"WeightedRandomSampler: weights must be a 1-D sequence of non-negative numbers with a positive sum, got shape {w.shape}")
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError(f"WeightedRandomSampler: num_samples={num_samples} > number of positive weights without replacement")
        self.weights, self.num_samples, self.replacement, self.generator = w / w.sum(), int(num_samples), replacement, generator
        if generator is not None:
            self._gen = _rng(generator)

    def __iter__(self):
        g = self._gen if self.generator is not None else _rng(None)
        return iter(g.choice(len(self.weights), self.num_samples, replace=self.replacement, p=self.weights).tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"BatchSampler: batch_size must be a positive int, got {batch_size!r}")
        super().__init__(None)
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, bool(drop_last)

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(int(i))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
