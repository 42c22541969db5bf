"""Collectives on tensors (torch.distributed names; textbook 12.1.3): all_reduce (MPI or NCCL),
broadcast, all_gather, reduce_scatter, barrier, and point-to-point send/recv, each started nonblocking.
"""
from __future__ import annotations

import numpy as np

from ...backend import is_host
from .state import _S, ReduceOp, _comm, _mpi
from .transport import _check_tensor, _mpi_op, _store, host_buffer, host_dtype, wait


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks, in place on every rank (sum by default; ReduceOp.AVG divides by the size)."""
    _check_tensor(tensor, "all_reduce")
    comm = _comm("all_reduce")
    if _S.nccl is not None and not is_host(tensor._data):  # pragma: no cover - UNTESTED (CuPy + GPUs)
        return _nccl_all_reduce(tensor, op)
    MPI = _mpi()
    buf = host_buffer(tensor._data)
    wait(comm.Iallreduce(MPI.IN_PLACE, buf, op=_mpi_op(op, "all_reduce")), "all_reduce")
    if op == ReduceOp.AVG:
        buf /= comm.Get_size()
    _store(tensor, buf)
    return None


def _nccl_all_reduce(tensor, op):  # pragma: no cover - UNTESTED (CuPy + GPUs)
    import cupy
    from cupy.cuda import nccl

    a = tensor._data
    ops = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.AVG: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD,
           ReduceOp.MIN: nccl.NCCL_MIN, ReduceOp.MAX: nccl.NCCL_MAX}
    types = {
        np.dtype(np.float32): nccl.NCCL_FLOAT32,
        np.dtype(np.float64): nccl.NCCL_FLOAT64,
        np.dtype(np.float16): nccl.NCCL_FLOAT16,
        np.dtype(np.int32): nccl.NCCL_INT32,
        np.dtype(np.int64): nccl.NCCL_INT64,
    }
    a = cupy.ascontiguousarray(a)
    stream = cupy.cuda.get_current_stream()
    _S.nccl.allReduce(a.data.ptr, a.data.ptr, a.size, types[a.dtype], ops[op], stream.ptr)
    if op == ReduceOp.AVG:
        a /= _S.comm.Get_size()
    tensor._data = a
    tensor._version += 1


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every rank (in place)."""
    _check_tensor(tensor, "broadcast")
    comm = _comm("broadcast")
    _check_rank(src, comm, "broadcast", "src")
    buf = host_buffer(tensor._data)
    wait(comm.Ibcast(buf, root=src), "broadcast")
    if comm.Get_rank() != src:
        _store(tensor, buf)


def _check_rank(r, comm, what, name):
    if not isinstance(r, (int, np.integer)) or not 0 <= r < comm.Get_size():
        raise ValueError(f"shendu.distributed.{what}: {name} must be a rank in [0, {comm.Get_size()}), got {r!r}")


def _check_list(tensors, like, op, list_name, like_name, size):
    """Raise unless ``tensors`` holds ``size`` (the world size) tensors, each shaped like tensor ``like``."""
    if len(tensors) != size:
        raise ValueError(f"shendu.distributed.{op}: {list_name} has {len(tensors)} tensors, expected the world "
                         f"size {size}")
    for i, t in enumerate(tensors):
        _check_tensor(t, op, f"{list_name}[{i}]")
        if tuple(t.shape) != tuple(like.shape):
            raise ValueError(f"shendu.distributed.{op}: {list_name}[{i}] has shape {tuple(t.shape)}, "
                             f"expected the {like_name}'s {tuple(like.shape)}")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` (every rank's tensors have the same shape)."""
    _check_tensor(tensor, "all_gather")
    comm = _comm("all_gather")
    size = comm.Get_size()
    _check_list(tensor_list, tensor, "all_gather", "tensor_list", "input", size)
    send = host_buffer(tensor._data)
    recv = np.empty((size,) + send.shape, send.dtype)
    wait(comm.Iallgather(send, recv), "all_gather")
    for t, part in zip(tensor_list, recv):
        _store(t, part)


def all_gather_array(arr, op="all_gather"):
    """Host arrays of possibly different first-axis lengths from every rank, concatenated in rank order."""
    comm = _comm(op)
    MPI = _mpi()
    arr = np.ascontiguousarray(arr)
    n = np.array([arr.shape[0]], np.int64)
    counts = np.empty(comm.Get_size(), np.int64)
    wait(comm.Iallgather(n, counts), op)
    row = int(np.prod(arr.shape[1:], dtype=np.int64))
    out = np.empty((int(counts.sum()),) + arr.shape[1:], arr.dtype)
    sizes = [int(c) * row for c in counts]
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
    mt = MPI._typedict[arr.dtype.char]
    wait(comm.Iallgatherv([arr, mt], [out, (sizes, offs), mt]), op)
    return out


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` on rank r = the reduction over ranks of their ``input_list[r]``."""
    _check_tensor(output, "reduce_scatter", "output")
    comm = _comm("reduce_scatter")
    size = comm.Get_size()
    _check_list(input_list, output, "reduce_scatter", "input_list", "output", size)
    send = np.ascontiguousarray(np.stack([host_buffer(t._data) for t in input_list]))
    recv = np.empty(send.shape[1:], send.dtype)
    wait(comm.Ireduce_scatter_block(send, recv, op=_mpi_op(op, "reduce_scatter")), "reduce_scatter")
    if op == ReduceOp.AVG:
        recv /= size
    _store(output, recv)


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank reaches this call (or the timeout passes)."""
    comm = _comm("barrier")
    wait(comm.Ibarrier(), "barrier")


def send(tensor, dst, group=None, tag=0):
    """Send ``tensor``'s values to rank ``dst`` (returns when the matching ``recv`` has them or MPI buffered them)."""
    _check_tensor(tensor, "send")
    comm = _comm("send")
    _check_rank(dst, comm, "send", "dst")
    buf = host_buffer(tensor._data)
    wait(comm.Isend(buf, dest=dst, tag=tag), "send", peer=dst)


def recv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor`` (in place) from rank ``src`` (any rank if None)."""
    _check_tensor(tensor, "recv")
    comm = _comm("recv")
    MPI = _mpi()
    if src is not None:
        _check_rank(src, comm, "recv", "src")
    buf = np.empty(tuple(tensor.shape), host_dtype(tensor._data.dtype))
    req = comm.Irecv(buf, source=MPI.ANY_SOURCE if src is None else src, tag=tag)
    wait(req, "recv", peer=src)
    _store(tensor, buf)
