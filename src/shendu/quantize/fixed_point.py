"""Dynamic fixed point and int8 per-channel quantisation (textbook 12.1.6).

Dynamic fixed point: a group of numbers (e.g. all weights of one layer, or one output channel) shares one
exponent. With ``bits`` total bits (sign included) the group's fractional bit count f is the largest with
max|x| * 2^f <= 2^(bits-1) - 1, so q = round(x * 2^f) is an integer in range and the round trip
x -> q * 2^-f has error <= scale/2 with scale = 2^-f (W12.8). int8 per-channel symmetric quantisation uses
a free (not power-of-two) scale per channel, scale_c = max|w_c| / 127.

Arrays are handled with the input's array namespace (device-generic); results are tensors."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, _wrap, as_tensor
from ..backend import namespace_of


def _group_amax(arr, dim):
    """max|x| per group: over everything (dim None) or per index of ``dim`` (kept as a broadcastable axis)."""
    xp = namespace_of(arr)
    a = xp.abs(arr.astype(np.float64) if arr.dtype != np.float64 else arr)
    if dim is None:
        return a.max() if a.size else xp.zeros((), dtype=np.float64)
    d = dim % arr.ndim
    axes = tuple(i for i in range(arr.ndim) if i != d)
    return a.max(axis=axes, keepdims=True) if axes else a


def _check_bits(name, bits, lo=2, hi=32):
    if not isinstance(bits, (int, np.integer)) or not lo <= bits <= hi:
        raise ValueError(f"{name}: bits must be an int in [{lo}, {hi}], got {bits!r}")


def dfp_fraction_bits(x, bits: int = 8, dim=None):
    """The shared fractional-bit count f per group (an int tensor, broadcastable to x): the largest f with
    max|x| * 2^f <= 2^(bits-1) - 1 (a group of zeros gets f = bits - 1)."""
    _check_bits("dfp_fraction_bits", bits)
    arr = x._data if isinstance(x, Tensor) else as_tensor(x)._data
    xp = namespace_of(arr)
    amax = _group_amax(arr, dim)
    qmax = 2.0 ** (bits - 1) - 1
    safe = xp.where(amax > 0, amax, 1.0)
    f = xp.floor(xp.log2(qmax / safe))
    f = xp.where(amax > 0, f, float(bits - 1))
    return _wrap(f.astype(np.int32))


def quantize_dfp(x, bits: int = 8, dim=None):
    """Dynamic fixed point: ``(q, scale)`` with q = round(x / scale) integers (int8/16/32 by ``bits``) and
    scale = 2^-f shared per group (whole tensor when ``dim`` is None, else per index of ``dim``); textbook 12.1.6."""
    x = x if isinstance(x, Tensor) else as_tensor(x)
    f = dfp_fraction_bits(x, bits, dim)._data
    xp = namespace_of(x._data)
    scale = xp.exp2(-f.astype(np.float64))
    q = xp.rint(x._data.astype(np.float64) / scale)
    qdt = np.int8 if bits <= 8 else (np.int16 if bits <= 16 else np.int32)
    return _wrap(q.astype(qdt)), _wrap(scale.astype(x.dtype))


def dequantize(q, scale):
    """q * scale in the scale's dtype (inverse of ``quantize_dfp`` / ``quantize_per_channel``)."""
    return q.type(scale.dtype) * scale


class _FakeQuant(Function):
    """y = dequantize(quantize(x)) (dynamic fixed point); straight-through gradient dy/dx = 1."""

    needs_input_values = False

    def __init__(self, bits, dim):
        self.bits, self.dim = bits, dim

    def forward(self, x):
        q, s = quantize_dfp(_wrap(x), self.bits, self.dim)
        return (q._data.astype(x.dtype) * s._data).astype(x.dtype)

    def backward(self, gy):
        return gy

    def backward_array(self, gy):
        return gy


def fake_quantize_dfp(x: Tensor, bits: int = 8, dim=None) -> Tensor:
    """Quantise-dequantise with dynamic fixed point (simulates ``bits``-bit arithmetic); the gradient passes
    straight through (straight-through estimator), so a network can be trained with quantised weights."""
    _check_bits("fake_quantize_dfp", bits)
    x = x if isinstance(x, Tensor) else as_tensor(x)
    return _FakeQuant(bits, dim)(x)


def quantize_per_channel(w, axis: int = 0, bits: int = 8):
    """Symmetric per-channel quantisation: ``(q, scale)`` with scale_c = max|w_c| / (2^(bits-1) - 1) per index
    of ``axis`` (a channel of zeros gets scale 1), q = round(w / scale) int8; error <= scale/2."""
    _check_bits("quantize_per_channel", bits, 2, 8)
    w = w if isinstance(w, Tensor) else as_tensor(w)
    arr = w._data
    if arr.ndim == 0:
        raise ValueError("quantize_per_channel: expected a tensor with at least one dimension, got a scalar")
    xp = namespace_of(arr)
    amax = _group_amax(arr, axis)
    qmax = 2.0 ** (bits - 1) - 1
    scale = xp.where(amax > 0, amax / qmax, 1.0)
    q = xp.clip(xp.rint(arr.astype(np.float64) / scale), -qmax, qmax).astype(np.int8)
    return _wrap(q), _wrap(scale.astype(arr.dtype if arr.dtype.kind == "f" else np.float32))


def dynamic_fixed_point_(model, bits: int = 16, per_channel: bool = False) -> float:
    """Round every floating parameter of ``model`` in place to ``bits``-bit dynamic fixed point (one exponent
    per parameter tensor, i.e. per layer's weight matrix, or per output channel when ``per_channel``);
    returns the largest absolute change (post-training low-precision inference, textbook 12.1.6)."""
    _check_bits("dynamic_fixed_point_", bits)
    worst = 0.0
    for p in model.parameters():
        if p._data.dtype.kind != "f":
            continue
        q, s = quantize_dfp(p.detach(), bits, 0 if per_channel and p.ndim > 1 else None)
        new = (q._data.astype(p._data.dtype) * s._data).astype(p._data.dtype)
        xp = namespace_of(new)
        worst = max(worst, float(xp.abs(new - p._data).max()) if new.size else 0.0)
        p._data[...] = new
    return worst

