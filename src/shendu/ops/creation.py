"""Tensor creation: zeros, ones, full, empty, eye, arange, linspace and random draws from
the global generator (``sd.manual_seed`` makes them reproducible)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, _wrap
from ..backend import check_device, get_default_dtype, get_generator, to_dtype, xp


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(int(s) for s in size)


def _finish(arr, requires_grad, device):
    check_device(device)
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _fdt(dtype):
    return get_default_dtype() if dtype is None else to_dtype(dtype)


def zeros(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(xp.zeros(_shape(size), dtype=_fdt(dtype)), requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(xp.ones(_shape(size), dtype=_fdt(dtype)), requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(xp.empty(_shape(size), dtype=_fdt(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value like PyTorch)."""
    if dtype is None:
        dtype = get_default_dtype() if isinstance(fill_value, float) else (np.bool_ if isinstance(fill_value, bool) else np.int64)
    return _finish(xp.full(tuple(size) if not isinstance(size, int) else (size,), fill_value, dtype=to_dtype(dtype)), requires_grad, device)


def _like(x, dtype):
    return x.dtype if dtype is None else to_dtype(dtype)


def zeros_like(x, dtype=None, requires_grad=False) -> Tensor:
    return _finish(xp.zeros(x.shape, dtype=_like(x, dtype)), requires_grad, None)


def ones_like(x, dtype=None, requires_grad=False) -> Tensor:
    return _finish(xp.ones(x.shape, dtype=_like(x, dtype)), requires_grad, None)


def full_like(x, fill_value, dtype=None, requires_grad=False) -> Tensor:
    return _finish(xp.full(x.shape, fill_value, dtype=_like(x, dtype)), requires_grad, None)


def empty_like(x, dtype=None, requires_grad=False) -> Tensor:
    return _finish(xp.empty(x.shape, dtype=_like(x, dtype)), requires_grad, None)


def eye(n, m=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(xp.eye(n, m, dtype=_fdt(dtype)), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Values from start to end (exclusive); integers stay int64, floats become the default float."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = get_default_dtype() if is_float else np.int64
    return _finish(xp.arange(start, end, step, dtype=to_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _finish(xp.linspace(start, end, steps, dtype=_fdt(dtype)), requires_grad, device)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None) -> Tensor:
    """Uniform samples on [0, 1)."""
    g = generator or get_generator()
    return _finish(g.random(_shape(size), dtype=np.float64).astype(_fdt(dtype)), requires_grad, device)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None) -> Tensor:
    """Standard normal samples."""
    g = generator or get_generator()
    return _finish(g.standard_normal(_shape(size)).astype(_fdt(dtype)), requires_grad, device)


def randint(low, high=None, size=(), dtype=None, generator=None, device=None) -> Tensor:
    """Integers uniformly from [low, high) (``randint(high, size=...)`` also works)."""
    if high is None:
        low, high = 0, low
    g = generator or get_generator()
    return _finish(g.integers(low, high, size=tuple(size), dtype=np.int64).astype(to_dtype(dtype or np.int64)), False, device)


def randperm(n, generator=None, device=None) -> Tensor:
    g = generator or get_generator()
    return _finish(g.permutation(n).astype(np.int64), False, device)


def normal(mean, std, size, generator=None) -> Tensor:
    g = generator or get_generator()
    return _finish(g.normal(mean, std, size=tuple(size)).astype(get_default_dtype()), False, None)


def rand_like(x, dtype=None) -> Tensor:
    return rand(*x.shape, dtype=dtype or x.dtype)


def randn_like(x, dtype=None) -> Tensor:
    return randn(*x.shape, dtype=dtype or x.dtype)
