"""Waiting on nonblocking MPI requests with the group's deadline (poll with ``Test``, then sleep; a timeout
names the op and peer and marks the group broken), MPI reduction ops, and host buffers of device tensors.
"""
from __future__ import annotations

import os
import time

import numpy as np

from ...backend import device_of, is_host, to_device, to_host
from .state import _S, ReduceOp, _mpi

_SPIN = float(os.environ.get("SHENDU_DIST_SPIN", "0.002"))  # seconds of polling before sleeping


def wait(req, op, peer=None):
    """Poll the MPI request ``req`` until it completes or the group's timeout passes (then RuntimeError)."""
    if req.Test():
        return
    start = time.monotonic()
    deadline = start + _S.timeout
    pause = 0.0
    while not req.Test():
        now = time.monotonic()
        if now - start < _SPIN:  # poll, yielding the core, for a while (latency), then back off to 1 ms naps
            os.sched_yield()
            continue
        if now > deadline:
            rank, size = _S.comm.Get_rank(), _S.comm.Get_size()
            who = f"peer rank {peer}" if peer is not None else "its peers"
            msg = (f"shendu.distributed.{op}: rank {rank} of {size} timed out after {_S.timeout:g} s waiting for {who} "
                   "(a process died, exited early or did not reach the same call)")
            _S.broken = msg
            raise RuntimeError(msg)
        if pause:
            time.sleep(pause)
        pause = min(pause * 2 or 1e-5, 1e-3)


def waitall(reqs, op):
    for r in reqs:
        wait(r, op)


_MPI_OPS = {}


def _mpi_op(op, what):
    MPI = _mpi()
    if not _MPI_OPS:
        _MPI_OPS.update({ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                         ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX})
    if op not in _MPI_OPS:
        raise ValueError(f"shendu.distributed.{what}: op must be a ReduceOp (sum, avg, product, min, max), got {op!r}")
    return _MPI_OPS[op]


def _check_tensor(t, what, name="tensor"):
    from ...autograd.tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"shendu.distributed.{what}: {name} must be a Tensor, got {type(t).__name__}")


def host_buffer(arr):
    """A contiguous host array with ``arr``'s values (``arr`` itself when it already is one); float16 as float32."""
    h = to_host(arr) if not is_host(arr) else arr
    if h.dtype == np.float16:
        return h.astype(np.float32)
    return h if h.flags.c_contiguous and h.flags.writeable else np.ascontiguousarray(h).copy()


def host_dtype(dtype):
    """The host dtype MPI reduces ``dtype`` in (float16 goes as float32)."""
    dt = np.dtype(dtype)
    return np.dtype(np.float32) if dt == np.float16 else dt


def _store(t, host):
    """Write ``host`` (values for tensor ``t``) back into ``t`` in place (data replaced on a device)."""
    d = t._data
    if is_host(d):
        if host is not d:
            d[...] = host.astype(d.dtype, copy=False)
    else:
        t._data = to_device(host.astype(d.dtype, copy=False), device_of(d))
    t._version += 1
