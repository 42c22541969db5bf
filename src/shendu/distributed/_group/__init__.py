"""The process group and collectives on tensors over MPI (mpi4py), with deadlines (textbook 12.1.3).

Every collective is started nonblocking (``Iallreduce``, ``Ibcast``, ...) and polled with ``Test`` until done or
until the group's timeout: a peer that died or never reached the same call gives a RuntimeError naming the op and
rank instead of a hang, the group is marked broken, and at exit the job is aborted (``MPI_Abort``) so ``mpiexec``
returns. Device tensors travel through host buffers (``to_host``/``to_device``); the optional ``nccl`` backend
(CuPy + GPUs) reduces device arrays in place on the GPU.

Modules: state (the group and its one state object), transport (deadline waits, buffers), collectives
(all_reduce, broadcast, ..., send/recv).
"""
from .state import (  # noqa: F401
    DEFAULT_TIMEOUT, ReduceOp, _State, _S, _mpi, init_process_group, is_available, is_initialized, _comm, get_rank,
    get_world_size, get_backend, destroy_process_group)
from .transport import wait, waitall, host_buffer, host_dtype  # noqa: F401
from .collectives import (  # noqa: F401
    all_reduce, broadcast, _check_rank, all_gather, all_gather_array, reduce_scatter, barrier, send, recv)
