"""``sd.accelerator`` (torch.accelerator): the current accelerator, if any (a CUDA GPU through CuPy)."""
from __future__ import annotations

from . import cuda as _cuda


def is_available() -> bool:
    """True when an accelerator (a CUDA GPU) is usable."""
    return _cuda.is_available()


def device_count() -> int:
    """Number of accelerator devices (0 without one)."""
    return _cuda.device_count()


def current_accelerator(check_available: bool = False):
    """``sd.device('cuda')`` when a GPU is usable (with ``check_available``: only then), else None."""
    from .backend import device

    return device("cuda") if _cuda.is_available() else None


def current_device_index() -> int:
    """Index of the current accelerator device (0; shendu places tensors on explicit devices)."""
    return 0


def synchronize(device=None) -> None:
    """Wait for queued accelerator work (no-op without one)."""
    _cuda.synchronize(device)
