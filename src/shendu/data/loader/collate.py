"""Collating samples into a batch: stacking fields (``default_collate``), converting to Tensors, and the
fetch of one batch (index, collate, transform) used by the loader and its worker processes.
"""
from __future__ import annotations

import numbers

import numpy as np


def _stack(values, field):
    first = values[0]
    if isinstance(first, (bool, np.bool_)):
        return np.asarray(values, dtype=np.bool_)
    if isinstance(first, numbers.Integral) and not isinstance(first, np.generic):
        return np.asarray(values, dtype=np.int64)
    if isinstance(first, numbers.Real) and not isinstance(first, np.generic):
        return np.asarray(values, dtype=np.float32)  # Python floats -> float32 (shendu default)
    arrays = []
    for v in values:
        if type(v) is not np.ndarray and not isinstance(v, np.generic):  # tensors, device arrays: to the host
            from ..dataset import to_numpy

            v = to_numpy(v, name=f"sample field {field}")
        arrays.append(v)
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"default_collate: field {field} has samples of different shapes {sorted(shapes)}; "
            "pass a collate_fn to batch variable-size samples"
        )
    return np.stack(arrays)


def default_collate(samples):
    """Stack a list of samples into a batch tuple: field j -> array (B, ...) of `sample[j]`.

    Samples are tuples/lists of arrays or numbers, or single arrays/numbers (-> 1-tuple).
    Python ints -> int64, Python floats -> float32, bools -> bool, arrays keep their dtype.
    """
    if not samples:
        raise ValueError("default_collate: got an empty list of samples")
    first = samples[0]
    if isinstance(first, dict):
        raise TypeError("default_collate: dict samples are not supported; pass a collate_fn")
    if isinstance(first, (tuple, list)):
        width = len(first)
        if any(len(s) != width for s in samples):
            raise ValueError("default_collate: samples have different numbers of fields")
        return tuple(_stack([s[j] for s in samples], j) for j in range(width))
    return (_stack(list(samples), 0),)


def _to_tensors(batch):
    import shendu

    as_tensor = getattr(shendu, "as_tensor", None)
    if as_tensor is None:
        raise RuntimeError("DataLoader(as_tensor=True) needs shendu.as_tensor, which is not available; "
                           "pass as_tensor=False to get NumPy arrays")
    return tuple(as_tensor(b) if isinstance(b, np.ndarray) else b for b in batch)


def _fetch_batch(dataset, collate_fn, transform, idx):
    """The batch of indices ``idx``: ``get_batch`` of array-backed data sets, else samples through collate_fn."""
    get_batch = None if collate_fn is not None else getattr(dataset, "get_batch", None)
    if get_batch is not None:
        return _transformed(tuple(get_batch(idx)), transform)
    return _collate([dataset[int(i)] for i in idx], collate_fn, transform)


def _collate(samples, collate_fn, transform):
    """A list of samples as one batch tuple (``collate_fn`` or ``default_collate``), ``transform`` applied."""
    batch = (collate_fn or default_collate)(samples)
    if isinstance(batch, np.ndarray):
        batch = (batch,)
    elif isinstance(batch, list):
        batch = tuple(batch)
    return _transformed(batch, transform)


def _transformed(batch, transform):
    """``batch`` with ``transform`` applied to its input field (field 0)."""
    if transform is not None:
        if not isinstance(batch, tuple) or not batch:
            raise TypeError("DataLoader: transform needs batches that are non-empty tuples")
        batch = (transform(batch[0]),) + batch[1:]
    return batch
