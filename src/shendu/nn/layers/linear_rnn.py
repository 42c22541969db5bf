"""The simple linear recurrent cell of text 003 (eq. 1.25): h_t = W [x_t; h_{t-1}] + b, no nonlinearity."""
from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...backend import get_default_dtype, to_dtype
from .. import init as _init
from ..functional._checks import check_tensor
from ..functional.linear import linear
from ..module import Module
from ..parameter import Parameter


class LinearRNNCell(Module):
    """h' = W [x; h] + b (text 003 eq. 1.25; an identity-activation Elman cell with one matrix on the
    concatenation). x (B, input_size), h (B, hidden_size) -> (B, hidden_size); W (hidden, input + hidden),
    init U(+-1/sqrt(hidden)) as RNNCell."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"LinearRNNCell: sizes must be >= 1, got input_size={input_size}, "
                             f"hidden_size={hidden_size}")
        self.input_size, self.hidden_size = input_size, hidden_size
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        k = 1.0 / math.sqrt(hidden_size)
        self.weight = Parameter(np.empty((hidden_size, input_size + hidden_size), dtype=dt))
        _init.uniform_(self.weight, -k, k)
        if bias:
            self.bias = Parameter(np.empty((hidden_size,), dtype=dt))
            _init.uniform_(self.bias, -k, k)
        else:
            self.register_parameter("bias", None)

    def forward(self, x, hx=None):
        x = check_tensor(self, x, "input")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"LinearRNNCell: expected input (B, {self.input_size}), got {tuple(x.shape)}")
        if hx is None:
            hx = ops.zeros(*x.shape[:-1], self.hidden_size, dtype=x.dtype, device=x.device)
        return linear(ops.cat([x, hx], dim=-1), self.weight, self.bias)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"
