"""``shendu.distributed``: training on several processes and machines over MPI (textbook 12.1.3).

PyTorch's names: ``init_process_group``, ``get_rank``, ``get_world_size``, collectives on tensors of any device
(``all_reduce``, ``broadcast``, ``all_gather``, ``reduce_scatter``, ``barrier``, ``send``/``recv``) with timeouts,
``DistributedDataParallel`` (synchronous data parallelism), and the textbook's other schemes: asynchronous SGD with
a parameter server (``ParameterServer``), lock-free shared-memory ``hogwild``, model parallelism by layers with
micro-batch pipelining (``PipelineParallel``) and data-parallel inference (``predict``). Launch with
``shendu run -n N script.py`` (or ``mpiexec -n N python script.py``).
"""
from ._group import (  # noqa: F401
    ReduceOp, all_gather, all_reduce, barrier, broadcast, destroy_process_group, get_backend, get_rank,
    get_world_size, init_process_group, is_available, is_initialized, recv, reduce_scatter, send,
)
from .async_sgd import ParameterServer, hogwild  # noqa: F401
from .ddp import DistributedDataParallel  # noqa: F401
from .pipeline import PipelineParallel, predict  # noqa: F401
from . import launch, training  # noqa: F401,E402

__all__ = [
    "DistributedDataParallel",
    "ParameterServer",
    "PipelineParallel",
    "ReduceOp",
    "hogwild",
    "predict",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "recv",
    "reduce_scatter",
    "send",
]
