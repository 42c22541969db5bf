"""Scratch memory of the array kernels (convolution, pooling, batch norm): reusable buffers cached per thread
and per device, bounded by a least-recently-used byte budget, so a training step allocates only its outputs.

``_ws(tag, shape, dtype, like)`` is a buffer with undefined contents (a large host one comes from the arena of
ops._recycle, shared with the step's other large arrays), ``_padded_ws`` one whose border keeps a
fill value (the caller overwrites the interior: ``pad_chunk``), ``constant`` a read-only filled array.
Buffers live where the array ``like`` lives (``_where``): host and device buffers never mix, and two threads
never share one. The budget (``conv_settings.cache_bytes``, ``cache_entries``; shendu.ops._tuning) grows to
the reuse distance of a buffer asked for again after being dropped, so a step that needs more keeps it while
buffers of input sizes seen once age out. Not a textbook algorithm: an engineering layer under textbook 9.8.
"""
from __future__ import annotations

import itertools
import math
import threading
import weakref

import numpy as np

from ..backend import backend_of, device_of, namespace_of
from ._recycle import MIN_BYTES, clear_recycled, host_empty
from ._tuning import conv_settings

_ndarray = np.ndarray
_TICK = itertools.count()  # use order of cached buffers (shared by all threads: only compared)


class _Cache:
    """One thread's scratch buffers, least recently used first: key -> (array, tick of its last use)."""

    __slots__ = ("bufs", "dropped", "grown", "__weakref__")

    def __init__(self):
        self.bufs = {}
        self.dropped = {}  # key -> tick of its last use, for buffers dropped lately
        self.grown = 0  # the budget that reuse has shown this thread needs (bytes)


_CACHES = weakref.WeakSet()  # every live thread's _Cache (for clear_workspace)
_CACHES_LOCK = threading.Lock()


class _Local(threading.local):
    """Scratch memory is per thread: two threads running convolutions never share a buffer."""

    def __init__(self):
        self.cache = c = _Cache()
        with _CACHES_LOCK:
            _CACHES.add(c)


_LOCAL = _Local()


def _lookup(key):
    """The calling thread's buffer cached under ``key`` (now the most recently used), or None."""
    bufs = _LOCAL.cache.bufs
    e = bufs.pop(key, None)
    if e is None:
        return None
    bufs[key] = (e[0], next(_TICK))
    return e[0]


def _oldest(d):
    """The first key of dict ``d`` (None if empty, or emptied meanwhile by ``clear_workspace``)."""
    try:
        return next(iter(d))
    except (StopIteration, RuntimeError):
        return None


def _keep(key, buf):
    """Cache ``buf`` under ``key`` for the calling thread, dropping least recently used buffers beyond
    its budget; a buffer asked for again after being dropped grows the budget to its reuse distance."""
    c = _LOCAL.cache
    bufs, dropped = c.bufs, c.dropped
    bufs.pop(key, None)  # a smaller buffer of the same key it replaces
    entries = list(bufs.values())
    last = dropped.pop(key, None)
    if last is not None:  # bytes used since its last use, plus its own: what keeping it takes
        c.grown = max(c.grown, buf.nbytes + sum([b.nbytes for b, t in entries if t > last]))
    budget = max(conv_settings.cache_bytes, c.grown)
    tick = next(_TICK)
    if buf.nbytes > budget:  # larger than the whole budget: kept only when asked for again
        dropped[key] = tick
        return
    total = buf.nbytes + sum([b.nbytes for b, _ in entries])
    while bufs and (total > budget or len(bufs) >= conv_settings.cache_entries):
        old = _oldest(bufs)
        e = bufs.pop(old, None)
        if e is not None:
            total -= e[0].nbytes
            dropped[old] = e[1]
    while len(dropped) > conv_settings.cache_entries:
        dropped.pop(_oldest(dropped), None)
    bufs[key] = (buf, tick)


def _where(like):
    """The cache-key part naming where a scratch buffer for arrays like ``like`` lives: None on the host
    (``like`` None or a NumPy array), else (array type, device), so host and device buffers never mix."""
    if like is None or type(like) is _ndarray:
        return None
    return type(like), device_of(like)


def _alloc(like, fn, *args, **kw):
    """``xp.<fn>(*args, **kw)`` with the namespace of ``like`` (None: NumPy), on ``like``'s device."""
    if like is None or type(like) is _ndarray:
        return getattr(np, fn)(*args, **kw)
    with backend_of(like).use(device_of(like).index):
        return getattr(namespace_of(like), fn)(*args, **kw)


def _ws(tag, shape, dtype, like=None):
    """A reusable scratch array of ``shape`` (contents undefined) on the device of array ``like`` (None:
    the host); one growing buffer per tag, dtype, device and thread, except host arrays from ``MIN_BYTES`` on:
    those come from the thread's arena (ops._recycle), memory that no live array uses."""
    n = math.prod(shape)
    dtype = np.dtype(dtype)
    if n * dtype.itemsize >= MIN_BYTES and (like is None or type(like) is _ndarray):
        # large host scratch: from the arena of ops._recycle, shared with every other large array of the step
        # (nothing sits idle here between uses: the CIFAR CNN step cached 87 MiB, now 35)
        return host_empty(shape, dtype)
    key = (tag, dtype, _where(like))
    buf = _lookup(key)
    if buf is None or buf.size < n:
        buf = _alloc(like, "empty", max(n, 1), dtype=dtype)
        _keep(key, buf)
    return buf[:n].reshape(shape)


def _padded_ws(tag, shape, dtype, fill, pads, like=None):
    """A reusable buffer whose border (outside ``pads``) is ``fill``, on the device of array ``like``
    (None: the host), per thread; the caller overwrites the interior."""
    key = (tag, shape, np.dtype(dtype), fill, pads, _where(like))
    buf = _lookup(key)
    if buf is None:
        buf = _alloc(like, "full", shape, fill, dtype=dtype)
        _keep(key, buf)
    return buf


def constant(tag, shape, dtype, fill, like=None):
    """A cached array of ``shape`` filled with ``fill`` (per thread and device); callers only read it."""
    return _padded_ws(tag, shape, dtype, fill, None, like)


def clear_workspace():
    """Free all cached scratch buffers (of every thread, on every device) and the recycled host buffers
    (shendu.ops._recycle)."""
    clear_recycled()
    with _CACHES_LOCK:
        caches = list(_CACHES)
    for c in caches:
        c.bufs.clear()
        c.dropped.clear()
        c.grown = 0


def workspace_bytes(all_threads: bool = False) -> int:
    """Bytes of scratch buffers cached by the calling thread (or by every thread)."""
    if all_threads:
        with _CACHES_LOCK:
            caches = list(_CACHES)
    else:
        caches = [_LOCAL.cache]
    return sum(e[0].nbytes for c in caches for e in list(c.bufs.values()))


def thread_buffers() -> dict:
    """The calling thread's scratch buffers {key: array}; keys end with the buffer's (array type, device) or None
    on the host (for tests and debugging)."""
    return {k: e[0] for k, e in list(_LOCAL.cache.bufs.items())}


def pad_chunk(x, pads, tag, fill=0.0):
    """x (nb, C, *sp) padded by ``pads`` [(lo, hi), ...] with ``fill``, in a cached buffer whose border keeps
    ``fill``; x itself (no copy) when there is no padding."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    buf = _padded_ws(tag, shape, x.dtype, fill, tuple(pads), x)
    inner = (slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads))
    buf[inner] = x
    return buf


_pad_chunk = pad_chunk  # the name pooling imports
