"""Pooling layers (textbook 9.3): MaxPool1d/2d/3d, AvgPool1d/2d/3d, LPPool1d/2d, AdaptiveAvgPool1d/2d,
GlobalAvgPool2d, GlobalMaxPool2d. Layout (N, C, *sp); arguments as the functions in
``shendu.nn.functional.pool`` (``padding='same'`` as the seeds' CIFAR-10 CNN)."""
from __future__ import annotations

from ..functional import pool as Fp
from ..functional._checks import check_tensor
from ..module import Module


class _Pool(Module):
    """A window pooling layer: the function ``_fn`` of ``shendu.nn.functional.pool`` with the layer's settings."""

    _fn = None

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding!r}"


class _MaxPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return type(self)._fn(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                              self.return_indices)


class MaxPool1d(_MaxPool):
    """1-D max pooling: (N, C, L) -> (N, C, L_out)."""

    _fn = staticmethod(Fp.max_pool1d)


class MaxPool2d(_MaxPool):
    """2-D max pooling (textbook 9.3): (N, C, H, W) -> (N, C, H_out, W_out)."""

    _fn = staticmethod(Fp.max_pool2d)


class MaxPool3d(_MaxPool):
    """3-D max pooling: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    _fn = staticmethod(Fp.max_pool3d)


class _AvgPool(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=None,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        x = check_tensor(self, x, "input")
        if self.divisor_override is not None:
            return type(self)._fn(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                  self.count_include_pad, self.divisor_override)
        return type(self)._fn(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AvgPool1d(_AvgPool):
    """1-D average pooling: (N, C, L) -> (N, C, L_out)."""

    _fn = staticmethod(Fp.avg_pool1d)


class AvgPool2d(_AvgPool):
    """2-D average pooling (textbook 9.3): (N, C, H, W) -> (N, C, H_out, W_out)."""

    _fn = staticmethod(Fp.avg_pool2d)


class AvgPool3d(_AvgPool):
    """3-D average pooling."""

    _fn = staticmethod(Fp.avg_pool3d)


class LPPool1d(Module):
    """Power-average pooling (sum over the window of x^p)^(1/p) (textbook 9.3): (N, C, L) -> (N, C, L_out)."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return Fp.lp_pool1d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(LPPool1d):
    """2-D power-average pooling (L2 pooling for norm_type=2): (N, C, H, W) -> (N, C, H_out, W_out)."""

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return Fp.lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class AdaptiveAvgPool1d(Module):
    """Adaptive average pooling to a fixed length: (N, C, L) -> (N, C, output_size)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return Fp.adaptive_avg_pool1d(x, self.output_size)


class AdaptiveAvgPool2d(AdaptiveAvgPool1d):
    """Adaptive average pooling to a fixed size: (N, C, H, W) -> (N, C, h, w)."""

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return Fp.adaptive_avg_pool2d(x, self.output_size)


class GlobalAvgPool2d(Module):
    """Mean over all positions: (N, C, H, W) -> (N, C) ((N, C, 1, 1) with keepdim=True)."""

    def __init__(self, keepdim=False):
        super().__init__()
        self.keepdim = keepdim

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return Fp.global_avg_pool2d(x, self.keepdim)


class GlobalMaxPool2d(GlobalAvgPool2d):
    """Max over all positions: (N, C, H, W) -> (N, C) ((N, C, 1, 1) with keepdim=True)."""

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return Fp.global_max_pool2d(x, self.keepdim)
