"""Operand handling shared by the elementwise families: Python numbers and arrays become Tensors of the
other operand's dtype (PyTorch's promotion category rule), and the namespace of no-gradient ops."""
from __future__ import annotations

import numbers

import numpy as np

from ...autograd.tensor import Tensor, as_tensor, scalar_like
from ...backend import common_namespace
from ...backend.lowp import is_floating


def _pair(a, b):
    """Turn the operands of a binary op into Tensors (Python numbers keep the tensor's dtype). An integer or
    bool tensor meeting a floating one takes the floating dtype (PyTorch's category rule: int64 + float32 is
    float32, not NumPy's float64)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return _kinds(a, b)
        if isinstance(b, numbers.Number):
            b = scalar_like(b, a)
            return (a if b._data.dtype == a._data.dtype else a.type(b._data.dtype)), b
        return _kinds(a, as_tensor(b))
    if isinstance(b, Tensor):
        if isinstance(a, numbers.Number):
            a = scalar_like(a, b)
            return a, (b if a._data.dtype == b._data.dtype else b.type(a._data.dtype))
        return _kinds(as_tensor(a), b)
    return _kinds(as_tensor(a), as_tensor(b))


def _kinds(a, b):
    """``(a, b)`` with an integer/bool operand cast to the other's floating dtype (see ``_pair``)."""
    da, db = a._data.dtype, b._data.dtype
    if da.kind != db.kind:
        if da.kind in "iub" and is_floating(db):
            return a.type(db), b
        if db.kind in "iub" and is_floating(da):
            return a, b.type(da)
    return a, b


def _bcast_error(name, a, b):
    return ValueError(f"{name}: operands of shapes {a.shape} and {b.shape} cannot be broadcast together")


def _arrays(op, *arrays):
    """The namespace of a no-gradient op on ``arrays`` and the arrays (NumPy for host arrays; otherwise
    the device check of ``Function.__call__``: one device, 0-d host values moved to it)."""
    for a in arrays:
        if type(a) is not np.ndarray:
            return common_namespace(op, list(arrays))[:2]
    return np, arrays
