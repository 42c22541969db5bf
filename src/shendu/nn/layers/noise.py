"""Noise layers (textbook 7.5 noise robustness, 7.12 dropout variants): additive Gaussian noise on hidden units,
multiplicative Gaussian dropout, DropConnect, weight noise (7.30-7.33) and stochastic pooling.

Every layer is active only in ``train()`` mode; in ``eval()`` it is the identity or its expectation. Random
numbers are drawn on the input's device from that device's generator (``sd.manual_seed`` repeats them), as
``nn.functional.dropout`` does.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import generator_for, namespace_of, to_host
from ...ops import clamp_min, matmul, reshape
from ..functional._checks import check_tensor
from ..functional.conv import unfold
from ..functional.dropout import _check, _mask, _MaskMul, dropout
from ..functional.linear import linear
from ..module import Module
from .linear import Linear


def _normal(arr, shape, dtype):
    """Standard-normal array of ``shape`` in ``dtype`` on the device of array ``arr``."""
    gdt = np.float32 if dtype == np.float32 else np.float64
    z = generator_for(arr).standard_normal(shape, dtype=gdt)
    return z if z.dtype == dtype else z.astype(dtype)


def gaussian_noise(x: Tensor, stddev: float, training: bool = True) -> Tensor:
    """x + eps, eps ~ N(0, stddev^2) elementwise, in training; x in eval (textbook 7.5, noise on hidden units)."""
    if stddev < 0:
        raise ValueError(f"gaussian_noise: stddev must be >= 0, got {stddev}")
    if not training or stddev == 0:
        return x
    arr = x._data
    return x + _wrap(_normal(arr, arr.shape, arr.dtype) * arr.dtype.type(stddev))


def gaussian_dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """x * mu, mu ~ N(1, p/(1-p)) elementwise, in training; x in eval (textbook 7.12 eq. 7.72; Keras rate p).

    E[mu] = 1, so no rescaling is needed at test time; p = 0.5 gives the book's mu ~ N(1, I)."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"gaussian_dropout: rate p must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    arr = x._data
    dt = arr.dtype
    mu = _normal(arr, arr.shape, dt) * dt.type(math.sqrt(p / (1.0 - p))) + dt.type(1)
    return _MaskMul(mu)(x)


class GaussianNoise(Module):
    """Additive zero-mean Gaussian noise h + N(0, stddev^2), active only in training (Keras ``GaussianNoise``;
    textbook 7.5: noise injected into hidden units). Any shape; identity in eval."""

    def __init__(self, stddev: float):
        super().__init__()
        if stddev < 0:
            raise ValueError(f"GaussianNoise: stddev must be >= 0, got {stddev}")
        self.stddev = float(stddev)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return gaussian_noise(x, self.stddev, self.training)

    def extra_repr(self):
        return f"stddev={self.stddev}"


