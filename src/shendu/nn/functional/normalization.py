"""Normalization: batch normalization (textbook 8.7.1), layer normalization, RMS normalization.

batch_norm: y = gamma (x - mu_B) / sqrt(sigma_B^2 + eps) + beta with batch statistics over every
dim except 1 (channels) in training, running statistics in evaluation (textbook 8.7.1, eq. 8.35-8.36).
Running statistics as PyTorch: r <- (1 - momentum) r + momentum * stat, with the unbiased batch
variance; ``momentum=None`` gives a cumulative average.

Kernels compute with the namespace of their inputs (``self.xp`` in the Functions); the cache-blocked
NumPy passes run as whole-batch passes on a device. Kept whole (~300 lines): batch and layer normalization share
the ``_Normalize`` Function and its parameter helpers."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.grad_mode import _ModeState, refuse_while_tracing
from ...autograd.tensor import Tensor
from ...backend import namespace_of
from ...ops import rsqrt
from ...ops._arr import sum_to
from ...ops._recycle import recycled_empty
from ...ops._workspace import _ws, constant
from ...ops.linalg import _einsum


class _Normalize(Function):
    """y = xhat * gamma + beta, xhat = (x - mean) / sqrt(var + eps), statistics over ``axes``.

    gamma and beta (optional) have shape ``pshape`` after reshape (broadcastable to x).
    dx = invstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)), gxhat = g * gamma."""

    def __init__(self, axes, eps, pshape):
        self.axes, self.eps, self.pshape = axes, eps, pshape

    def forward(self, x, *params):
        xp = self.xp
        axes = self.axes
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = xp.mean(xc * xc, axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + x.dtype.type(self.eps))
        xhat = xc
        xhat *= invstd
        self.mean, self.var = mean, var
        self.saved = (xhat, invstd)
        if not params:
            return xhat
        y = xhat * params[0].reshape(self.pshape)
        if len(params) == 2:
            y += params[1].reshape(self.pshape)
        return y

    def backward_array(self, gy):
        xhat, invstd = self.saved
        inputs = self.inputs
        need = self.needs_input_grad
        axes = self.axes
        if len(inputs) > 1:
            gamma = inputs[1]._data
            gxhat = gy * gamma.reshape(self.pshape)
        else:
            gxhat = gy
        gx = None
        if need[0]:
            m1 = gxhat.mean(axis=axes, keepdims=True)
            m2 = (gxhat * xhat).mean(axis=axes, keepdims=True)
            gx = gxhat - m1
            gx -= xhat * m2
            gx *= invstd
        out = [gx]
        if len(inputs) > 1:
            pshape = self.pshape
            out.append(sum_to(gy * xhat, pshape).reshape(gamma.shape) if need[1] else None)
            if len(inputs) > 2:
                out.append(sum_to(gy, pshape).reshape(inputs[2]._data.shape) if need[2] else None)
        return tuple(out)

    def backward(self, gy):
        inputs = self.inputs
        need = self.needs_input_grad
        axes = self.axes
        x = inputs[0]
        mean = x.mean(axes, keepdim=True)
        xc = x - mean
        invstd = rsqrt((xc * xc).mean(axes, keepdim=True) + self.eps)
        xhat = xc * invstd
        gxhat = gy * inputs[1].reshape(self.pshape) if len(inputs) > 1 else gy
        gx = None
        if need[0]:
            gx = (gxhat - gxhat.mean(axes, keepdim=True) - xhat * (gxhat * xhat).mean(axes, keepdim=True)) * invstd
        out = [gx]
        if len(inputs) > 1:
            out.append(_sum_to_param(gy * xhat, self.pshape, inputs[1].shape) if need[1] else None)
            if len(inputs) > 2:
                out.append(_sum_to_param(gy, self.pshape, inputs[2].shape) if need[2] else None)
        return tuple(out)


def _ones(n, dtype):
    """A host ones vector for the matvec sums, cached in the convolution workspace (per thread, bounded;
    device sums use .sum, no cache)."""
    return constant("bn_ones", (n,), dtype, 1.0)


def _chan_sum(a3):
    """Sum of (N, C, L) over N and L -> (C,), with a BLAS matvec for the contiguous L axis (NumPy; a plain
    reduction on a device)."""
    if a3.shape[2] == 1:
        return a3[:, :, 0].sum(axis=0)
    if type(a3) is not np.ndarray and namespace_of(a3) is not np:
        return a3.sum(axis=(0, 2))
    return (a3 @ _ones(a3.shape[2], a3.dtype)).sum(axis=0)


def _block(a3):
    """Samples per block so that one block of (N, C, L) ``a3`` is about 1 MiB (an L2 cache): the
    elementwise passes over a block then run in cache (CIFAR BN 64x24x24 fwd+bwd 15.7 -> 13.1 ms).
    On a device (no such cache to fit) one block: the whole batch."""
    if type(a3) is not np.ndarray and namespace_of(a3) is not np:
        return a3.shape[0]
    return max(1, (1 << 20) // max(1, a3[0].nbytes))


#: On the host, the backward's sum g (x - mean) is taken as sum g x - mean sum g (one pass fewer over memory:
#: CIFAR BN1 fwd + bwd 15.6 -> 15.1 ms) while every channel's |mean| / std is at most this (the CIFAR CNN's BN2
#: input: ~3.2); else x - mean is formed block by block first (and always on a device: no sync). A margin: in
#: float32 the one-pass sum's rounding grows with |mean| / std, but even at 300 (32x3x12x12) the weight
#: gradient's error against float64 was 5.4e-5 against the centered sum's 6.4e-5 (both set by the float32 mean).
RAW_DOT_MAX_MEAN = 8.0


class _BatchNormTrain(_Normalize):
    """Batch normalization with batch statistics; the array paths view x as (N, C, L) and reduce with
    matvecs and einsum (no temporaries for the sums). backward (differentiable) is _Normalize's.

    dx = gamma invstd (g - mean(g) - xhat mean(g xhat)), all means per channel."""

    def forward(self, x, *params):
        xp = self.xp
        sh = x.shape
        n_, c = sh[0], sh[1]
        x3 = x.reshape(n_, c, -1)
        n = x3.shape[0] * x3.shape[2]
        dt = x.dtype.type
        B = _block(x3)
        mean = _chan_sum(x3) / dt(n)
        var = xp.zeros(c, dtype=x.dtype)
        y = recycled_empty(x3.shape, x.dtype, x3)
        for a in range(0, n_, B):  # blocks of samples: each pass over a block runs in cache
            yb = y[a:a + B]
            xp.subtract(x3[a:a + B], mean[:, None], out=yb)  # x - mean, in y's block
            var += _einsum(xp, "ncl,ncl->c", yb, yb)  # bfloat16: float32 contraction
        var /= dt(n)
        invstd = 1.0 / xp.sqrt(var + dt(self.eps))
        self.mean, self.var = mean, var
        # nothing as large as x is saved: backward recomputes x - mean from the input (kept by the graph) block
        # by block (the CIFAR CNN step's peak memory: -22.5 MiB, issue 20)
        self.saved = (mean, invstd)
        k = (invstd * params[0])[:, None] if params else invstd[:, None]
        for a in range(0, n_, B):  # y = (x - mean) * (invstd gamma) + beta
            yb = y[a:a + B]
            yb *= k
            if len(params) == 2:
                yb += params[1][:, None]
        return y.reshape(sh)

    def backward_array(self, gy):
        xp = self.xp
        mean, invstd = self.saved
        inputs = self.inputs
        need = self.needs_input_grad
        x3 = inputs[0]._data
        x3 = x3.reshape(x3.shape[0], x3.shape[1], -1)
        g3 = gy.reshape(x3.shape)
        n = x3.shape[0] * x3.shape[2]
        dt = x3.dtype.type
        mean1 = mean[:, None]
        B = _block(x3)
        gbeta = _chan_sum(g3)
        n0 = x3.shape[0]
        gx = recycled_empty(x3.shape, x3.dtype, x3) if need[0] else None
        # sum g (x - mean) = sum g x - mean sum g: one pass over g and x, no x - mean written (RAW_DOT_MAX_MEAN)
        raw = type(x3) is np.ndarray and float((np.abs(mean) * invstd).max()) <= RAW_DOT_MAX_MEAN
        if raw:
            ggamma = _einsum(xp, "ncl,ncl->c", g3, x3)
            ggamma -= mean * gbeta
        else:
            # x - mean per cache block, kept in gx's block (a scratch block when x needs no gradient)
            xc = gx if need[0] else _ws("bn_xc", (min(B, n0),) + x3.shape[1:], x3.dtype, x3)
            ggamma = xp.zeros(x3.shape[1], dtype=x3.dtype)
            for s in range(0, n0, B):
                xb = xc[s:s + B] if need[0] else xc[:min(B, n0 - s)]
                xp.subtract(x3[s:s + B], mean1, out=xb)
                ggamma += _einsum(xp, "ncl,ncl->c", g3[s:s + B], xb)
        ggamma *= invstd  # sum g xhat (PyTorch's order)
        a = invstd if len(inputs) == 1 else invstd * inputs[1]._data
        if need[0]:  # a * (g - (x - mean) * invstd ggamma/n - gbeta/n), no temporary, in cache-sized blocks
            k1 = (ggamma * invstd / dt(n))[:, None]
            k2, a = (gbeta / dt(n))[:, None], a[:, None]
            k3 = k2 - mean1 * k1
            for s in range(0, n0, B):
                gb = gx[s:s + B]
                if raw:  # gb holds nothing yet: from x
                    xp.multiply(x3[s:s + B], k1, out=gb)
                    gb += k3
                else:  # gb holds x - mean
                    gb *= k1
                    gb += k2
                xp.subtract(g3[s:s + B], gb, out=gb)
                gb *= a
            gx = gx.reshape(gy.shape)
        if len(inputs) == 1:
            return (gx,)
        return gx, (ggamma if need[1] else None), (gbeta if len(inputs) > 2 and need[2] else None)


class _EvalAffine(Function):
    """Batch norm's evaluation map from the running statistics: scale = 1/sqrt(var + eps), shift = -mean * scale,
    both shaped ``pshape`` in the input's dtype (textbook 8.7.1: at test time the statistics are constants)."""

    def __init__(self, dtype, eps, pshape):
        self.dtype, self.eps, self.pshape = dtype, eps, pshape

    def forward(self, mean, var):
        dt = self.dtype
        inv = 1.0 / self.xp.sqrt(var.astype(dt) + dt.type(self.eps))
        return inv.reshape(self.pshape), (-mean.astype(dt) * inv).reshape(self.pshape)

    def backward(self, gscale, gshift):  # running statistics are buffers: no gradient
        return None, None


