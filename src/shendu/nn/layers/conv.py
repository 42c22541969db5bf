"""Convolution layers Conv1d/2d/3d and ConvTranspose1d/2d/3d (textbook 9.1-9.2, 9.5).

Layout NC* (NCHW for 2-D). Weights as PyTorch: Conv (out, in/groups, *k), ConvTranspose
(in, out/groups, *k); default init as PyTorch (kaiming_uniform a=sqrt 5, bias U(+-1/sqrt(fan_in))),
overridable with ``weight_init=`` / ``bias_init=``. ``padding`` also takes 'valid', 'same', 'full';
``flip_kernel=True`` computes the true convolution (textbook eq. 9.4) instead of cross-correlation.
"""
from __future__ import annotations

import math

from .. import init as _init
from ..functional import conv as Fc
from ..functional._checks import check_tensor
from ..module import Module
from .linear import _weight_and_bias, init_params


def _nt(v, nd):
    return (v,) * nd if isinstance(v, int) else tuple(v)


class _ConvNd(Module):
    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, flip_kernel=False, dtype=None, weight_init=None, bias_init=None, device=None,
                 padding_mode="zeros"):
        super().__init__()
        nd, name = self._nd, type(self).__name__
        if in_channels <= 0 or out_channels <= 0 or groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} and out_channels={out_channels} must be positive and "
                             f"divisible by groups={groups}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _nt(kernel_size, nd)
        self.stride, self.dilation = _nt(stride, nd), _nt(dilation, nd)
        self.padding = padding if isinstance(padding, str) else _nt(padding, nd)
        self.flip_kernel = flip_kernel
        _weight_and_bias(self, (out_channels, in_channels // groups) + self.kernel_size,
                         (out_channels,) if bias else None, dtype)
        init_params(self.weight, self.bias, weight_init, bias_init)

    def reset_parameters(self):
        _init.default_linear_init_(self.weight, self.bias)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return Fc._convnd(self._nd, type(self).__name__, x, self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups, self.flip_kernel)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
             f"padding={self.padding}")
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution layer: (N, C_in, L) -> (N, C_out, L_out)."""

    _nd = 1


class Conv2d(_ConvNd):
    """2-D convolution layer (textbook 9.1-9.2): (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = floor((H + 2p - d(k-1) - 1)/s) + 1."""

    _nd = 2


class Conv3d(_ConvNd):
    """3-D convolution layer: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""

    _nd = 3


class _ConvTransposeNd(Module):
    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, dtype=None, weight_init=None, bias_init=None, device=None):
        super().__init__()
        nd, name = self._nd, type(self).__name__
        if in_channels <= 0 or out_channels <= 0 or groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels={in_channels} and out_channels={out_channels} must be positive and "
                             f"divisible by groups={groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _nt(kernel_size, nd)
        self.stride, self.padding, self.dilation = _nt(stride, nd), _nt(padding, nd), _nt(dilation, nd)
        self.output_padding = _nt(output_padding, nd)
        _weight_and_bias(self, (in_channels, out_channels // groups) + self.kernel_size,
                         (out_channels,) if bias else None, dtype)

        def default(w, b):  # PyTorch: fan_in from weight.shape[1] * prod(k)
            _init.kaiming_uniform_(w, a=math.sqrt(5))
            if b is not None:
                fan_in = w.shape[1] * math.prod(self.kernel_size)
                _init.uniform_(b, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))

        init_params(self.weight, self.bias, weight_init, bias_init, default=default)

    def forward(self, x, output_size=None):
        x = check_tensor(self, x, "input")
        op = self.output_padding
        if output_size is not None:
            want = tuple(output_size)[-self._nd:]
            base = [(x.shape[-self._nd + a] - 1) * self.stride[a] - 2 * self.padding[a]
                    + self.dilation[a] * (self.kernel_size[a] - 1) + 1 for a in range(self._nd)]
            op = tuple(w - b for w, b in zip(want, base))
        return Fc._conv_transposend(self._nd, type(self).__name__, x, self.weight, self.bias, self.stride,
                                    self.padding, op, self.groups, self.dilation)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, output_padding={self.output_padding}")


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution: (N, C_in, L) -> (N, C_out, (L-1)s - 2p + d(k-1) + output_padding + 1)."""

    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the adjoint of Conv2d in its input, textbook 9.5):
    H_out = (H-1)s - 2p + d(k-1) + output_padding + 1."""

    _nd = 2


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution."""

    _nd = 3
