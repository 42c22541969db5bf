"""Array-backend seam: devices, array namespaces, default dtype and random generators.

Ops never use a global array module: they take the namespace from their inputs
(``namespace_of``, Chainer's ``get_array_module``); ``device.py`` maps devices to backends
(NumPy on the CPU, CuPy on CUDA GPUs).
"""
from __future__ import annotations

import threading

import numpy as np

from .device import (  # noqa: F401
    CPU, Backend, backend_of, backend_of_device, common_namespace, cuda_backend, cuda_unavailable_reason, device,
    device_of, get_default_device, is_array, is_host, namespace_of, resolve, set_cuda_backend, set_default_device,
    to_device, to_device_of, to_host,
)
from .random import generator_for, get_generator, get_rng_state, manual_seed, seed, set_rng_state  # noqa: F401

_DEFAULT_FLOAT = np.dtype(np.float32)


class _DtypeOverride(threading.local):
    """The calling thread's ``default_dtype`` block, if any (None: the process-wide default)."""

    dtype = None


_LOCAL = _DtypeOverride()


def get_default_dtype() -> np.dtype:
    """The floating dtype used for Python floats and lists: the calling thread's ``default_dtype``
    block if one is open, else the process-wide default (float32 unless changed)."""
    d = _LOCAL.dtype
    return _DEFAULT_FLOAT if d is None else d


def _float_dtype(name, dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{name}: expected a floating dtype, got {dt}")
    return dt


def set_default_dtype(dtype) -> None:
    """Set the process-wide default floating dtype (float32 or float64), as ``torch.set_default_dtype``;
    a thread's open ``default_dtype`` block still wins in that thread."""
    global _DEFAULT_FLOAT
    _DEFAULT_FLOAT = _float_dtype("set_default_dtype", dtype)


class default_dtype:
    """Use ``dtype`` as the default floating dtype inside a block, in the calling thread only:
    ``with default_dtype(np.float64): ...`` (other threads keep theirs; blocks nest)."""

    def __init__(self, dtype):
        self._dtype = _float_dtype("default_dtype", dtype)

    def __enter__(self):
        self._prev = _LOCAL.dtype
        _LOCAL.dtype = self._dtype
        return self

    def __exit__(self, *exc):
        _LOCAL.dtype = self._prev
        return False


def get_array_module(*arrays):
    """The array namespace (module) that the given arrays belong to (Chainer's name for ``namespace_of``)."""
    return namespace_of(*arrays)


def cuda_available() -> bool:
    """Whether a CUDA backend (CuPy and a GPU) can be used: a bool, so ``"cuda" if cuda_available() else "cpu"``
    works (as ``sd.cuda.is_available()``); ``cuda_unavailable_reason()`` says why not."""
    return cuda_unavailable_reason() is None


def parse_to_args(args, kwargs):
    """``(dtype, device)`` asked for by ``.to(...)`` arguments (None for what is not asked).

    Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype and device)
    and the keywords ``dtype=``, ``device=``, ``non_blocking=``, ``copy=``."""
    dtype = kwargs.get("dtype")
    dev = kwargs.get("device")
    for a in args:
        if isinstance(a, str):
            if a.split(":")[0] in ("cpu", "cuda"):
                dev = a
                continue
            try:
                dtype = np.dtype(a)
            except TypeError:
                device(a)  # neither a dtype nor a device: raises the device error naming it
        elif isinstance(a, device) or (isinstance(a, int) and not isinstance(a, bool)):
            dev = a
        elif hasattr(a, "_data") and hasattr(a, "device"):  # a Tensor: its dtype and device
            dtype, dev = a.dtype, a.device
        else:
            dtype = a
    return dtype, (None if dev is None else resolve(dev))


def to_dtype(dtype) -> np.dtype:
    """Normalize a dtype given as a NumPy dtype, a string, a Python type or a shendu dtype alias."""
    if dtype is float:
        return get_default_dtype()
    if dtype is int:
        return np.dtype(np.int64)
    if dtype is bool:
        return np.dtype(np.bool_)
    return np.dtype(dtype)
