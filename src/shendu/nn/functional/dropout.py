"""Dropout (textbook 7.12): multiply units by a random binary mask mu, P(mu_i = 1) = 1 - p.

``mode='inverted'`` (default, PyTorch): scale kept units by 1/(1-p) in training, identity at test.
``mode='weight_scaling'``: the textbook's weight-scaling inference rule: no scaling in training,
multiply by (1-p) at test time (textbook 7.12, eq. 7.52-7.58).

Masks are drawn on the input's device, from that device's generator (``sd.manual_seed`` repeats them)."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor, _wrap
from ...backend import generator_for, namespace_of

_MODES = ("inverted", "weight_scaling")


class _MaskMul(Function):
    """y = x * m for a constant mask array m (already scaled); dx = g * m."""

    needs_input_values = False

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, gy):
        return gy * _wrap(self.mask)

    def backward_array(self, gy):
        return gy * self.mask


class _DropoutMul(_MaskMul):
    """y = x * m with the scaled keep-mask m drawn in forward (so a replayed call, ``autograd.capture``, draws a
    fresh mask each time, from the same generator stream as an eager call); dx = g * m."""

    def __init__(self, shape, p, scale):
        self.shape, self.p, self.scale = shape, p, scale

    def forward(self, x):
        self.mask = _mask(x, self.shape, self.p, x.dtype, self.scale)
        return x * self.mask


def _check(name, p, mode):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability p must be in [0, 1], got {p}")
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")


def _keep(gen, shape, p):
    """Boolean keep-mask mu, P(mu = 1) = 1 - p, drawn from ``gen`` (on its device) as random integers compared
    with a threshold (cheaper than float uniforms). 16-bit draws when p is a multiple of 2^-16 (0.5, 0.25, ...):
    P(keep) = 1 - p exactly; otherwise 32-bit draws: P(keep) = 1 - round(p * 2^32) / 2^32, within 2^-33 of 1 - p
    (float32 uniforms resolve 2^-24)."""
    bits, dt = (16, np.uint16) if (float(p) * 65536).is_integer() else (32, np.uint32)
    top = (1 << bits) - 1
    draw = gen.integers(0, top + 1, shape, dtype=dt)
    if p >= 1:
        return draw > top  # nothing kept (a threshold of 2^bits does not fit the draws' dtype)
    return draw >= min(round(float(p) * (1 << bits)), top)


def _mask(x, shape, p, dtype, scale):
    """Binary keep-mask (keep probability 1-p) times ``scale``, in ``dtype``, on the device of array ``x``."""
    keep = _keep(generator_for(x), shape, p)
    m = keep.astype(dtype)
    if scale != 1:
        m *= dtype.type(scale)  # (a masked assignment out[keep] = scale was 4x slower)
    return m


def _apply(name, x, p, training, mode, mask_shape):
    _check(name, p, mode)
    if not training:
        if mode == "weight_scaling" and p:
            return x * (1.0 - p)
        return x
    if p == 0:
        return x
    arr = x._data
    dt = arr.dtype
    if p == 1:
        return _MaskMul(namespace_of(arr).zeros(mask_shape, dtype=dt))(x)
    scale = 1.0 / (1.0 - p) if mode == "inverted" else 1.0
    return _DropoutMul(tuple(mask_shape), p, scale)(x)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, mode: str = "inverted") -> Tensor:
    """Elementwise dropout: drop each unit with probability p (textbook 7.12). Any shape."""
    return _apply("dropout", x, p, training, mode, x.shape)


def dropout2d(
    x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, mode: str = "inverted"
) -> Tensor:
    """Channel dropout: zero whole feature maps. x: (N, C, *spatial); one mask value per (n, c)."""
    if x.ndim < 3:
        raise ValueError(f"dropout2d: expected input (N, C, H, W) or (N, C, L), got shape {tuple(x.shape)}")
    return _apply("dropout2d", x, p, training, mode, tuple(x.shape[:2]) + (1,) * (x.ndim - 2))


dropout1d = dropout3d = feature_dropout = dropout2d


def alpha_dropout(x: Tensor, p: float = 0.5, training: bool = False) -> Tensor:
    """SELU-preserving dropout: dropped units set to -lambda alpha, then an affine map keeps mean 0 / var 1."""
    _check("alpha_dropout", p, "inverted")
    if not training or p == 0:
        return x
    alpha_p = -1.7580993408473766  # -lambda * alpha of SELU
    keep = _keep(generator_for(x._data), x.shape, p).astype(x._data.dtype)
    a = ((1 - p) * (1 + p * alpha_p ** 2)) ** -0.5 if p < 1 else 0.0
    b = -a * alpha_p * p
    return (x * _wrap(keep) + _wrap((1 - keep) * x._data.dtype.type(alpha_p))) * a + b
