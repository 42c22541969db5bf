"""PyTorch layers that textbook-level programs use and shendu's layer families lacked (issue 12):
parameter containers, GroupNorm, similarity/distance layers, Threshold and constant padding."""
from __future__ import annotations

import numpy as np

from ..functional import cosine_similarity, pad, pairwise_distance
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
