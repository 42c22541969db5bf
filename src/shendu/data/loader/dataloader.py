"""`DataLoader`: minibatches of a data set (textbook 8.1.3), reshuffled every epoch, batched by fancy
indexing for array-backed data sets, optionally prefetched or loaded in worker processes.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .collate import _collate, _fetch_batch, _to_tensors
from .prefetch import _prefetch
from .seeds import _draw_seed, as_generator


class DataLoader:
    """Iterate over `dataset` in minibatches of `batch_size`; `len(loader)` = number of batches.

    shuffle: new permutation each epoch: from a seed drawn from shendu's global generator when iteration starts
    (PyTorch's behaviour: ``sd.manual_seed`` after building the loader fixes it), or from the loader's own
    Generator when ``seed``/``generator`` is given.
    transform: callable applied to the input batch (field 0, an array) before conversion.
    collate_fn: list of samples -> batch; when given, samples are always fetched one by one.
    prefetch: number of batches prepared ahead in a background thread (0 = none).
    sampler / batch_sampler: iterables of indices / of index lists (torch's ``shendu.utils.data`` samplers),
    exclusive with ``shuffle`` (and batch_sampler with batch_size/drop_last), as in PyTorch.
    generator: an int seed or NumPy Generator for the shuffle (replaces ``seed``).
    shuffle="once": one permutation drawn at the first epoch and kept for every later one (textbook 8.1.3:
    shuffling once is enough for huge data sets).
    Iterable-style data sets (``utils.data.IterableDataset``, or any object with ``__iter__`` and no
    ``__getitem__``, e.g. a generator): read in their own order and batched as they stream in, each example used
    once per pass (streaming/online learning, textbook 8.1.3); no shuffle, sampler or workers; ``len`` only when
    the data set has one.
    num_workers > 0: batches are fetched by that many worker processes (``shendu.data._workers``), each sent
    whole index batches by this process (which keeps the sampler), ``prefetch_factor`` (2) batches ahead per
    worker; ``worker_init_fn(worker_id)`` runs once in each worker, ``get_worker_info()`` describes the worker,
    ``persistent_workers`` keeps them across epochs, ``timeout`` (s) bounds the wait for a batch, and
    ``multiprocessing_context`` picks the start method ('fork' on Linux, else 'spawn'). A seeded run gives the
    batches of ``num_workers=0``, except for random transforms: each worker is seeded from the loader's base
    seed + worker id (as PyTorch), so their draws differ. pin_memory is accepted (host batches; no-op).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, transform=None, seed=None, prefetch=0, as_tensor=True):
        if batch_size is None and batch_sampler is None:
            raise ValueError("DataLoader: batch_size=None (no automatic batching) is not supported; pass a batch_size")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError(
                "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                "and drop_last"
            )
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative, got {num_workers!r}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError("DataLoader: worker_init_fn must be callable")
        self._iterable = bool(getattr(dataset, "_iterable_style", False)) or (
            hasattr(dataset, "__iter__") and not hasattr(dataset, "__getitem__"))
        if isinstance(shuffle, str):
            if shuffle != "once":
                raise ValueError(f"DataLoader: shuffle must be a bool or 'once', got {shuffle!r}")
        self._shuffle_once, self._once_order = shuffle == "once", None
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None or num_workers):
            raise ValueError("DataLoader: an iterable-style dataset is read in its own order; shuffle, sampler, "
                             "batch_sampler and num_workers are not supported with it")
        shuffle = bool(shuffle)
        self.sampler, self.batch_sampler, self.num_workers = sampler, batch_sampler, int(num_workers)
        self.pin_memory, self.persistent_workers, self.worker_init_fn = (
            bool(pin_memory),
            bool(persistent_workers),
            worker_init_fn,
        )
        self.generator = generator
        if generator is not None:
            gen = generator.get_generator() if hasattr(generator, "get_generator") else generator
            seed = int(as_generator(gen, "generator").integers(2**63)) if seed is None else seed
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not isinstance(prefetch, numbers.Integral) or prefetch < 0:
            raise ValueError(f"DataLoader: prefetch must be an int >= 0, got {prefetch!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        if transform is not None and not callable(transform):
            raise TypeError("DataLoader: transform must be callable")
        if not self._iterable and (not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must define __len__ and __getitem__, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.transform = transform
        self.prefetch = int(prefetch)
        self.as_tensor = bool(as_tensor)
        self._own_seed = seed is not None  # else: a seed from the global generator at each iter()
        self.seed = int(seed) if self._own_seed else None
        self._rng = np.random.default_rng(self.seed if self._own_seed else 0)  # replaced at each iter() then
        self._epoch, self._pool = 0, None
        self.timeout, self.multiprocessing_context = timeout, multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None else int(prefetch_factor)
        if timeout is None or timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ValueError("DataLoader: prefetch_factor and persistent_workers need num_workers > 0 (as PyTorch)")
        if self.prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor must be >= 1, got {prefetch_factor!r}")

    def __len__(self) -> int:
        if self._iterable:
            try:
                n = len(self.dataset)
            except (TypeError, NotImplementedError):
                name = type(self.dataset).__name__
                raise TypeError(f"DataLoader: the iterable dataset {name} has no length") from None
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _index_batches(self):
        """The epoch's list of index arrays (the permutation is drawn now, not lazily)."""
        if self.batch_sampler is not None:
            return [np.asarray(list(b), dtype=np.int64) for b in self.batch_sampler]
        if self.sampler is not None:
            order = np.asarray(list(self.sampler), dtype=np.int64)
            stop = (len(order) // self.batch_size) * self.batch_size if self.drop_last else len(order)
            return [order[start:start + self.batch_size] for start in range(0, stop, self.batch_size)]
        n = len(self.dataset)
        if self._shuffle_once:  # drawn at the first epoch, then kept
            if self._once_order is None or len(self._once_order) != n:
                self._once_order = self._rng.permutation(n)
            order = self._once_order
        else:
            order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        return [order[start:start + self.batch_size] for start in range(0, stop, self.batch_size)]

    def _make_batch(self, idx):
        return self._finish(_fetch_batch(self.dataset, self.collate_fn, self.transform, idx))

    def _finish(self, batch):
        """Convert a fetched batch (tuple of arrays) to Tensors when ``as_tensor``."""
        if self.as_tensor and isinstance(batch, tuple):
            batch = _to_tensors(batch)
        return batch

    def _begin_epoch(self):
        """Without an own seed: draw this epoch's seed from the global generator now (as PyTorch does when an
        iterator is created), only when it is used (shuffling, worker seeds)."""
        if not self._own_seed and ((self.shuffle and self.sampler is None and self.batch_sampler is None)
                                   or self.num_workers > 0):
            self.seed = _draw_seed()
            self._rng = np.random.default_rng(self.seed)

    def __iter__(self):
        self._begin_epoch()
        if self.num_workers > 0:
            return self._worker_iter()
        if self._iterable:
            batches = self._stream_batches()
        else:
            batches = (self._make_batch(idx) for idx in self._index_batches())
        if self.prefetch == 0:
            return batches
        return _prefetch(batches, self.prefetch)

    def _stream_batches(self):
        """Batches of an iterable-style data set, in stream order (the last one short unless drop_last)."""
        buf = []
        for sample in self.dataset:
            buf.append(sample)
            if len(buf) == self.batch_size:
                yield self._finish(_collate(buf, self.collate_fn, self.transform))
                buf = []
        if buf and not self.drop_last:
            yield self._finish(_collate(buf, self.collate_fn, self.transform))

    def _worker_iter(self):
        """An iterator whose batches are fetched by worker processes (see ``shendu.data._workers``)."""
        from .. import _workers

        tasks = self._index_batches()  # drawn here, in the main process: same order as num_workers=0
        self._epoch += 1
        base_seed = int(np.random.default_rng([self.seed, self._epoch]).integers(2**62))
        if self.persistent_workers:
            if self._pool is None or self._pool.closed:
                self._pool = _workers.WorkerPool(self, base_seed)
            return _workers.MultiProcessIter(self, tasks, self._pool, self._epoch, own_pool=False)
        return _workers.MultiProcessIter(self, tasks, _workers.WorkerPool(self, base_seed), self._epoch,
                                         own_pool=True)

    def __del__(self):
        pool = self.__dict__.get("_pool")
        if pool is not None:
            try:
                pool.shutdown()
            except Exception:  # interpreter shutdown
                pass