class GaussianDropout(Module):
    """Multiplicative Gaussian noise h * mu, mu ~ N(1, p/(1-p)), active only in training (Keras
    ``GaussianDropout(rate)``; textbook 7.12, eq. 7.72, Srivastava et al. 2014). Identity in eval."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"GaussianDropout: rate p must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return gaussian_dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


def dropconnect_linear(x: Tensor, weight: Tensor, bias: Tensor | None, p: float, training: bool = True,
                       mode: str = "inverted", per_example: bool = False) -> Tensor:
    """y = x (M * W)^T + b with M_ij ~ Bernoulli(1 - p) (DropConnect, Wan et al. 2013; textbook 7.12).

    mode='inverted': kept weights scaled by 1/(1-p) in training, plain W at inference; mode='weight_scaling':
    no scaling in training, W (1-p) at inference (the weight-scaling rule). ``per_example``: one mask per example
    (Wan et al.; memory N*out*in), else one mask per forward shared by the batch. The bias is not masked.
    x: (*, in) (per_example: (N, in)), W: (out, in) -> (*, out)."""
    _check("DropConnect", p, mode)
    if not training or p == 0 or not per_example:
        return linear(x, dropout(weight, p, training, mode=mode), bias)
    if x.ndim != 2:
        raise ValueError(f"DropConnect(per_example=True): expected input (N, in_features), got {tuple(x.shape)}")
    w = weight._data
    n = x.shape[0]
    shape = (n,) + tuple(w.shape)
    if p == 1:
        m = namespace_of(w).zeros(shape, dtype=w.dtype)
    else:
        m = _mask(w, shape, p, w.dtype, 1.0 / (1.0 - p) if mode == "inverted" else 1.0)
    wm = weight.unsqueeze(0) * _wrap(m)  # (N, out, in)
    y = matmul(wm, x.unsqueeze(-1)).squeeze(-1)
    return y if bias is None else y + bias


class DropConnectLinear(Linear):
    """Linear layer with DropConnect: each weight dropped with probability ``p`` in training (Wan et al. 2013;
    textbook 7.12 lists it among dropout's variants). Eval: the weight-scaling inference rule (plain W with
    mode='inverted', W (1-p) with mode='weight_scaling'). x: (*, in) -> (*, out)."""

    def __init__(self, in_features: int, out_features: int, p: float = 0.5, bias: bool = True, mode: str = "inverted",
                 per_example: bool = False, dtype=None, weight_init=None, bias_init=None):
        _check("DropConnectLinear", p, mode)
        super().__init__(in_features, out_features, bias, dtype, weight_init, bias_init)
        self.p, self.mode, self.per_example = float(p), mode, bool(per_example)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        if x.shape[-1:] != self.weight.shape[1:]:
            raise ValueError(f"{type(self).__name__}({self.in_features} -> {self.out_features}): expected input of "
                             f"shape (*, {self.in_features}), got {tuple(x.shape)}")
        return dropconnect_linear(x, self.weight, self.bias, self.p, self.training, self.mode, self.per_example)

    def extra_repr(self):
        return (
            super().extra_repr()
            + f", p={self.p}, mode={self.mode!r}"
            + (", per_example=True" if self.per_example else "")
        )


class DropConnect(Module):
    """DropConnect on an existing ``Linear`` (``DropConnect(linear, p=0.5)``: shares its parameters) or on a new
    one (``DropConnect(in_features, out_features, p=0.5)``). Same rule as ``DropConnectLinear``."""

    def __init__(self, linear_or_in, out_features: int | None = None, p: float = 0.5, bias: bool = True,
                 mode: str = "inverted", per_example: bool = False):
        super().__init__()
        _check("DropConnect", p, mode)
        if isinstance(linear_or_in, Module):
            if out_features is not None:
                raise TypeError(
                    "DropConnect(linear, ...): out_features is taken from the wrapped layer; pass p= by name"
                )
            if not isinstance(getattr(linear_or_in, "weight", None), Tensor) or linear_or_in.weight.ndim != 2:
                raise TypeError(
                    f"DropConnect: expected a Linear layer (with a 2-D weight), got {type(linear_or_in).__name__}"
                )
            self.linear = linear_or_in
        else:
            if out_features is None:
                raise TypeError("DropConnect(in_features, out_features, p): out_features is missing")
            self.linear = Linear(int(linear_or_in), int(out_features), bias=bias)
        self.p, self.mode, self.per_example = float(p), mode, bool(per_example)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        lin = self.linear
        w = lin.weight
        if x.shape[-1:] != w.shape[1:]:
            raise ValueError(f"DropConnect: expected input of shape (*, {w.shape[1]}), got {tuple(x.shape)}")
        return dropconnect_linear(x, w, getattr(lin, "bias", None), self.p, self.training, self.mode, self.per_example)

    def extra_repr(self):
        return f"p={self.p}, mode={self.mode!r}" + (", per_example=True" if self.per_example else "")


class WeightNoise(Module):
    """Weight noise (textbook 7.5, eq. 7.30-7.33): at each training forward, the wrapped module runs with
    W + eta, eta ~ N(0, std^2 I) drawn anew (eta's variance is the book's eta = std^2); gradients reach W.

    ``names``: the parameter names (last component) perturbed, default ("weight",); None: every parameter.
    Eval: the plain weights. For a linear model the expected squared error gains eta E||x||^2 (W7.6)."""

    def __init__(self, module: Module, std: float, names=("weight",)):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"WeightNoise: expected a Module to wrap, got {type(module).__name__}")
        if std < 0:
            raise ValueError(f"WeightNoise: std must be >= 0, got {std}")
        self.module, self.std = module, float(std)
        self.names = None if names is None else ((names,) if isinstance(names, str) else tuple(names))
        if not self._targets():
            raise ValueError(f"WeightNoise: {type(module).__name__} has no parameter named {self.names}")

    def _targets(self):
        """(module, name, Parameter) for every use of a perturbed parameter (a shared one: each use)."""
        return [(m, name, p) for m in self.module.modules() for name, p in m._parameters.items()
                if p is not None and (self.names is None or name in self.names)]

    def forward(self, *args, **kwargs):
        if not self.training or self.std == 0:
            return self.module(*args, **kwargs)
        targets = self._targets()
        noisy = {}  # one eta per Parameter, also when it is shared (e.g. nn.TiedLinear)
        try:
            for m, name, p in targets:
                w = noisy.get(id(p))
                if w is None:
                    arr = p._data
                    w = noisy[id(p)] = p + _wrap(_normal(arr, arr.shape, arr.dtype) * arr.dtype.type(self.std))
                m.__dict__[name] = w  # the noisy weight shadows the Parameter on the instance for this call only
            return self.module(*args, **kwargs)
        finally:
            for m, name, _ in targets:
                m.__dict__.pop(name, None)

    def extra_repr(self):
        return f"std={self.std}, names={self.names}"


def stochastic_pool2d(x: Tensor, kernel_size, stride=None, training: bool = True) -> Tensor:
    """Stochastic pooling (Zeiler & Fergus 2013; textbook 7.12). In each window, p_i = a_i / sum_j a_j;
    training: output a_k with k ~ Categorical(p) (the gradient goes to the sampled unit);
    eval: the probability-weighted average sum_i p_i a_i = sum a_i^2 / sum a_i (0 for an all-zero window).

    x: (N, C, H, W) nonnegative (e.g. after ReLU) -> (N, C, H_out, W_out), H_out = (H - k) // stride + 1."""
    x = check_tensor("stochastic_pool2d", x)
    if x.ndim != 4:
        raise ValueError(f"stochastic_pool2d: expected input (N, C, H, W), got shape {tuple(x.shape)}")
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    s = k if stride is None else ((stride, stride) if isinstance(stride, int) else tuple(stride))
    n, c, h, w = x.shape
    if len(k) != 2 or len(s) != 2 or min(k) < 1 or min(s) < 1 or k[0] > h or k[1] > w:
        raise ValueError(f"stochastic_pool2d: kernel_size {k} / stride {s} invalid for input of shape {tuple(x.shape)}")
    arr = x._data
    xp = namespace_of(arr)
    if arr.size and float(to_host(xp.min(arr))) < 0:
        raise ValueError(f"stochastic_pool2d: expected nonnegative activations (e.g. after ReLU), got min "
                         f"{float(to_host(xp.min(arr)))}")
    ho, wo = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    kk = k[0] * k[1]
    patches = reshape(unfold(x, k, stride=s), (n, c, kk, ho * wo))
    if training:
        a = patches._data
        cum = xp.cumsum(a, axis=2)
        u = generator_for(a).random((n, c, 1, ho * wo), dtype=np.float32 if a.dtype == np.float32 else np.float64)
        tot = cum[:, :, -1:, :]
        # u * tot strictly below tot (rounding could reach it), so the unit picked has a_k > 0
        thresh = xp.minimum(u.astype(a.dtype, copy=False) * tot, xp.nextafter(tot, xp.zeros_like(tot)))
        idx = xp.minimum((cum <= thresh).sum(axis=2, keepdims=True), kk - 1)
        pick = (xp.arange(kk).reshape(1, 1, kk, 1) == idx).astype(a.dtype)
        out = (patches * _wrap(pick)).sum(2)
    else:
        tot = patches.sum(2)
        out = (patches * patches).sum(2) / clamp_min(tot, float(np.finfo(arr.dtype).tiny))
    return reshape(out, (n, c, ho, wo))


class StochasticPool2d(Module):
    """Stochastic pooling (Zeiler & Fergus 2013): sample one unit per window with probability proportional to
    its activation in training; the probability-weighted average in eval. x: (N, C, H, W), nonnegative."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x):
        return stochastic_pool2d(x, self.kernel_size, self.stride, self.training)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
