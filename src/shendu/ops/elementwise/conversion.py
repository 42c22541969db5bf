"""Copies that keep values: dtype casts, device moves (textbook 12.1.2) and clones. The gradient is the
incoming one, cast or moved back to the input's dtype or device."""
from __future__ import annotations

import numpy as np

from ...autograd.function import _SEQ, Function
from ...autograd.grad_mode import is_grad_enabled as _grad_enabled
from ...autograd.tensor import _wrap, _wrap_grad
from ...backend import device_of, to_device


class Cast(Function):
    """Change dtype; the gradient is cast back (no gradient into integer dtypes)."""

    needs_input_values = False

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.type(self.in_dtype)


class ToDevice(Function):
    """Copy to another device (textbook 12.1.2); the gradient is copied back to the input's device."""

    needs_input_values = False

    def __init__(self, device):
        self.device = device

    def __call__(self, x):  # no device check: moving across devices is this op's job
        self.src = device_of(x._data)
        y = to_device(x._data, self.device)
        if x._requires_grad and _grad_enabled():
            self.inputs, self.needs_input_grad, self._seq = (x,), (True,), next(_SEQ)
            return _wrap_grad(y, self, 0)
        return _wrap(y)

    def backward(self, gy):
        return ToDevice(self.src)(gy)


class Clone(Function):
    """A copy; the gradient passes unchanged."""

    needs_input_values = False

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy
