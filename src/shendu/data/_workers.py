"""DataLoader worker processes (``num_workers > 0``), as PyTorch's multi-process loading.

The main process keeps the sampler and sends the workers whole batches as index arrays (batch i to worker
i % num_workers, ``prefetch_factor`` batches ahead per worker); a worker fetches and collates the batch and sends it
back as NumPy arrays through a ``multiprocessing`` queue (pickled between our own processes only). Batches are
yielded in sampler order, so a seeded run gives the batches of ``num_workers=0``. Each worker is seeded from the
loader's base seed + worker id (Python's ``random``, NumPy's global RNG, shendu's generator and the NumPy
generators of the dataset/transform/collate_fn): random transforms then differ from ``num_workers=0``
(deterministic transforms do not). A worker that raises, dies or exceeds ``timeout`` gives a RuntimeError naming
it; workers are stopped when the epoch ends (unless ``persistent_workers``), when the iterator is
garbage-collected or the loop breaks.
"""
from __future__ import annotations

import functools
import multiprocessing as mp
import os
import pickle
import queue
import random
import signal
import sys
import traceback

import numpy as np

_POLL = 0.1  # seconds between liveness checks while waiting for a batch


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: id, num_workers, seed, dataset (as PyTorch)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_INFO = None


def get_worker_info():
    """The current worker's WorkerInfo inside a DataLoader worker process; None in the main process."""
    return _INFO


def _context(spec):
    """A multiprocessing context: the one given, else 'fork' on Linux where available, else 'spawn'."""
    if spec is None:
        fork = sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()
        return mp.get_context("fork" if fork else "spawn")
    return mp.get_context(spec) if isinstance(spec, str) else spec


def _seed_worker(seed, parts):
    """Seed Python, NumPy's global RNG, shendu's generator and the NumPy generators that ``parts`` draw from."""
    from ..backend import manual_seed
    from .loader import _generators

    random.seed(seed)
    np.random.seed(seed % 2**32)
    manual_seed(seed % 2**63)
    found: list = []
    _generators(parts, found, set())
    for k, g in enumerate(found):
        if isinstance(g, np.random.Generator):
            g.bit_generator.state = type(g.bit_generator)(np.random.SeedSequence([seed % 2**63, k])).state


def _to_arrays(batch):
    from ..autograd.tensor import Tensor
    from ..backend import to_host

    if isinstance(batch, tuple):
        return tuple(to_host(b._data) if isinstance(b, Tensor) else b for b in batch)
    return batch


def _worker_loop(fetch, dataset, parts, index_q, result_q, worker_id, num_workers, seed, init_fn, parent):
    """Worker main: seed, call init_fn(worker_id), then fetch (epoch, task, indices) until None arrives.

    Results go back pickled here (bytes), so an unpicklable batch is reported as an error, never lost."""
    global _INFO
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's; it stops the workers
    _INFO = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    try:
        _seed_worker(seed, parts)
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as e:  # reported with every batch this worker is sent
        init_error = "in worker_init_fn: " + _describe(e)
    while True:
        try:
            task = index_q.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # the main process is gone: do not linger
                return
            continue
        if task is None:
            return
        epoch, i, idx = task
        if init_error is not None:
            result_q.put((epoch, i, worker_id, None, init_error))
            continue
        try:
            payload = pickle.dumps(_to_arrays(fetch(idx)), protocol=pickle.HIGHEST_PROTOCOL)
            result_q.put((epoch, i, worker_id, payload, None))
        except Exception as e:
            result_q.put((epoch, i, worker_id, None, _describe(e)))


def _describe(e):
    return f"{type(e).__name__}: {e}\n{''.join(traceback.format_exception(type(e), e, e.__traceback__))}"


