"""Batches for the training loop (textbook 8.1.3): a DataLoader from arrays/datasets, dtype casting of the data
to the model's dtype, the model's device and dtype, moving a batch there, and host concatenation of outputs.
"""
from __future__ import annotations

import numbers

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import CPU, device_of, namespace_of, to_device, to_host
from ...backend.lowp import is_floating


def _unwrap(model):
    """The model inside a DistributedDataParallel wrapper (checkpoints hold it: resume at any world size)."""
    inner = getattr(model, "module", None)
    return inner if type(model).__name__ == "DistributedDataParallel" and inner is not None else model


def make_loader(data, batch_size, shuffle=False, seed=None, who="fit", dtype=None):
    """A DataLoader from a DataLoader, a Dataset, a tuple (x, y[, ...]) of arrays/Tensors, or one array.

    ``dtype``: floating arrays/Tensors of another floating dtype are cast to it once, with the data (as Keras
    casts to the model's dtype: float64 NumPy data train a float32 model in float32)."""
    from ...data import DataLoader, Dataset, TensorDataset

    if isinstance(data, DataLoader):
        return data
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{who}: batch_size must be a positive int, got {batch_size!r}")
    if isinstance(data, Dataset):
        ds = data
    elif isinstance(data, (tuple, list)):
        if not data:
            raise ValueError(f"{who}: got an empty tuple of arrays; expected (x, y)")
        ds = TensorDataset(*_cast_floats(data, dtype))
    elif isinstance(data, (np.ndarray, Tensor)) or (hasattr(data, "shape") and hasattr(data, "dtype")):
        ds = TensorDataset(*_cast_floats((data,), dtype))
    else:
        raise TypeError(f"{who}: data must be a DataLoader, a Dataset, a tuple (x, y) of arrays or an array; "
                        f"got {type(data).__name__}")
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, seed=seed)


def _cast_floats(arrays, dtype):
    """``arrays`` with each floating one of a floating dtype other than ``dtype`` cast to it (None: unchanged)."""
    if dtype is None:
        return tuple(arrays)
    out = []
    for a in arrays:
        dt = getattr(a, "dtype", None)
        if dt is not None and getattr(dt, "kind", "") == "f" and dt != dtype:
            a = a.type(dtype) if isinstance(a, Tensor) else a.astype(dtype)
        out.append(a)
    return tuple(out)


def model_dtype(model):
    """The dtype of the model's first floating parameter (or buffer); None for a model without any."""
    for attr in ("parameters", "buffers"):
        it = getattr(model, attr, None)
        if callable(it):
            for t in it():
                dt = t._data.dtype
                if dt.kind != "c" and is_floating(dt):  # real floating, bfloat16 included
                    return dt
    return None


def _as_tensors(batch):
    """Batches from loaders built with as_tensor=False: wrap arrays as Tensors (no copy)."""
    from ...autograd import as_tensor

    return tuple(b if isinstance(b, Tensor) else as_tensor(b) for b in batch)


def _usable(name):
    """Whether the device named ``name`` exists here (a checkpoint written on a GPU may resume on the CPU)."""
    from ...backend import resolve

    try:
        resolve(name)
    except (RuntimeError, ValueError, TypeError):
        return False
    return True


def _batch_size(t):
    return t.shape[0] if getattr(t, "ndim", 0) else 1


def model_device(model):
    """The device of the model's first parameter (or buffer); the CPU for a model without any."""
    for attr in ("parameters", "buffers"):
        it = getattr(model, attr, None)
        if callable(it):
            first = next(iter(it()), None)
            if first is not None:
                return device_of(first._data)
    return CPU


def _to_device(batch, dev):
    """The batch's tensors on device ``dev`` (the same tuple when they are there already: the CPU fast path)."""
    if dev is CPU and all(type(b._data) is np.ndarray for b in batch if isinstance(b, Tensor)):
        return batch
    out = []
    for b in batch:
        if isinstance(b, Tensor) and device_of(b._data) != dev:
            b = b.to(dev) if b.requires_grad else _wrap(to_device(b._data, dev))
        out.append(b)
    return tuple(out)


def _concat_host(arrays):
    """One host array from a list of same-device arrays (one device-to-host copy)."""
    return to_host(namespace_of(arrays[0]).concatenate(arrays))


def _metric_logs(named_metrics, outputs, targets, prefix=""):
    if not named_metrics or not outputs:
        return {}
    y_pred = _concat_host(outputs)
    y_true = _concat_host(targets)
    return {prefix + name: float(fn(y_true, y_pred)) for name, fn in named_metrics}
