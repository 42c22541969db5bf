"""Layers that pad, upsample or re-tile a feature map (torch.nn.ConstantPad1d/2d, ZeroPad1d/2d, Upsample,
PixelShuffle, PixelUnshuffle, Unfold, Fold): Modules over ``nn.functional`` (pad, interpolate,
pixel_(un)shuffle, unfold/fold). Zero padding: Textbook 9.5; unfold is the im2col of 9.8."""
from __future__ import annotations

from ...ops import pad
from ..functional.conv import fold, unfold
from ..functional.resample import interpolate, pixel_shuffle, pixel_unshuffle
from ..module import Module


class _ConstantPad(Module):
    _nd = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = (padding,) * (2 * self._nd) if isinstance(padding, int) else tuple(padding)
        self.value = value

    def forward(self, x):
        return pad(x, self.padding, value=self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPad):
    """Pad the last dim with a constant: padding (left, right)."""

    _nd = 1


class ConstantPad2d(_ConstantPad):
    """Pad the last two dims with a constant: padding (left, right, top, bottom)."""

    _nd = 2


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class Upsample(Module):
    """Nearest-neighbour upsampling by a whole-number ``scale_factor`` (or to a multiple ``size``)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: only mode='nearest' is supported, got {mode!r}")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode

    def forward(self, x):
        return interpolate(x, self.size, self.scale_factor, self.mode)


class PixelShuffle(Module):
    """Rearrange (N, C r^2, H, W) into (N, C, H r, W r)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x):
        return pixel_shuffle(x, self.upscale_factor)


class PixelUnshuffle(Module):
    """Rearrange (N, C, H r, W r) into (N, C r^2, H, W)."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x):
        return pixel_unshuffle(x, self.downscale_factor)


class Unfold(Module):
    """im2col: (N, C, H, W) -> (N, C kh kw, L) (see F.unfold)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.args = (kernel_size, dilation, padding, stride)

    def forward(self, x):
        return unfold(x, *self.args)


class Fold(Module):
    """col2im: (N, C kh kw, L) -> (N, C, H, W), summing overlaps (see F.fold)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.args = (output_size, kernel_size, dilation, padding, stride)

    def forward(self, x):
        return fold(x, *self.args)
