"""Resampling a feature map: nearest-neighbour upsampling and the sub-pixel rearrangements (PyTorch's
F.interpolate, F.pixel_shuffle, F.pixel_unshuffle), used by networks whose output is a full-size image
(Textbook 9.6, structured outputs). Each is a composition of differentiable shape ops."""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops import repeat_interleave


def _factors(input: Tensor, size, scale_factor) -> list:
    """Whole-number upsampling factor per spatial dim, from ``size`` or ``scale_factor``."""
    nd = input.ndim - 2
    spatial = tuple(input.shape[2:])
    if size is not None:
        size = (size,) * nd if isinstance(size, int) else tuple(size)
        factors = [s // i for s, i in zip(size, spatial)]
        if len(size) != nd or any(f * i != s or f < 1 for f, i, s in zip(factors, spatial, size)):
            raise ValueError(f"interpolate: size {size} must be a whole multiple of the input size {spatial}")
        return factors
    if scale_factor is not None:
        sf = (scale_factor,) * nd if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        factors = [int(f) for f in sf]
        if any(f != s or f < 1 for f, s in zip(factors, sf)):
            raise ValueError(f"interpolate: scale_factor must be whole numbers >= 1, got {scale_factor}")
        return factors
    raise ValueError("interpolate: pass size or scale_factor")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """Nearest-neighbour upsampling y[..., i, j] = x[..., i // f_h, j // f_w] by whole-number factors
    (torch's F.interpolate, mode='nearest'). (N, C, *spatial) -> (N, C, *spatial * f); each output copies
    one input element, so the gradient sums over each f_h x f_w block."""
    if mode != "nearest":
        raise ValueError(f"interpolate: only mode='nearest' is supported, got {mode!r}")
    y = input
    for d, f in enumerate(_factors(input, size, scale_factor)):
        if f != 1:
            y = repeat_interleave(y, f, dim=2 + d)
    return y


def _check_4d(name: str, x: Tensor, dim: int, r: int, what: str):
    if x.ndim != 4 or r < 1 or x.shape[dim] % (r if dim > 1 else r * r):
        raise ValueError(f"{name}: expected (N, C, H, W) input with {what}, got shape {tuple(x.shape)} and factor {r}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Sub-pixel rearrangement y[n, c, h r + i, w r + j] = x[n, c r^2 + i r + j, h, w]:
    (N, C r^2, H, W) -> (N, C, H r, W r) (torch's F.pixel_shuffle)."""
    r = int(upscale_factor)
    _check_4d("pixel_shuffle", input, 1, r, f"channels divisible by upscale_factor^2 = {r * r}")
    n, c, h, w = input.shape
    return input.reshape(n, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Inverse of ``pixel_shuffle``: (N, C, H r, W r) -> (N, C r^2, H, W) (torch's F.pixel_unshuffle)."""
    r = int(downscale_factor)
    _check_4d("pixel_unshuffle", input, 2, r, f"H and W divisible by downscale_factor = {r}")
    if input.shape[3] % r:
        raise ValueError(f"pixel_unshuffle: W={input.shape[3]} is not divisible by downscale_factor={r}")
    n, c, h, w = input.shape
    return input.reshape(n, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h // r, w // r)
