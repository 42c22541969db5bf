"""Shared set-up for the scripts that tests/distributed launches under mpiexec.

Honours SHENDU_TEST_DEVICE=strict (tensors on the strict GPU stand-in, as tests/conftest.py does), initializes
the process group with a short timeout, and gives ``check`` (raise on failure: non-zero exit code) and ``emit``
(rank 0 prints one JSON line)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "src"))

import shendu as sd  # noqa: E402
import shendu.distributed as dist  # noqa: E402

STRICT = os.environ.get("SHENDU_TEST_DEVICE", "cpu") == "strict"
DEV = "cuda" if STRICT else "cpu"  # the device the scripts' tensors live on
if STRICT:
    from shendu.testing import strict_device

    strict_device.install()
    sd.set_default_device("cuda")


def numpy(t):
    """Host values of tensor ``t`` (on the strict stand-in too)."""
    from shendu.backend import to_host

    return to_host(t._data)


def init(timeout=20):
    dist.init_process_group("mpi", timeout=timeout)
    return dist.get_rank(), dist.get_world_size()


def check(cond, msg):
    if not cond:
        raise AssertionError(f"rank {dist.get_rank() if dist.is_initialized() else '?'}: {msg}")


def emit(obj):
    if not dist.is_initialized() or dist.get_rank() == 0:
        print("RESULT " + json.dumps(obj), flush=True)
