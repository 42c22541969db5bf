"""PyTorch layers that textbook-level programs use and shendu's layer families lacked (issue 12):
parameter containers, GroupNorm, similarity/distance layers, Threshold and constant padding."""
from __future__ import annotations

import numpy as np

from ..functional import cosine_similarity, pad, pairwise_distance
from ..functional._checks import check_tensor
from ..module import Module
from ..parameter import Parameter


class ParameterList(Module):
    """A list of Parameters, registered so ``parameters()`` finds them (``p[i]``, ``append``, iteration)."""

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def append(self, value):
        self.register_parameter(str(len(self._parameters)), value)
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, idx):
        return list(self._parameters.values())[idx]

    def __setitem__(self, idx, value):
        self.register_parameter(list(self._parameters)[idx], value)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())


class ParameterDict(Module):
    """A dict of Parameters, registered so ``parameters()`` finds them."""

    def __init__(self, parameters=None):
        super().__init__()
        for k, v in dict(parameters or {}).items():
            self[k] = v

    def __setitem__(self, key, value):
        self.register_parameter(key, value)

    def __getitem__(self, key):
        return self._parameters[key]

    def __contains__(self, key):
        return key in self._parameters

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization (Wu & He 2018): normalize each group of C/G channels of (N, C, *) by its own mean/var."""
    n, c = x.shape[0], x.shape[1]
    if c % num_groups:
        raise ValueError(f"group_norm: num_channels={c} is not divisible by num_groups={num_groups}")
    g = x.reshape(n, num_groups, -1)
    mu = g.mean(dim=2, keepdim=True)
    var = ((g - mu) * (g - mu)).mean(dim=2, keepdim=True)
    y = ((g - mu) * (var + eps).rsqrt()).reshape(*x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(*shape)
    if bias is not None:
        y = y + bias.reshape(*shape)
    return y


class GroupNorm(Module):
    """Group normalization over (N, C, *) input; affine weight 1 and bias 0 per channel at init."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dt = np.float32 if dtype is None else dtype
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dt))
            self.bias = Parameter(np.zeros(num_channels, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim``."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, dim=self.dim, eps=self.eps)


class PairwiseDistance(Module):
    """p-norm distance between rows of two inputs."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.p, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, p=self.p, eps=self.eps, keepdim=self.keepdim)


def threshold(x, threshold, value):
    """x where x > threshold, else ``value``."""
    from ...ops import where

    return where(x > threshold, x, value)


class Threshold(Module):
    """y = x if x > threshold else value."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value = threshold, value

    def forward(self, x):
        return threshold(x, self.threshold, self.value)


class _ConstantPad(Module):
    _nd = 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        self.padding = (padding,) * (2 * self._nd) if isinstance(padding, int) else tuple(padding)
        self.value = value

    def forward(self, x):
        return pad(x, self.padding, value=self.value)


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


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Nearest-neighbour upsampling of (N, C, *spatial) by whole-number factors (torch's F.interpolate,
    mode='nearest'); differentiable (each output copies one input element)."""
    from ...ops import repeat_interleave

    if mode != "nearest":
        raise ValueError(f"interpolate: only mode='nearest' is supported, got {mode!r}")
    nd = input.ndim - 2
    if size is not None:
        size = (size,) * nd if isinstance(size, int) else tuple(size)
        factors = [s // i for s, i in zip(size, input.shape[2:])]
        if any(f * i != s for f, i, s in zip(factors, input.shape[2:], size)):
            raise ValueError(
                f"interpolate: size {size} must be a whole multiple of the input size {tuple(input.shape[2:])}"
            )
    elif scale_factor is not None:
        sf = (scale_factor,) * nd if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        factors = [int(f) for f in sf]
        if any(f != s_ or f < 1 for f, s_ in zip(factors, sf)):
            raise ValueError(f"interpolate: scale_factor must be whole numbers >= 1, got {scale_factor}")
    else:
        raise ValueError("interpolate: pass size or scale_factor")
    y = input
    for d, f in enumerate(factors):
        if f != 1:
            y = repeat_interleave(y, f, dim=2 + d)
    return y


class Upsample(Module):
    """Nearest-neighbour upsampling by a whole-number ``scale_factor`` (or to a multiple ``size``)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: only mode='nearest' is supported, got {mode!r}")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode

    def forward(self, x):
        return interpolate(x, self.size, self.scale_factor, self.mode)


def pixel_shuffle(x, r):
    """(N, C r^2, H, W) -> (N, C, H r, W r) (sub-pixel convolution rearrangement)."""
    n, c, h, w = x.shape
    return x.reshape(n, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def pixel_unshuffle(x, r):
    """(N, C, H r, W r) -> (N, C r^2, H, W), the inverse of pixel_shuffle."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h // r, w // r)


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


class GLU(Module):
    """Gated linear unit a * sigmoid(b) over the two halves of ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        from ..functional import glu

        return glu(x, self.dim)


class Softmax2d(Module):
    """Softmax over the channel dim of (N, C, H, W) or (C, H, W) input."""

    def forward(self, x):
        from ..functional import softmax

        return softmax(x, dim=-3)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, x):
        return x - x.tanh()


class _Shrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd


class Hardshrink(_Shrink):
    """x where |x| > lambd, else 0."""

    def forward(self, x):
        from ...ops import where

        return where(x.abs() > self.lambd, x, 0.0)


class Softshrink(_Shrink):
    """x - lambd sign(x) where |x| > lambd, else 0."""

    def forward(self, x):
        from ...ops import where

        return where(x.abs() > self.lambd, x - x.sign() * self.lambd, 0.0)


class TripletMarginLoss(Module):
    """max(d(a, p) - d(a, n) + margin, 0), averaged (see F.triplet_margin_loss)."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
        super().__init__()
        if swap:
            raise ValueError("TripletMarginLoss: swap=True is not supported")
        self.margin, self.p, self.eps, self.reduction = margin, p, eps, reduction

    def forward(self, anchor, positive, negative):
        from ..functional import triplet_margin_loss

        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.reduction)


class CosineEmbeddingLoss(Module):
    """1 - cos(x1, x2) for y = 1, max(0, cos(x1, x2) - margin) for y = -1."""

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__()
        self.margin, self.reduction = margin, reduction

    def forward(self, x1, x2, target):
        from ..functional import cosine_embedding_loss

        return cosine_embedding_loss(x1, x2, target, self.margin, self.reduction)


class Unfold(Module):
    """im2col: (N, C, H, W) -> (N, C kh kw, L) (see F.unfold)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.args = (kernel_size, dilation, padding, stride)

    def forward(self, x):
        from ..functional import unfold

        return unfold(x, *self.args)


class Fold(Module):
    """col2im: (N, C kh kw, L) -> (N, C, H, W), summing overlaps (see F.fold)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.args = (output_size, kernel_size, dilation, padding, stride)

    def forward(self, x):
        from ..functional import fold

        return fold(x, *self.args)
