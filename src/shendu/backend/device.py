"""Devices: where a tensor's array lives, and the array namespace that computes on it (textbook 12.1.2).

A ``device`` names a place ("cpu", "cuda", "cuda:1"); a *backend* is what computes there: its array
namespace (NumPy for the CPU, CuPy for CUDA GPUs), how to move arrays in and out, synchronize and count
devices. The namespace of an op is taken from its input arrays (Chainer's ``get_array_module``), never
from a global: ``namespace_of(x)``. NumPy arrays are the fast path (one ``type(x) is ndarray`` test).

The "cuda" backend is CuPy, imported on first use; tests may install the strict CPU stand-in instead
(``shendu.testing.strict_device``), which plays a GPU whose arrays refuse implicit host/device mixing.

Kept whole (~330 lines): the "cuda" backend is a module global rebound by ``set_cuda_backend`` and read by the
per-op lookups (``backend_of``, ``namespace_of``, ``device_of``, ``common_namespace``), so they live beside it.
"""
from __future__ import annotations

import numpy as np

_ndarray = np.ndarray


class device:
    """A device: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")`` or ``device("cuda", 1)``.

    Compares equal to its string form (``t.device == "cpu"``); ``str(d)`` is "cpu" or "cuda:N"."""

    __slots__ = ("type", "index")

    def __init__(self, spec, index: int | None = None):
        if isinstance(spec, device):
            kind, idx = spec.type, spec.index
        elif isinstance(spec, int) and not isinstance(spec, bool):
            kind, idx = "cuda", spec  # PyTorch: an int is a CUDA ordinal
        elif isinstance(spec, str):
            kind, _, rest = spec.strip().partition(":")
            idx = None
            if rest:
                if not rest.isdigit():
                    raise ValueError(f"device: invalid device string {spec!r}; expected 'cpu', 'cuda' or 'cuda:N'")
                idx = int(rest)
        else:
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {type(spec).__name__}")
        if index is not None:
            if idx is not None and idx != index:
                raise ValueError(f"device: {spec!r} names index {idx} but index={index} was given")
            idx = int(index)
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"device: unknown device type {kind!r} in {spec!r}; "
                             "expected 'cpu' or 'cuda' (or 'cuda:N')")
        if kind == "cpu" and idx not in (None, 0):
            raise ValueError(f"device: the cpu device has no index {idx}")
        if idx is not None and idx < 0:
            raise ValueError(f"device: negative device index {idx}")
        self.type = kind
        self.index = None if kind == "cpu" else idx

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


class Backend:
    """What one device type needs: its namespace ``xp``, its array type, transfers, sync and RNG."""

    name = "cpu"
    xp = np
    array_type = np.ndarray

    def device_count(self) -> int:
        return 1

    def index_of(self, arr) -> int | None:
        return None

    def to_device(self, arr, index):
        """``arr`` (a host array) copied to device ``index``."""
        return np.array(arr, copy=True)

    def to_host(self, arr) -> np.ndarray:
        return arr

    def synchronize(self, index=None) -> None:
        pass

    def use(self, index):
        """A context manager making ``index`` the current device (for allocations)."""
        import contextlib

        return contextlib.nullcontext()

    def generator(self, seed, index):
        """A random generator on this device with NumPy's ``Generator`` methods used by shendu."""
        return np.random.default_rng(seed)

    def info(self) -> dict:
        return {}


_CPU_BACKEND = Backend()
_cuda_backend: Backend | None = None
_cuda_error: str | None = None


def set_cuda_backend(backend: Backend | None) -> None:
    """Install ``backend`` as the "cuda" backend (tests install the strict stand-in); None: CuPy again."""
    global _cuda_backend, _cuda_error
    _cuda_backend, _cuda_error = backend, None
    from . import random as _random

    _random._reset_device_generators()


def cuda_backend(required: bool = True) -> Backend | None:
    """The CUDA backend (CuPy, imported on first use), or None/raise with the reason it is unusable."""
    global _cuda_backend, _cuda_error
    if _cuda_backend is None and _cuda_error is None:
        try:
            from ._cupy import CupyBackend

            be = CupyBackend()
            if be.device_count() < 1:
                raise RuntimeError("CuPy is installed but found no CUDA device")
            _cuda_backend = be
        except Exception as exc:  # no CuPy, no driver, no device
            _cuda_error = _why_no_cuda(exc)
    if _cuda_backend is None and required:
        raise RuntimeError(
            f"CUDA device requested but not available: {_cuda_error}. Install CuPy for your CUDA version "
            "(pip install 'shendu[cuda]' for CUDA 12, or cupy-cuda13x for CUDA 13) on a machine with an NVIDIA GPU, "
            "or use device='cpu'"
        )
    return _cuda_backend


def cuda_unavailable_reason() -> str | None:
    """Why no CUDA backend is usable (None when one is)."""
    return None if cuda_backend(required=False) is not None else _cuda_error


def _why_no_cuda(exc) -> str:
    if isinstance(exc, ImportError):
        return f"CuPy is not installed or failed to import ({type(exc).__name__}: {exc})"
    return f"{type(exc).__name__}: {exc}"


def backend_of_device(dev: device) -> Backend:
    return _CPU_BACKEND if dev.type == "cpu" else cuda_backend()


def backend_of(arr) -> Backend:
    """The backend whose array ``arr`` is (host arrays and scalars: the CPU)."""
    if type(arr) is _ndarray:
        return _CPU_BACKEND
    be = _cuda_backend
    if be is not None and isinstance(arr, be.array_type):
        return be
    if type(arr).__module__.startswith("cupy"):
        return cuda_backend()
    return _CPU_BACKEND


