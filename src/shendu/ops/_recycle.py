"""Recycled host memory for the large arrays a training step makes afresh each time: convolution outputs and
column matrices (textbook 9.8), batch-norm, ReLU and max-pooling outputs and their gradients, and the kernels'
large scratch (ops._workspace). Not a textbook algorithm: an allocator detail under them.

glibc returns a freed multi-MiB heap top to the OS, so an array of that size made again next step is faulted
in page by page: in LeNet's step (batch 64, 1 thread, 2026-11-30) 1,100-2,400 page faults cost 3-4 ms of a
~10 ms step, CIFAR's (batch 128) 3,800-4,700 faults ~12 ms of ~160. ``recycled_empty`` instead carves the
array out of a per-thread arena: a few large host regions, each with a list of free byte ranges. A request takes
the smallest free range that fits (best fit) and splits it; the range comes back, merged with free neighbours,
once nothing references the array any more: the array handed out is a view of its region made through a
``memoryview``, so every NumPy view of it refers to it (NumPy's ``base`` chain stops there), and its CPython
reference count falls to the arena's own when the last user (a graph node, a tensor, a view) is gone. Arrays of
every shape, dtype and size share the regions, so the memory a step keeps is about the most it has alive at
once: the CIFAR CNN loop's peak RSS growth (benchmarks/cnn.py, batch 128, 1 thread, 2026-11-30) 240-254 MiB with
the pool of buffers per shape before (buffers of one shape sit idle while arrays of another are made; a pool per
size class measured 227-252 MiB) -> 174 MiB with the arena and batch norm's smaller saved state (PyTorch:
235-268 MiB), 0 page faults per step. As the arena keeps the step's large arrays from being freed through glibc,
``_adapt_heap`` raises glibc's mmap threshold once, as a free of a large array would.

Device arrays (CuPy, the strict stand-in) and arrays under ``MIN_BYTES`` get a fresh array: device allocators
pool already, small ones come from the heap cheaply. The regions of a thread total at most
``conv_settings.recycle_bytes``; beyond it arrays are made afresh.
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
#: Arrays from this size on come from the arena (glibc serves smaller ones from its heap without faults).
MIN_BYTES = 128 << 10
#: Size of a new region (a larger array gets a region of its own size): several of a step's arrays fit in one,
#: and a region's untouched tail is never faulted in.
REGION_BYTES = 64 << 20
#: Offsets into a region are multiples of this (cache lines; every dtype's alignment).
ALIGN = 64


class _Arena:
    """One thread's regions and their free ranges. ``regions[i]``: the uint8 owner, ``views[i]``: a memoryview
    of it (the base of every array handed out), ``free[i]``: its free ranges [(offset, size)] by offset;
    ``live``: [array, region, offset, size] of the arrays handed out and not yet taken back. ``clear_recycled``
    gives the thread a new arena (a call under way finishes on the old one, which its arrays keep alive).

    Ranges are merged back as soon as their arrays are free (a cache of same-size ranges taken back, handed out
    before merging, made the CIFAR CNN loop's peak RSS 198 MiB instead of 174: the best fit over merged ranges
    packs the step's arrays into fewer touched pages)."""

    __slots__ = ("regions", "views", "free", "live", "nbytes")

    def __init__(self):
        self.regions, self.views, self.free, self.live = [], [], [], []
        self.nbytes = 0

    def reclaim(self):
        """Take back the ranges of arrays nothing references any more."""
        kept = []
        for e in self.live:
            # references to e[0]: the entry and getrefcount's argument; any user or view of it adds one
            if sys.getrefcount(e[0]) == 2:
                self.release(e[1], e[2], e[3])
            else:
                kept.append(e)
        self.live = kept

    def release(self, ri, off, size):
        """Return the range (off, size) of region ri, merged with the free ranges next to it."""
        fl = self.free[ri]
        i = 0
        while i < len(fl) and fl[i][0] < off:
            i += 1
        if i < len(fl) and off + size == fl[i][0]:  # merge with the next range
            size += fl.pop(i)[1]
        if i > 0 and fl[i - 1][0] + fl[i - 1][1] == off:  # ... and with the previous one
            i -= 1
            off, size = fl[i][0], fl[i][1] + size
            fl[i] = (off, size)
        else:
            fl.insert(i, (off, size))

    def take(self, need):
        """(region, offset) of ``need`` bytes from the smallest free range that holds them (a new region when
        none does), or None when a new region would pass ``conv_settings.recycle_bytes``."""
        best = None
        for ri, fl in enumerate(self.free):
            for j, (off, size) in enumerate(fl):
                if size >= need and (best is None or size < best[3]):
                    best = (ri, j, off, size)
        if best is None:
            room = conv_settings.recycle_bytes - self.nbytes
            if need > room:
                return None
            size = min(max(need, REGION_BYTES), room)
            region = np.empty(size, dtype=np.uint8)
            self.regions.append(region)
            self.views.append(memoryview(region))
            self.free.append([(0, size)])
            self.nbytes += size
            best = (len(self.regions) - 1, 0, 0, size)
        ri, j, off, size = best
        fl = self.free[ri]
        if size == need:
            del fl[j]
        else:
            fl[j] = (off + need, size - need)
        return ri, off


#: Just under glibc's largest dynamic mmap threshold (32 MiB on 64-bit, the chunk's flag bits included): freeing
#: an mmapped array of this size raises glibc's mmap threshold to it and its heap-trim threshold to twice it.
GLIBC_DYN_MAX = 31 << 20
_adapted = []


def _adapt_heap():
    """Once per process, at the arena's first array: free one untouched array of ``GLIBC_DYN_MAX`` bytes, so
    that glibc serves arrays up to that size from its heap and keeps up to twice that of freed heap top (its own
    rule for any such free; nothing else changes). The arena keeps the step's large arrays from ever being
    freed; without this, glibc kept mmapping (and faulting in) the arrays made outside the arena above its
    initial 128 KiB threshold and trimmed its heap every step: mnist_cnn's step (linear weight gradients,
    Winograd outputs, dropout) took ~2,000 page faults, +10% time, even with the threshold raised only to the
    arena's largest array (9 MiB)."""
    if not _adapted:
        _adapted.append(True)
        np.empty(GLIBC_DYN_MAX, dtype=np.uint8)  # made and freed at once: its pages are never touched


class _Slot:
    """A thread's current arena (replaced by ``clear_recycled``)."""

    __slots__ = ("arena", "__weakref__")

    def __init__(self):
        self.arena = _Arena()


_SLOTS = weakref.WeakSet()  # every live thread's slot (for clear_recycled and recycled_bytes(all_threads))
_SLOTS_LOCK = threading.Lock()


class _Local(threading.local):
    def __init__(self):
        self.slot = _Slot()
        with _SLOTS_LOCK:
            _SLOTS.add(self.slot)


_LOCAL = _Local()


def recycled_empty(shape, dtype, like):
    """An uninitialised array of ``shape`` and ``dtype`` where ``like`` lives: on the host, carved from the
    calling thread's arena (memory no live array uses), else (or when the arena is full) a new one."""
    dtype = np.dtype(dtype)
    if type(like) is not _ndarray:
        return namespace_of(like).empty(shape, dtype=dtype)
    return host_empty(shape, dtype)


def host_empty(shape, dtype):
    """``recycled_empty`` on the host (``dtype`` a NumPy dtype)."""
    shape = tuple(shape)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype=dtype)
    if not _adapted:
        _adapt_heap()
    arena = _LOCAL.slot.arena
    if arena.live:
        arena.reclaim()
    need = -(-nbytes // ALIGN) * ALIGN
    got = arena.take(need)
    if got is None:
        return np.empty(shape, dtype=dtype)
    ri, off = got
    flat = np.frombuffer(arena.views[ri], dtype=dtype, count=count, offset=off)
    arena.live.append([flat, ri, off, need])
    return flat.reshape(shape)


def recycled_bytes(all_threads: bool = False) -> int:
    """Bytes of host arena regions held by the calling thread (or by every thread)."""
    if all_threads:
        with _SLOTS_LOCK:
            return sum(t.arena.nbytes for t in list(_SLOTS))
    return _LOCAL.slot.arena.nbytes


def clear_recycled():
    """Drop the arena regions of every thread (arrays still referenced elsewhere keep their memory)."""
    with _SLOTS_LOCK:
        slots = list(_SLOTS)
    for t in slots:
        t.arena = _Arena()
