"""``sd.cuda``: is a CUDA GPU usable, how many, and waiting for queued GPU work (PyTorch's names).

GPU arrays come from CuPy (``pip install 'shendu[cuda]'``); without CuPy or a GPU every function
here answers without raising, except where a GPU is required (``synchronize`` with no GPU is a no-op).
"""
from __future__ import annotations

from .backend.device import cuda_backend


def is_available() -> bool:
    """True when CuPy imports and finds at least one CUDA device."""
    return cuda_backend(required=False) is not None


def device_count() -> int:
    """Number of usable CUDA devices (0 without CuPy or a GPU)."""
    be = cuda_backend(required=False)
    return 0 if be is None else be.device_count()


def synchronize(device=None) -> None:
    """Wait until all queued work on ``device`` (default: every device in use) has finished."""
    be = cuda_backend(required=False)
    if be is None:
        return
    from .backend.device import device as _device

    idx = None if device is None else (_device(device).index or 0)
    be.synchronize(idx)


def current_device() -> int:
    """The index of the current CUDA device (0: shendu places tensors on explicit devices)."""
    cuda_backend()
    return 0


def get_device_name(device=None) -> str:
    """The name of a CUDA device, as ``shendu info`` prints it."""
    be = cuda_backend()
    idx = (
        0
        if device is None
        else (device if isinstance(device, int) else (__import__("shendu").device(device).index or 0))
    )
    return be.info().get(f"cuda:{idx}", "unknown").split(",")[0]


def manual_seed(seed: int) -> None:
    """Seed every device's generator (same as ``sd.manual_seed``)."""
    from .backend.random import manual_seed as _seed

    _seed(seed)


manual_seed_all = manual_seed
