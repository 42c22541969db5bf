"""`DataLoader`: minibatches of a data set (textbook 8.1.3, batch and minibatch algorithms).

Minibatches must be drawn at random: not shuffling naturally ordered data hurts badly, and
shuffling once is usually enough (textbook 8.1.3); the loader reshuffles every epoch. As in PyTorch,
a loader built without ``generator=``/``seed=`` draws each epoch's shuffle seed from shendu's global
generator when iteration starts, so ``sd.manual_seed`` called after building it fixes the order; an
explicit generator or seed keeps its own stream. Array-backed data sets (those with `get_batch`, e.g.
`TensorDataset`) are batched with one fancy-indexing operation per array; other data sets are collated sample by sample.
Batches are tuples of shendu Tensors (or NumPy arrays with `as_tensor=False`) on the host, as in
PyTorch: the training loop (`shendu.train`) moves each batch to the model's device.
"""
from __future__ import annotations

import math
import numbers
import queue
import threading

import numpy as np

__all__ = ["DataLoader", "default_collate", "as_generator", "generator_states", "set_generator_states"]

# Source of seeds for every random object in shendu.data created without an explicit seed.


def _draw_seed() -> int:
    """Draw a fresh 63-bit seed from shendu's global generator (so ``sd.manual_seed`` fixes shuffles)."""
    from ..backend import get_generator

    return int(get_generator().integers(2**63))


def as_generator(rng=None, name="rng") -> np.random.Generator:
    """Return a `numpy.random.Generator` from None (fresh seed), an int seed or a Generator."""
    if rng is None:
        return np.random.default_rng(_draw_seed())
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


_RNG_ATTRS = ("rng", "_rng", "_gen", "generator", "_generator")
_PART_ATTRS = ("dataset", "transform", "transforms", "target_transform", "sampler", "batch_sampler")


def _generators(obj, found, seen, depth=0):
    """Append the random generators `obj` draws from (its own, its transforms', sampler's, dataset's), in order."""
    if obj is None or id(obj) in seen or depth > 8 or isinstance(obj, (str, bytes, np.ndarray)):
        return
    seen.add(id(obj))
    if isinstance(obj, np.random.Generator) or (callable(getattr(obj, "get_state", None))
                                               and callable(getattr(obj, "set_state", None))):
        found.append(obj)
        return
    if isinstance(obj, (list, tuple)):
        for o in obj:
            _generators(o, found, seen, depth + 1)
        return
    attrs = getattr(obj, "__dict__", None)
    if not isinstance(attrs, dict):
        return
    for name in _RNG_ATTRS + _PART_ATTRS:
        if name in attrs:
            _generators(attrs[name], found, seen, depth + 1)


def generator_states(obj) -> list:
    """States of every random generator that `obj` (a DataLoader, transform, Compose or sampler) draws from.

    Saved in training checkpoints, so a resumed run shuffles and augments exactly as an uninterrupted one."""
    found: list = []
    _generators(obj, found, set())
    return [g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state() for g in found]


def set_generator_states(obj, states, who="set_generator_states") -> None:
    """Restore what `generator_states(obj)` returned (a ValueError names the mismatch; nothing is set then)."""
    found: list = []
    _generators(obj, found, set())
    if not isinstance(states, (list, tuple)) or len(states) != len(found):
        got = f"{len(states)} states" if isinstance(states, (list, tuple)) else type(states).__name__
        raise ValueError(f"{who}: {type(obj).__name__} draws from {len(found)} random generators, got {got}")
    for i, (g, st) in enumerate(zip(found, states)):  # check all first, on copies
        if isinstance(g, np.random.Generator):
            try:
                type(g.bit_generator)().state = st
            except (TypeError, ValueError, KeyError) as e:
                raise ValueError(f"{who}: state {i} is not a valid {type(g.bit_generator).__name__} state "
                                 f"(got {type(st).__name__}): {e}") from None
    for g, st in zip(found, states):
        if isinstance(g, np.random.Generator):
            g.bit_generator.state = st
        else:
            g.set_state(st)


def _stack(values, field):
    first = values[0]
    if isinstance(first, (bool, np.bool_)):
        return np.asarray(values, dtype=np.bool_)
    if isinstance(first, numbers.Integral) and not isinstance(first, np.generic):
        return np.asarray(values, dtype=np.int64)
    if isinstance(first, numbers.Real) and not isinstance(first, np.generic):
        return np.asarray(values, dtype=np.float32)  # Python floats -> float32 (shendu default)
    arrays = []
    for v in values:
        if type(v) is not np.ndarray and not isinstance(v, np.generic):  # tensors, device arrays: to the host
            from .dataset import to_numpy

            v = to_numpy(v, name=f"sample field {field}")
        arrays.append(v)
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"default_collate: field {field} has samples of different shapes {sorted(shapes)}; "
            "pass a collate_fn to batch variable-size samples"
        )
    return np.stack(arrays)


def default_collate(samples):
    """Stack a list of samples into a batch tuple: field j -> array (B, ...) of `sample[j]`.

    Samples are tuples/lists of arrays or numbers, or single arrays/numbers (-> 1-tuple).
    Python ints -> int64, Python floats -> float32, bools -> bool, arrays keep their dtype.
    """
    if not samples:
        raise ValueError("default_collate: got an empty list of samples")
    first = samples[0]
    if isinstance(first, dict):
        raise TypeError("default_collate: dict samples are not supported; pass a collate_fn")
    if isinstance(first, (tuple, list)):
        width = len(first)
        if any(len(s) != width for s in samples):
            raise ValueError("default_collate: samples have different numbers of fields")
        return tuple(_stack([s[j] for s in samples], j) for j in range(width))
    return (_stack(list(samples), 0),)


def _to_tensors(batch):
    import shendu

    as_tensor = getattr(shendu, "as_tensor", None)
    if as_tensor is None:
        raise RuntimeError("DataLoader(as_tensor=True) needs shendu.as_tensor, which is not available; "
                           "pass as_tensor=False to get NumPy arrays")
    return tuple(as_tensor(b) if isinstance(b, np.ndarray) else b for b in batch)


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
        from . import _workers

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


def _fetch_batch(dataset, collate_fn, transform, idx):
    """The batch of indices ``idx``: ``get_batch`` of array-backed data sets, else samples through collate_fn."""
    get_batch = None if collate_fn is not None else getattr(dataset, "get_batch", None)
    if get_batch is not None:
        return _transformed(tuple(get_batch(idx)), transform)
    return _collate([dataset[int(i)] for i in idx], collate_fn, transform)


def _collate(samples, collate_fn, transform):
    """A list of samples as one batch tuple (``collate_fn`` or ``default_collate``), ``transform`` applied."""
    batch = (collate_fn or default_collate)(samples)
    if isinstance(batch, np.ndarray):
        batch = (batch,)
    elif isinstance(batch, list):
        batch = tuple(batch)
    return _transformed(batch, transform)


def _transformed(batch, transform):
    """``batch`` with ``transform`` applied to its input field (field 0)."""
    if transform is not None:
        if not isinstance(batch, tuple) or not batch:
            raise TypeError("DataLoader: transform needs batches that are non-empty tuples")
        batch = (transform(batch[0]),) + batch[1:]
    return batch


_DONE = object()


def _prefetch(batches, depth):
    """Yield from `batches`, produced `depth` ahead by a daemon thread; errors re-raised here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for b in batches:
                if not put((b, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # forwarded to the consumer
            put((_DONE, exc))

    thread = threading.Thread(target=work, name="shendu-DataLoader-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if item is _DONE:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5.0)
