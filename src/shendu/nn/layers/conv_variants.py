"""Convolution variants (textbook 9.5): LocallyConnected2d (unshared convolution), TiledConv2d
(t x t kernel sets cycled across positions) and SeparableConv2d (depthwise then pointwise).

Layout NCHW. Unshared/tiled layers use im2col (``F.unfold``) and one einsum against the
per-position kernels: Z[n, o, h, w] = sum_{c,i,j} V[n, c, h*s+i, w*s+j] W[o, h, w, c, i, j] (eq. 9.9);
tiled: W[o, h, w] = K[o, h mod t, w mod t] (eq. 9.10).
"""
from __future__ import annotations

import math

from ...backend import namespace_of
from ...ops import einsum, reshape
from .. import init as _init
from ..functional import conv as Fc
from ..functional._checks import check_tensor
from ..module import Module
from .conv import Conv2d
from .linear import _weight_and_bias


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _uniform_init(w, fan_in, b=None):
    bound = 1 / math.sqrt(fan_in)
    _init.uniform_(w, -bound, bound)
    if b is not None:
        _init.uniform_(b, -bound, bound)


class LocallyConnected2d(Module):
    """Unshared convolution (textbook 9.5, eq. 9.9): a separate kernel per output position.
    input (N, C, H, W) with (H, W) = ``input_size`` -> (N, O, H_out, W_out); weight (O, H_out, W_out, C, kh, kw),
    bias (O, H_out, W_out). Init U(+-1/sqrt(C*kh*kw))."""

    def __init__(self, in_channels, out_channels, input_size, kernel_size, stride=1, padding=0, bias=True,
                 dtype=None):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.input_size, self.kernel_size = _pair(input_size), _pair(kernel_size)
        self.stride, self.padding = _pair(stride), _pair(padding)
        kh, kw = self.kernel_size
        self.output_size = tuple((self.input_size[a] + 2 * self.padding[a] - self.kernel_size[a]) // self.stride[a] + 1
                                 for a in range(2))
        if min(self.output_size) < 1:
            raise ValueError(f"LocallyConnected2d: input_size {self.input_size} is smaller than the kernel "
                             f"{self.kernel_size}")
        ho, wo = self.output_size
        _weight_and_bias(self, (out_channels, ho, wo, in_channels, kh, kw), (out_channels, ho, wo) if bias else None,
                         dtype)
        _uniform_init(self.weight, in_channels * kh * kw, self.bias)

    def _check(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input (N, {self.in_channels}, {self.input_size[0]}, "
                             f"{self.input_size[1]}), got {tuple(x.shape)}")

    def _kernels(self):
        return self.weight

    def forward(self, x):
        x = check_tensor(self, x, "input")
        self._check(x)
        ho, wo = self.output_size
        cols = Fc.unfold(x, self.kernel_size, 1, self.padding, self.stride)
        cols = reshape(cols, (x.shape[0], -1, ho, wo))
        w = self._kernels()
        w = reshape(w, (w.shape[0], ho, wo, -1))
        y = einsum("nkhw,ohwk->nohw", cols, w)
        if self.bias is not None:
            b = self.bias if self.bias.ndim == 3 else reshape(self.bias, (-1, 1, 1))
            y = y + b
        return y


class TiledConv2d(LocallyConnected2d):
    """Tiled convolution (textbook 9.5, eq. 9.10): t x t kernel sets, the set used at output (h, w) being
    (h mod t, w mod t). weight (O, t, t, C, kh, kw), bias (O,). ``tile_size=1`` is an ordinary convolution."""

    def __init__(self, in_channels, out_channels, input_size, kernel_size, tile_size=2, stride=1, padding=0,
                 bias=True, dtype=None):
        LocallyConnected2d.__init__(self, in_channels, out_channels, input_size, kernel_size, stride, padding,
                                    False, dtype)
        t = self.tile_size = int(tile_size)
        if t < 1:
            raise ValueError(f"TiledConv2d: tile_size must be >= 1, got {tile_size}")
        kh, kw = self.kernel_size
        _weight_and_bias(self, (out_channels, t, t, in_channels, kh, kw), (out_channels,) if bias else None,
                         self.weight.dtype)
        _uniform_init(self.weight, in_channels * kh * kw, self.bias)

    def _kernels(self):
        ho, wo = self.output_size
        t = self.tile_size
        xp = namespace_of(self.weight._data)  # index arrays on the weight's device
        hi = (xp.arange(ho) % t)[:, None]
        wi = (xp.arange(wo) % t)[None, :]
        return self.weight[:, hi, wi]  # (O, ho, wo, C, kh, kw)


class SeparableConv2d(Module):
    """Depthwise-separable convolution: a per-channel (groups=C) kh x kw convolution with
    ``depth_multiplier`` kernels per channel, then a 1x1 convolution mixing channels.
    (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, depth_multiplier=1,
                 bias=True, dtype=None):
        super().__init__()
        self.depthwise = Conv2d(in_channels, in_channels * depth_multiplier, kernel_size, stride, padding, dilation,
                                groups=in_channels, bias=False, dtype=dtype)
        self.pointwise = Conv2d(in_channels * depth_multiplier, out_channels, 1, bias=bias, dtype=dtype)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return self.pointwise(self.depthwise(x))
