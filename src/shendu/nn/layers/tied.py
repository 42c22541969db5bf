"""Encoder-decoder weight tying by transpose (textbook 7.9 parameter sharing): a decoder that reuses an
encoder's weight matrix, one stored copy, gradients from both uses summed."""
from __future__ import annotations

import numpy as np

from ...backend import device_of, to_device
from ..functional._checks import check_tensor
from ..functional.linear import linear
from ..module import Module
from ..parameter import Parameter


class TiedLinear(Module):
    """y = x W + c with W the ``weight`` (out, in) of an existing ``Linear`` (so x: (*, out) -> (*, in)), i.e.
    the transposed map of the encoder (textbook 7.9; tied autoencoders). ``self.weight`` IS the encoder's
    Parameter: one copy in memory and in ``parameters()``; its gradient sums both uses. ``bias``: a new
    (in,) bias c, initialized to zeros."""

    def __init__(self, linear: Module, bias: bool = True):
        super().__init__()
        w = getattr(linear, "weight", None)
        if not isinstance(w, Parameter) or w.ndim != 2:
            raise TypeError(
                f"TiedLinear: expected a Linear layer with a 2-D weight Parameter, got {type(linear).__name__}"
            )
        self.weight = w
        self.out_features, self.in_features = int(w.shape[1]), int(w.shape[0])
        if bias:
            # on the encoder's device
            self.bias = Parameter(to_device(np.zeros((self.out_features,), dtype=w._data.dtype), device_of(w._data)))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(f"TiedLinear({self.in_features} -> {self.out_features}): expected input of shape "
                             f"(*, {self.in_features}), got {tuple(x.shape)}")
        return linear(x, self.weight.transpose(0, 1), self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, tied, bias={self.bias is not None}"