def namespace_of(*arrays):
    """The array namespace (module) that computes on ``arrays``: NumPy, CuPy or the strict stand-in."""
    for a in arrays:
        if type(a) is not _ndarray and a is not None and hasattr(a, "shape"):
            be = backend_of(a)
            if be is not _CPU_BACKEND:
                return be.xp
    return np


def device_of(arr) -> device:
    """The device holding array ``arr``."""
    if type(arr) is _ndarray:
        return CPU
    be = backend_of(arr)
    if be is _CPU_BACKEND:
        return CPU
    return _cuda_device(be.index_of(arr))


_CUDA_DEVICES: dict = {}


def _cuda_device(index) -> device:
    d = _CUDA_DEVICES.get(index)
    if d is None:
        d = _CUDA_DEVICES[index] = device("cuda", index)
    return d


def resolve(dev) -> device:
    """A concrete device from a device, string, int or None (None: the default device); 'cuda' -> 'cuda:current'.

    Raises a clear error when the device is unknown or not available."""
    if dev is None:
        return _DEFAULT[0]
    d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return CPU
    be = cuda_backend()
    idx = 0 if d.index is None else d.index
    n = be.device_count()
    if idx >= n:
        raise RuntimeError(f"device {str(d)!r} is not available: this machine has {n} CUDA device(s) "
                           f"(cuda:0..cuda:{n - 1})")
    return _cuda_device(idx)


def to_device(arr, dev: device):
    """``arr`` on device ``dev`` (the same array when it is already there)."""
    src = backend_of(arr)
    if dev.type == "cpu":
        return arr if src is _CPU_BACKEND else src.to_host(arr)
    dst = cuda_backend()
    if src is dst:
        if dst.index_of(arr) == dev.index:
            return arr
        arr = dst.to_host(arr)  # device-to-device through the host: simple and rare
    elif not isinstance(arr, _ndarray):
        arr = np.asarray(arr)
    return dst.to_device(arr, dev.index)


def use_device(index):
    """A context making CUDA device ``index`` current, so that new arrays are allocated there."""
    return cuda_backend().use(index)


def to_host(arr) -> np.ndarray:
    """A NumPy array with the values of ``arr`` (an explicit device-to-host copy for device arrays)."""
    if type(arr) is _ndarray:
        return arr
    return backend_of(arr).to_host(arr)


def is_host(arr) -> bool:
    return type(arr) is _ndarray or backend_of(arr) is _CPU_BACKEND


def is_array(x) -> bool:
    """Whether ``x`` is an array, on the host (NumPy) or a device (CuPy, the strict stand-in); NumPy scalars,
    numbers and Tensors are not. A device array is ``is_array(x) and not is_host(x)``."""
    return isinstance(x, _ndarray) or (hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic)
                                       and not is_host(x))


def to_device_of(value, ref, dtype=None, copy=False):
    """``value`` (a Tensor, a host or device array, a list or a number) as an array on the device of ``ref`` (a
    Tensor or an array), cast to ``dtype`` if given.

    A host value is cast on the host, then copied over once; an array already there comes back as is unless
    ``dtype`` differs or ``copy=True`` asks for a new array (then the result never shares memory with ``value``)."""
    if hasattr(value, "_data") and hasattr(value, "device"):  # a Tensor
        value = value._data
    ref = ref._data if hasattr(ref, "_data") and hasattr(ref, "device") else ref
    dev = device_of(ref)
    if not hasattr(value, "shape") or (is_host(value) and dev.type != "cpu"):
        return to_device(np.asarray(value, dtype=dtype), dev)  # a new array: a list's, or a copy across devices
    moved = to_device(value, dev)
    if dtype is not None:
        return moved.astype(dtype, copy=copy and moved is value)
    return moved.copy() if copy and moved is value else moved


# --- the default device (``sd.set_default_device``, as torch.set_default_device) --------------------
_DEFAULT = [CPU]


def set_default_device(dev) -> None:
    """Make ``dev`` the device of new tensors and layers created without ``device=``."""
    _DEFAULT[0] = CPU if dev is None else resolve(dev)


def get_default_device() -> device:
    return _DEFAULT[0]


# --- the op-level device check ----------------------------------------------------------------------
def common_namespace(op: str, arrays: list):
    """The namespace for an op whose input ``arrays`` are not all host arrays, moving 0-d host values
    (scalars) to the device as PyTorch does. Mixing devices raises an error naming ``op`` and both devices.

    Returns ``(xp, arrays, index)``: ``index`` is the CUDA ordinal of the inputs (the op must allocate there)."""
    dev = be = None
    host = []  # positions of host values (arrays, NumPy scalars, numbers)
    for i, a in enumerate(arrays):
        b = _CPU_BACKEND if type(a) is _ndarray or not hasattr(a, "shape") else backend_of(a)
        if b is _CPU_BACKEND:
            if a is not None:
                host.append(i)
            continue
        d = _cuda_device(b.index_of(a))
        if dev is None:
            dev, be = d, b
        elif d != dev:
            raise RuntimeError(
                f"{op}: Expected all tensors to be on the same device, but found at least two devices, {dev} and {d}"
            )
    if be is None:
        return np, arrays, None
    out = list(arrays)
    for i in host:
        a = arrays[i]
        if getattr(a, "ndim", 0) != 0:
            raise RuntimeError(
                f"{op}: Expected all tensors to be on the same device, but found at least two devices, "
                f"{dev} and cpu (input {i} has shape {tuple(a.shape)} on the cpu; move it with .to({str(dev)!r}))"
            )
        out[i] = be.to_device(np.asarray(a), dev.index)
    return be.xp, out, dev.index
