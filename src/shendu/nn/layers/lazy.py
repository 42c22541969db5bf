"""Lazy layers (PyTorch's ``nn.LazyLinear``, ``nn.LazyConv1d/2d``): the input size is read from the first
input; at that first forward the layer builds its parameters and becomes a plain Linear / Conv layer.

Create the optimizer after one forward pass (as in PyTorch): before it the layer has no parameters."""
from __future__ import annotations

from ..module import Module
from .conv import Conv1d, Conv2d
from .linear import Linear


class _Lazy(Module):
    _becomes = None  # the class the layer turns into

    def _materialize(self, in_size, x):
        args, kw = self._lazy_args
        training = self.training
        dev = self._lazy_device if self._lazy_device is not None else x.device
        cls = type(self)._becomes
        self.__class__ = cls  # first: the layer's __init__ calls super() on an instance of its class
        cls.__init__(self, in_size, *args, device=dev, **kw)
        self.train(training)

    def extra_repr(self):
        return f"uninitialized: {self._lazy_args[0]}"


class LazyLinear(_Lazy):
    """Linear layer whose ``in_features`` is ``x.shape[-1]`` of the first input; becomes ``Linear``."""

    _becomes = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self._lazy_args = ((out_features,), dict(bias=bias, dtype=dtype))
        self._lazy_device = device

    def forward(self, x):
        self._materialize(x.shape[-1], x)
        return self.forward(x)

    __init__._places_on_device = True


class _LazyConv(_Lazy):
    _batched_ndim = 4

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        self._lazy_args = ((out_channels, kernel_size), dict(stride=stride, padding=padding, dilation=dilation,
                                                              groups=groups, bias=bias, padding_mode=padding_mode,
                                                              dtype=dtype))
        self._lazy_device = device

    __init__._places_on_device = True

    def forward(self, x):
        self._materialize(x.shape[1] if x.ndim == self._batched_ndim else x.shape[0], x)
        return self.forward(x)


class LazyConv1d(_LazyConv):
    """Conv1d whose ``in_channels`` comes from the first input (N, C, L); becomes ``Conv1d``."""

    _becomes, _batched_ndim = Conv1d, 3


class LazyConv2d(_LazyConv):
    """Conv2d whose ``in_channels`` comes from the first input (N, C, H, W); becomes ``Conv2d``."""

    _becomes, _batched_ndim = Conv2d, 4
