"""Normalization layers: BatchNorm1d/2d/3d (textbook 8.7.1), LayerNorm, RMSNorm, LocalResponseNorm.

Defaults as PyTorch: eps=1e-5, momentum=0.1, affine weight = 1, bias = 0, running_mean = 0,
running_var = 1; buffers running_mean, running_var, num_batches_tracked (state dicts map 1:1)."""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import _wrap
from ...backend import get_default_dtype, to_dtype
from ..functional import normalization as N  # the submodule (F exports no name "normalization")
from ..functional._checks import check_tensor
from ..module import Module
from ..parameter import Parameter


def _dt(dtype):
    return get_default_dtype() if dtype is None else to_dtype(dtype)


class _BatchNorm(Module):
    _ndims = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype=None, device=None):
        super().__init__()
        dt = _dt(dtype)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            self.bias = Parameter(np.zeros(num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _wrap(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", _wrap(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", _wrap(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0  # in place: the buffer stays on its device

    def forward(self, x):
        x = check_tensor(self, x, "input")
        if x.ndim not in self._ndims:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): "
                f"expected a {' or '.join(f'{d}-D' for d in self._ndims)} input, "
                f"got shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: expected {self.num_features} channels in dim 1, "
                f"got input of shape {tuple(x.shape)}"
            )
        use_batch = self.training or not self.track_running_stats
        return N.batch_norm(
            x, self.running_mean if (not self.training or self.track_running_stats) else None, self.running_var,
            self.weight, self.bias, use_batch, self.momentum, self.eps, self.num_batches_tracked,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input over N (and L) per channel (textbook 8.7.1)."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input over N, H, W per channel (textbook 8.7.1; the CIFAR CNN)."""

    _ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) input."""

    _ndims = (5,)


class LayerNorm(Module):
    """Normalize over the trailing ``normalized_shape`` dims of each sample; affine weight 1, bias 0."""

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype=None,
        device=None,
    ):
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        dt = _dt(dtype)
        self.normalized_shape, self.eps, self.elementwise_affine = ns, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(ns, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(ns, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return N.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) * weight over the trailing dims; weight init 1; eps=None -> dtype epsilon."""

    def __init__(
        self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True, dtype=None, device=None
    ):
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = ns, eps
        if elementwise_affine:
            self.weight = Parameter(np.ones(ns, dtype=_dt(dtype)))
        else:
            self.register_parameter("weight", None)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return N.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


class LocalResponseNorm(Module):
    """Local response normalization across channels (AlexNet)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return N.local_response_norm(x, self.size, self.alpha, self.beta, self.k)
