"""Datasets: the abstract `Dataset`, array-backed `TensorDataset` and `Subset`.

A data set maps an index to one example (textbook 5.x, training/validation/test sets).
Array-backed data sets also expose `get_batch(indices)`, which the `DataLoader` uses to
build a whole minibatch with one fancy-indexing operation per array instead of a
per-sample Python loop.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Dataset", "TensorDataset", "Subset", "to_numpy"]


def to_numpy(x, name="array"):
    """Return `x` as a NumPy array: shendu tensors and device arrays copied to the host (data sets live on
    the host; the training loop moves each batch to the model's device), torch tensors via `.numpy()`,
    else `np.asarray`."""
    if type(x) is np.ndarray:
        return x
    from ..autograd.tensor import Tensor
    from ..backend import is_array, is_host, to_host

    if isinstance(x, Tensor):
        return to_host(x._data)
    if is_array(x) and not is_host(x):  # a device array
        return to_host(x)
    if isinstance(x, np.ndarray):
        return x
    numpy_method = getattr(x, "numpy", None)
    if callable(numpy_method) and not isinstance(x, (list, tuple)):
        arr = numpy_method()
        if isinstance(arr, np.ndarray):
            return arr
    try:
        return np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"could not convert {name} of type {type(x).__name__} to a NumPy array") from exc


class Dataset:
    """Abstract data set: subclasses implement `__len__` and `__getitem__(i)` -> one example."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


class TensorDataset(Dataset):
    """Data set of aligned arrays: example i is `(a[i] for a in arrays)`; arrays (N, ...)."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        arrs = tuple(to_numpy(a, name=f"TensorDataset array {i}") for i, a in enumerate(arrays))
        for i, a in enumerate(arrs):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {i} is a scalar (shape ()); expected shape (N, ...)")
        n = arrs[0].shape[0]
        if any(a.shape[0] != n for a in arrs):
            shapes = ", ".join(str(a.shape) for a in arrs)
            raise ValueError(f"TensorDataset: arrays must share the first dimension, got shapes {shapes}")
        self.arrays = arrs

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices):
        """Return the minibatch `tuple(a[indices] for a in arrays)` (vectorized fancy indexing)."""
        indices = np.asarray(indices, dtype=np.intp)
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """View of `dataset` restricted to `indices` (1-D ints); batches stay vectorized if the parent's are."""

    def __init__(self, dataset, indices):
        idx = np.asarray(indices)
        if idx.ndim != 1:
            raise ValueError(f"Subset: indices must be 1-D, got shape {idx.shape}")
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"Subset: indices must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.intp, copy=False)
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"Subset: indices out of range for a data set of length {n}")
        self.dataset = dataset
        self.indices = np.where(idx < 0, idx + n, idx)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    @property
    def get_batch(self):
        """Vectorized batch access, present only when the parent data set has `get_batch`."""
        parent = getattr(self.dataset, "get_batch", None)
        if parent is None:
            raise AttributeError("get_batch")
        return lambda indices: parent(self.indices[np.asarray(indices, dtype=np.intp)])
