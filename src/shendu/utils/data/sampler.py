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
        return iter(
            np.concatenate([g.permutation(n) for _ in range(reps)] or [np.zeros(0, int)])[: self.num_samples].tolist()
        )

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
            raise ValueError(
                "WeightedRandomSampler: weights must be a 1-D sequence of non-negative numbers with a positive sum, "
                f"got shape {w.shape}"
            )
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError(
                f"WeightedRandomSampler: num_samples={num_samples} > number of positive weights without replacement"
            )
        self.weights, self.num_samples, self.replacement, self.generator = (
            w / w.sum(),
            int(num_samples),
            replacement,
            generator,
        )
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


class DistributedSampler(Sampler):
    """This rank's share of a data set's indices for data-parallel training (textbook 12.1.3; torch's name).

    Every epoch all ranks draw the same order (a permutation seeded by ``seed + epoch`` when ``shuffle``; call
    ``set_epoch(e)`` at the start of each epoch) and rank r takes indices ``order[r::num_replicas]``. Without
    ``drop_last`` the order is padded by repeating its start so every rank gets ``ceil(n / num_replicas)``
    indices; with it the tail that does not divide evenly is dropped. num_replicas / rank default to the
    initialized process group's (1 and 0 without one)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        super().__init__(dataset)
        if num_replicas is None or rank is None:
            from ...distributed import _group

            on = _group.is_initialized()
            num_replicas = (_group.get_world_size() if on else 1) if num_replicas is None else num_replicas
            rank = (_group.get_rank() if on else 0) if rank is None else rank
        if int(num_replicas) < 1 or not 0 <= int(rank) < int(num_replicas):
            raise ValueError(f"DistributedSampler: invalid rank {rank} for num_replicas={num_replicas} "
                             "(expected 0 <= rank < num_replicas)")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), int(seed), bool(drop_last), 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = -(-n // self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Use the order of epoch ``epoch`` (shuffled differently each epoch, identically on every rank)."""
        self.epoch = int(epoch)

    def __iter__(self):
        n = len(self.dataset)
        order = (
            np.random.default_rng(self.seed + self.epoch).permutation(n) if self.shuffle else np.arange(n)
        ).tolist()
        if self.drop_last:
            order = order[:self.total_size]
        elif order and len(order) < self.total_size:
            pad = self.total_size - len(order)
            order += (order * (-(-pad // len(order))))[:pad]
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples
