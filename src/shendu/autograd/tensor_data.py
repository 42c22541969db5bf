"""Turning Python and NumPy data into the array a Tensor holds (textbook 6.5.1): copy or share, the default dtype
(Python floats become float32), the default device, and clear errors for ragged or non-numeric data; index keys
and operands moved to a tensor's device.
"""
from __future__ import annotations

import numpy as np

from ..backend import CPU, device_of, get_default_device, get_default_dtype, resolve, to_device, to_dtype, to_host
from ..backend.lowp import bfloat16 as _BF16
from . import tensor as _tensor


def _to_array(data, dtype, copy: bool, device=None):
    """Convert ``data`` to an array on ``device`` (None: where a Tensor/array already is, else the default
    device); Python floats and lists of floats become the default float dtype."""
    if isinstance(data, _tensor.Tensor):
        data = data._data
    if isinstance(data, np.ndarray) or (hasattr(data, "shape") and device_of(data) is not CPU):
        arr = data
        if arr.dtype.kind not in "biufc" and arr.dtype != _BF16:
            raise _not_numeric(data, arr)
        if dtype is not None:
            arr = arr.astype(to_dtype(dtype), copy=copy)
        elif copy:
            arr = arr.copy()
        if device is not None:
            dev = resolve(device)
            if dev != device_of(arr):
                arr = to_device(arr, dev)
        return arr
    if hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
        arr = np.asarray(data)
        if arr.dtype.kind not in "biufc" and arr.dtype != _BF16:
            raise _not_numeric(data, arr)
        if dtype is not None:
            arr = arr.astype(to_dtype(dtype), copy=False)
    else:
        values = _host_values(data)
        try:
            arr = np.array(values)
        except ValueError:  # NumPy >= 1.24 refuses ragged nesting
            raise _ragged(values) from None
        if arr.dtype.kind not in "biufc":
            if arr.dtype.kind == "O" and dtype is not None:  # e.g. ints beyond int64 for a float dtype
                try:
                    arr = np.array(values, dtype=to_dtype(dtype))
                except (ValueError, TypeError, OverflowError):
                    raise _ragged(values) or _not_numeric(data, arr) from None
            else:
                raise _ragged(values) or _not_numeric(data, arr)
        if dtype is not None:
            arr = arr.astype(to_dtype(dtype), copy=False)
        elif arr.dtype.kind == "f" and arr.dtype != get_default_dtype():
            arr = arr.astype(get_default_dtype())
    dev = get_default_device() if device is None else resolve(device)
    return arr if dev is CPU else to_device(arr, dev)


def _ragged(values, dim=0):
    """A ValueError naming where a nested sequence is ragged (as PyTorch: "expected sequence of length 2 at dim 1
    (got 1)"), or None when it is not."""
    if not isinstance(values, (list, tuple)):
        return None
    seqs = [isinstance(v, (list, tuple)) for v in values]
    if any(seqs) and not all(seqs):
        return ValueError(f"tensor: ragged nested sequence: at dim {dim + 1} some entries are sequences and some "
                          f"are not ({type(values[seqs.index(False)]).__name__} next to a sequence)")
    if not values or not seqs[0]:
        return None
    n = len(values[0])
    for v in values:
        if len(v) != n:
            return ValueError(f"tensor: ragged nested sequence: expected sequence of length {n} at dim {dim + 1} "
                              f"(got {len(v)})")
    for v in values:
        err = _ragged(v, dim + 1)
        if err is not None:
            return err
    return None


def _not_numeric(data, arr):
    """A TypeError for data that is not numbers or booleans (strings, objects, dates)."""
    msg = (
        f"tensor: cannot convert {type(data).__name__} of {arr.dtype} values to a tensor; expected numbers or booleans"
    )
    if arr.size:
        v = arr.reshape(-1)[0]
        msg += f" (got e.g. {v.item() if isinstance(v, np.generic) else v!r})"
    return TypeError(msg)


def array_of(x):
    """The array behind ``x`` where it lives: a Tensor's array, a host or device array as is, and anything
    else (lists, numbers) as a host array."""
    if isinstance(x, _tensor.Tensor):
        return x._data
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic):
        return x
    return np.asarray(x)


def _host_values(data):
    """Lists and tuples with tensors inside (``sd.tensor([t1, t2])``) as host values."""
    if isinstance(data, (list, tuple)):
        return [_host_values(v) for v in data]
    if isinstance(data, _tensor.Tensor):
        return to_host(data._data)
    return data


def _same_device(arr, dev, op):
    if device_of(arr) != dev:
        raise RuntimeError(f"{op}: Expected all tensors to be on the same device, but found at least two devices, "
                           f"{dev} and {device_of(arr)}")
    return arr


def _index_to(key, dev):
    """Index arrays in ``key`` moved to ``dev`` (host integer/bool arrays and lists index device arrays)."""
    if isinstance(key, tuple):
        return tuple(_index_to(k, dev) for k in key)
    if isinstance(key, _tensor.Tensor):
        key = key._data
    if isinstance(key, list) or (hasattr(key, "shape") and getattr(key, "ndim", 0) > 0):
        return to_device(np.asarray(key) if isinstance(key, list) else key, dev)
    return key