class WorkerPool:
    """``num_workers`` processes with one index queue each and a shared result queue."""

    def __init__(self, loader, base_seed):
        from .loader import _fetch_batch

        ctx = _context(loader.multiprocessing_context)
        self.n = loader.num_workers
        self.result_q = ctx.Queue()
        self.index_qs, self.procs = [], []
        parts = [loader.dataset, loader.transform, loader.collate_fn]
        fetch = functools.partial(_fetch_batch, loader.dataset, loader.collate_fn, loader.transform)
        for w in range(self.n):
            q = ctx.Queue()
            p = ctx.Process(target=_worker_loop, name=f"shendu-DataLoader-worker-{w}", daemon=True,
                            args=(fetch, loader.dataset, parts, q, self.result_q, w, self.n,
                                  base_seed + w, loader.worker_init_fn, os.getpid()))
            p.start()
            self.index_qs.append(q)
            self.procs.append(p)
        self.closed = False

    def check_alive(self):
        for w, p in enumerate(self.procs):
            if not p.is_alive():
                self.shutdown(force=True)
                raise RuntimeError(f"DataLoader worker {w} (pid {p.pid}) exited unexpectedly with exit code "
                                   f"{p.exitcode}")

    def shutdown(self, force=False):
        """Ask every worker to stop, join them (terminate the ones that do not stop, or all with ``force``)
        and close the queues."""
        if self.closed:
            return
        self.closed = True
        for q in self.index_qs:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for p in self.procs:
            if force:
                p.terminate()
            p.join(timeout=1.0)
            if p.is_alive():
                p.terminate()
                p.join(timeout=1.0)
        for q in self.index_qs + [self.result_q]:
            q.cancel_join_thread()
            q.close()


class MultiProcessIter:
    """One epoch over the loader's index batches, fetched by a WorkerPool, yielded in order."""

    def __init__(self, loader, index_batches, pool, epoch, own_pool):
        self.loader, self.tasks, self.pool, self.epoch, self.own = loader, index_batches, pool, epoch, own_pool
        self.owner = {}  # task -> worker
        self.cache = {}
        self.sent = self.next = 0
        self.timeout = float(loader.timeout or 0)
        for _ in range(loader.prefetch_factor * pool.n):
            self._send()

    def _send(self):
        """Send the next task to worker (task % num_workers): deterministic, so seeded per-worker draws repeat."""
        if self.sent < len(self.tasks):
            w = self.sent % self.pool.n
            self.owner[self.sent] = w
            self.pool.index_qs[w].put((self.epoch, self.sent, self.tasks[self.sent]))
            self.sent += 1

    def __iter__(self):
        return self

    def __next__(self):
        if self.next >= len(self.tasks):
            self.close(end=True)
            raise StopIteration
        waited = 0.0
        while self.next not in self.cache:
            try:
                epoch, i, w, batch, err = self.pool.result_q.get(timeout=_POLL)
            except queue.Empty:
                waited += _POLL
                self.pool.check_alive()
                if self.timeout and waited >= self.timeout:
                    w = self.owner.get(self.next)
                    self.close()
                    raise RuntimeError(f"DataLoader worker {w} timed out: batch {self.next} not received after "
                                       f"{self.timeout:g} s (timeout={self.timeout:g})") from None
                continue
            if epoch != self.epoch:  # left over from an earlier, interrupted epoch of persistent workers
                continue
            self.cache[i] = (w, batch, err)
        w, batch, err = self.cache.pop(self.next)
        self.next += 1
        self._send()  # at most prefetch_factor * num_workers batches outstanding
        if err is not None:
            self.close()
            raise RuntimeError(f"DataLoader worker {w} raised an exception while fetching batch {self.next - 1}: "
                               f"{err}")
        return self.loader._finish(pickle.loads(batch))  # bytes pickled by our own worker

    def close(self, end=False):
        """Stop the pool at the end of the epoch unless it belongs to the loader (persistent_workers); on an
        error (``end=False``) always, terminating the workers at once."""
        if self.own or not end:
            self.pool.shutdown(force=not end)
            if not self.own:
                self.loader._pool = None

    def __del__(self):
        try:
            if self.own:
                self.pool.shutdown(force=True)
        except Exception:  # interpreter shutdown
            pass
