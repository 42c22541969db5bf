"""``Parameter``: a leaf Tensor that a Module registers as trainable (requires_grad=True)."""
from __future__ import annotations

from ..autograd.tensor import Tensor, _to_array


class Parameter(Tensor):
    """A trainable tensor; assigning one to a Module attribute registers it."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        arr = data._data if isinstance(data, Tensor) else _to_array(data, dtype, copy=False)
        if dtype is not None and arr.dtype != dtype:
            arr = arr.astype(dtype)
        Tensor.__init__(self, arr, requires_grad=False)
        self._data = arr  # share, do not copy
        if requires_grad:
            self.requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)