def _sum_to_param(g, pshape, shape):
    from ...ops.shape import sum_to as _sum_to_t

    return _sum_to_t(g, tuple(pshape)).reshape(tuple(shape))


def _params(weight, bias):
    if weight is None and bias is None:
        return ()
    if weight is None or bias is None:
        raise ValueError("normalization: give both weight and bias, or neither")
    return (weight, bias)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked: Tensor | None = None) -> Tensor:
    """Batch normalization over every dim but 1 (textbook 8.7.1). input: (N, C, *), params/stats: (C,).

    In training the running statistics (if given) are updated in place."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C, ...), got shape {tuple(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(
                f"batch_norm: {name} of shape {tuple(t.shape)} does not match {c} channels of input "
                f"{tuple(input.shape)}"
            )
    pshape = (1, c) + (1,) * (input.ndim - 2)
    params = _params(weight, bias)
    if training or running_mean is None:
        axes = (0,) + tuple(range(2, input.ndim))
        n = input.numel() // c
        if training and n <= 1:
            raise ValueError(
                "batch_norm: expected more than 1 value per channel when training, "
                f"got input of shape {tuple(input.shape)}"
            )
        fn = _BatchNormTrain(axes, eps, pshape)
        y = fn(input, *params)
        if training and running_mean is not None:
            if _ModeState.tracing_any:
                refuse_while_tracing("batch_norm's update of its running statistics (training mode)")
            if num_batches_tracked is not None:
                num_batches_tracked._data += 1  # in place: stays a 0-d array, not a NumPy scalar
                num_batches_tracked._version += 1
            m = (
                momentum
                if momentum is not None
                else 1.0 / float(num_batches_tracked._data if num_batches_tracked is not None else 1)
            )
            rm, rv = running_mean._data, running_var._data
            bm = fn.mean.astype(rm.dtype, copy=False)
            bv = fn.var.astype(rv.dtype, copy=False) * (n / (n - 1))
            rm *= 1 - m
            rm += m * bm
            rv *= 1 - m
            rv += m * bv
            running_mean._version += 1
            running_var._version += 1
        return y
    # evaluation: an affine map with the running statistics (made by an op: a captured call reads them afresh)
    scale, shift = _EvalAffine(input._data.dtype, eps, pshape)(running_mean, running_var)
    if params:
        w = weight.reshape(pshape)
        return input * (scale * w) + (shift * w + bias.reshape(pshape))
    return input * scale + shift


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Layer normalization over the trailing ``normalized_shape`` dims (Ba et al. 2016).

    weight/bias: normalized_shape."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.ndim - k:]) != ns:
        raise ValueError(f"layer_norm: input of shape {tuple(input.shape)} does not end with normalized_shape {ns}")
    axes = tuple(range(input.ndim - k, input.ndim))
    if weight is not None and bias is None:
        y = _Normalize(axes, eps, ns)(input)
        return y * weight
    return _Normalize(axes, eps, ns)(input, *_params(weight, bias))


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """RMS normalization x / sqrt(mean(x^2) + eps) * gamma over the trailing dims (Zhang & Sennrich 2019).

    ``eps=None`` uses the dtype's machine epsilon (PyTorch)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.ndim - k:]) != ns:
        raise ValueError(f"rms_norm: input of shape {tuple(input.shape)} does not end with normalized_shape {ns}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    axes = tuple(range(input.ndim - k, input.ndim))
    y = input * rsqrt((input * input).mean(axes, keepdim=True) + eps)
    return y * weight if weight is not None else y


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """LRN across channels: x / (k + alpha/n sum_{c' near c} x_c'^2)^beta (AlexNet). input: (N, C, *)."""
    from ...ops import pad

    sq = input * input
    c = input.shape[1]
    padded = pad(sq, (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2))
    acc = None
    for i in range(size):
        s = padded[:, i:i + c]
        acc = s if acc is None else acc + s
    return input / (acc * (alpha / size) + k) ** beta
