"""Array-backend seam: every array operation in shendu goes through ``xp``.

NumPy is the only backend today; a CuPy backend plugs in here later without
touching the ops (Chainer's ``get_array_module`` pattern). Also holds the
default floating dtype and device handling.
"""
from __future__ import annotations

import numpy as np

from .random import get_generator, manual_seed, seed  # noqa: F401

#: The active array namespace. Ops call ``xp.exp`` etc., never ``numpy`` directly.
xp = np

_DEFAULT_FLOAT = np.dtype(np.float32)
_DEVICES = ("cpu",)


def get_default_dtype() -> np.dtype:
    """The floating dtype used for Python floats and lists (float32 unless changed)."""
    return _DEFAULT_FLOAT


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype (float32 or float64)."""
    global _DEFAULT_FLOAT
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _DEFAULT_FLOAT = dt


def get_array_module(*arrays):
    """Return the array namespace (module) that the given arrays belong to."""
    for a in arrays:
        mod = type(a).__module__
        if mod.startswith("cupy"):  # pragma: no cover - needs a GPU
            import cupy

            return cupy
    return np


def cuda_available() -> tuple[bool, str]:
    """Whether a CUDA backend can be used, and why not if it cannot."""
    try:
        import cupy  # noqa: F401
    except Exception as exc:  # pragma: no cover - depends on the machine
        return False, f"CuPy is not installed or failed to import ({type(exc).__name__}: {exc})"
    try:  # pragma: no cover - needs a GPU
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover
        return False, f"CuPy is installed but no CUDA device is usable ({exc})"
    return (n > 0), ("ok" if n > 0 else "no CUDA device found")  # pragma: no cover


def check_device(device) -> str:
    """Validate a device name; only 'cpu' is supported by the NumPy backend."""
    if device is None:
        return "cpu"
    name = str(device)
    if name == "cpu":
        return "cpu"
    if name.startswith("cuda"):
        ok, why = cuda_available()
        raise RuntimeError(
            f"device {name!r} is not available: {why}. shendu runs on the NumPy (cpu) backend; "
            "the CuPy backend is not wired in yet."
        )
    raise ValueError(f"unknown device {name!r}: expected 'cpu' (or 'cuda' with CuPy)")


def parse_to_args(args, kwargs):
    """The dtype asked for by ``.to(...)`` arguments (None if none), checking any device named (only 'cpu')."""
    dtype = kwargs.get("dtype")
    for a in args:
        if isinstance(a, str) and (a == "cpu" or a.startswith("cuda")):
            check_device(a)
        else:
            dtype = a
    check_device(kwargs.get("device"))
    return dtype


def to_dtype(dtype) -> np.dtype:
    """Normalize a dtype given as a NumPy dtype, a string, a Python type or a shendu dtype alias."""
    if dtype is float:
        return _DEFAULT_FLOAT
    if dtype is int:
        return np.dtype(np.int64)
    if dtype is bool:
        return np.dtype(np.bool_)
    return np.dtype(dtype)
