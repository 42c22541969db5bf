"""Tensor creation: zeros, ones, full, empty, eye, arange, linspace and random draws from
the device's generator (``sd.manual_seed`` makes them reproducible on every device).

``device=`` places the tensor (default: ``sd.get_default_device()``, the CPU unless changed);
``*_like`` functions follow the device of their argument.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import _ModeState, note_made
from ..autograd.tensor import Tensor, _wrap
from ..backend import (
    backend_of_device,
    device_of,
    get_default_dtype,
    get_generator,
    resolve,
    to_dtype,
)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(int(s) for s in size)


def _ns(device):
    """The concrete device and its array namespace, with that device current for allocations."""
    dev = resolve(device)
    return dev, backend_of_device(dev)


def _make(device, fn, *args, **kw):
    dev, be = _ns(device)
    with be.use(dev.index):
        return getattr(be.xp, fn)(*args, **kw)


def _finish(arr, requires_grad):
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad = True
    if _ModeState.tracing_any:
        note_made(t)
    return t


def _fdt(dtype):
    return get_default_dtype() if dtype is None else to_dtype(dtype)


def zeros(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(_make(device, "zeros", _shape(size), dtype=_fdt(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(_make(device, "ones", _shape(size), dtype=_fdt(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(_make(device, "empty", _shape(size), dtype=_fdt(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value like PyTorch)."""
    if dtype is None:
        dtype = (
            get_default_dtype()
            if isinstance(fill_value, float)
            else (np.bool_ if isinstance(fill_value, bool) else np.int64)
        )
    size = tuple(size) if not isinstance(size, int) else (size,)
    return _finish(_make(device, "full", size, fill_value, dtype=to_dtype(dtype)), requires_grad)


def _like(x, dtype):
    return x.dtype if dtype is None else to_dtype(dtype)


def _like_device(x, device):
    return device_of(x._data) if device is None and isinstance(x, Tensor) else device


def zeros_like(x, dtype=None, requires_grad=False, device=None) -> Tensor:
    return zeros(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad, device=_like_device(x, device))


def ones_like(x, dtype=None, requires_grad=False, device=None) -> Tensor:
    return ones(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad, device=_like_device(x, device))


def full_like(x, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    return full(x.shape, fill_value, dtype=_like(x, dtype), requires_grad=requires_grad, device=_like_device(x, device))


def empty_like(x, dtype=None, requires_grad=False, device=None) -> Tensor:
    return empty(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad, device=_like_device(x, device))


def eye(n, m=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(_make(device, "eye", n, m, dtype=_fdt(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Values from start to end (exclusive); integers stay int64, floats become the default float."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = get_default_dtype() if is_float else np.int64
    return _finish(_make(device, "arange", start, end, step, dtype=to_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(_make(device, "linspace", start, end, steps, dtype=_fdt(dtype)), requires_grad)


def _gen(generator, device):
    return generator if generator is not None else get_generator(resolve(device))


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None) -> Tensor:
    """Uniform samples on [0, 1) from the device's generator."""
    g = _gen(generator, device)
    return _finish(g.random(_shape(size), dtype=np.float64).astype(_fdt(dtype)), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None) -> Tensor:
    """Standard normal samples from the device's generator."""
    g = _gen(generator, device)
    return _finish(g.standard_normal(_shape(size)).astype(_fdt(dtype)), requires_grad)


def randint(low, high=None, size=(), dtype=None, requires_grad=False, generator=None, device=None) -> Tensor:
    """Integers uniformly from [low, high) (``randint(high, size=...)`` also works)."""
    if high is None:
        low, high = 0, low
    g = _gen(generator, device)
    arr = g.integers(low, high, size=_size(size), dtype=np.int64).astype(to_dtype(dtype or np.int64))
    return _finish(arr, requires_grad)


def randperm(n, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype``)."""
    g = _gen(generator, device)
    return _finish(g.permutation(n).astype(to_dtype(dtype or np.int64)), requires_grad)


def _size(size):
    return (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Normal samples N(mean, std^2): scalar mean/std with ``size``, or tensor mean/std (broadcast, elementwise)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s)) if size is None else _size(size)
        g = _gen(generator, device_of(ref._data) if device is None else device)
        z = g.standard_normal(shape)
        return _finish((m + s * z).astype(_like(ref, dtype)), requires_grad)
    if size is None:
        raise TypeError("normal: with float mean and std, pass size= (e.g. normal(0.0, 1.0, size=(3,)))")
    g = _gen(generator, device)
    return _finish(g.normal(mean, std, size=_size(size)).astype(_fdt(dtype)), requires_grad)


def rand_like(x, dtype=None, requires_grad=False, device=None) -> Tensor:
    return rand(*x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, device=_like_device(x, device))


def randn_like(x, dtype=None, requires_grad=False, device=None) -> Tensor:
    return randn(*x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad, device=_like_device(x, device))


def randint_like(x, low, high=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return randint(low, high, x.shape, dtype=dtype or x.dtype, requires_grad=requires_grad,
                   device=_like_device(x, device))


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False, device=None) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    return _finish(_make(device, "logspace", start, end, steps, base=base, dtype=_fdt(dtype)), requires_grad)


def from_numpy(arr) -> Tensor:
    """A CPU tensor sharing memory with the NumPy array ``arr`` (writes to either show in both); dtype kept."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(arr).__name__}")
    return _wrap(arr)
