"""Recycled host memory for the large arrays a training step makes afresh each time: convolution outputs and
the column matrices kept for the weight gradient (textbook 9.8), ReLU and max-pooling outputs and their
gradients. Not a textbook algorithm: an allocator detail under them.

glibc returns a freed multi-MiB heap top to the OS, so an array of that size made again next step is faulted
in page by page: in LeNet's step (batch 64, 1 thread, 2026-11-30) 1,100-2,400 page faults cost 3-4 ms of a
~10 ms step. ``recycled_empty`` instead hands out a host buffer from a small per-thread pool when nothing
references it any more: every view of a NumPy array holds a reference to the array that owns the memory, so
a pooled owner whose reference count is the pool's own is free (the CPython reference count; a graph node, a
tensor or a view still using it keeps it). Device arrays (CuPy, the strict stand-in) and arrays under
``MIN_BYTES`` get a fresh array: device allocators pool already, small ones come from the heap cheaply.
"""
from __future__ import annotations

import math
import sys
import threading
import weakref

import numpy as np

from ..backend import namespace_of
from ._tuning import conv_settings

_ndarray = np.ndarray
#: Arrays from this size on are pooled (glibc serves smaller ones from its heap without faults).
MIN_BYTES = 128 << 10
#: Buffers pooled per (shape, dtype): one in use by this step's graph and one by the next step's forward.
PER_KEY = 2
#: At most this many (shape, dtype) kinds per thread; the oldest kind is dropped beyond it. The pooled bytes
#: per thread are bounded too: ``conv_settings.recycle_bytes``.
MAX_KINDS = 64


class _Pool:
    """One thread's pooled buffers: (shape, dtype) -> [arrays], oldest kind first, and their total bytes."""

    __slots__ = ("bufs", "nbytes", "__weakref__")

    def __init__(self):
        self.bufs = {}
        self.nbytes = 0

    def drop_oldest(self):
        key, old = next(iter(self.bufs.items()))
        del self.bufs[key]
        self.nbytes -= sum(b.nbytes for b in old)

    def clear(self):
        self.bufs.clear()
        self.nbytes = 0


_POOLS = weakref.WeakSet()  # every live thread's pool (for clear_recycled(all_threads=True))
_POOLS_LOCK = threading.Lock()


class _Local(threading.local):
    def __init__(self):
        self.pool = _Pool()
        with _POOLS_LOCK:
            _POOLS.add(self.pool)


_LOCAL = _Local()


def recycled_empty(shape, dtype, like):
    """An uninitialised array of ``shape`` and ``dtype`` where ``like`` lives: a pooled host buffer that
    nothing references any more, else a new one (pooled while its kind has fewer than ``PER_KEY``)."""
    dtype = np.dtype(dtype)
    if type(like) is not _ndarray:
        return namespace_of(like).empty(shape, dtype=dtype)
    shape = tuple(shape)
    if math.prod(shape) * dtype.itemsize < MIN_BYTES:
        return np.empty(shape, dtype=dtype)
    pool = _LOCAL.pool
    key = (shape, dtype)
    bufs = pool.bufs.pop(key, None)
    if bufs is not None:
        pool.bufs[key] = bufs  # most recently used last: the oldest kinds are dropped first
        for buf in bufs:
            # references: the pool's list, the loop's name and getrefcount's argument; any user or view adds one
            if sys.getrefcount(buf) == 3:
                return buf
    buf = np.empty(shape, dtype=dtype)
    limit = conv_settings.recycle_bytes
    if buf.nbytes > limit or (bufs is not None and len(bufs) >= PER_KEY):
        return buf
    if bufs is None:
        bufs = pool.bufs[key] = []
    bufs.append(buf)
    pool.nbytes += buf.nbytes
    while len(pool.bufs) > MAX_KINDS or pool.nbytes > limit:  # oldest kinds first (never the one just added)
        if next(iter(pool.bufs)) == key:
            break
        pool.drop_oldest()
    return buf


def recycled_bytes(all_threads: bool = False) -> int:
    """Bytes of host buffers pooled by the calling thread (or by every thread)."""
    if all_threads:
        with _POOLS_LOCK:
            return sum(p.nbytes for p in list(_POOLS))
    return _LOCAL.pool.nbytes


def clear_recycled():
    """Drop the pooled buffers of every thread (arrays still referenced elsewhere stay alive)."""
    with _POOLS_LOCK:
        pools = list(_POOLS)
    for p in pools:
        p.clear()
