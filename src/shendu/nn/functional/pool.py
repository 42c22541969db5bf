"""Functional pooling (textbook 9.3): max/avg pooling 1-d/2-d/3-d, LP pooling, adaptive and global
pooling.

Layout (N, C, *sp) or unbatched (C, *sp). ``stride`` defaults to the kernel size. ``padding``: int
or tuple (PyTorch: at most half the kernel; max pooling pads with -inf) or 'same' / 'valid'
(TensorFlow, as the seeds' CIFAR-10 example: output ceil(in/stride)). ``count_include_pad``
(average pooling) defaults to True for numeric padding (PyTorch) and False for 'same' (TensorFlow).
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, as_tensor
from ...ops import abs as _abs
from ...ops import amax, einsum, mean, relu, reshape, sign
from ...ops import pow as _pow
from ...ops.pool import AvgPoolNd, MaxPoolNd, avg_divisor, pool_geometry


def _tup(v, nd, name, what):
    if isinstance(v, int):
        return (v,) * nd
    v = tuple(v)
    if len(v) != nd:
        raise ValueError(f"{name}: {what} must be an int or a tuple of {nd} ints, got {v}")
    return v


def _prep(x, nd, name):
    x = x if isinstance(x, Tensor) else as_tensor(x)
    if x.ndim == nd + 1:
        return reshape(x, (1,) + x.shape), True
    if x.ndim != nd + 2:
        raise ValueError(f"{name}: expected input (N, C, {'*' * nd}) with {nd + 2} dims (or {nd + 1} unbatched), "
                         f"got {x.shape}")
    return x, False


def _maxpool(nd, name, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, unb = _prep(x, nd, name)
    k = _tup(kernel_size, nd, name, "kernel_size")
    s = k if stride is None or stride == () else _tup(stride, nd, name, "stride")
    d = _tup(dilation, nd, name, "dilation")
    pads, _, _ = pool_geometry(name, x.shape[2:], k, s, d, padding, ceil_mode)
    fn = MaxPoolNd(k, s, d, pads)
    y = fn(x)
    idx = None
    if return_indices:
        idx = as_tensor(fn.indices())
    if unb:
        y = reshape(y, y.shape[1:])
        idx = reshape(idx, idx.shape[1:]) if idx is not None else None
    return (y, idx) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling: (N, C, L) -> (N, C, L_out)."""
    return _maxpool(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling y = max over each window (textbook 9.3): (N, C, H, W) -> (N, C, H_out, W_out);
    the gradient goes to the (first) arg-max of each window. Reference: shendu.reference.pool.max_pool2d."""
    return _maxpool(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    return _maxpool(3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avgpool(nd, name, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, unb = _prep(x, nd, name)
    k = _tup(kernel_size, nd, name, "kernel_size")
    s = k if stride is None or stride == () else _tup(stride, nd, name, "stride")
    pads, osz, explicit = pool_geometry(name, x.shape[2:], k, s, (1,) * nd, padding, ceil_mode)
    if count_include_pad is None:
        count_include_pad = not isinstance(padding, str)
    if divisor_override:
        div = x.dtype.type(1.0 / divisor_override)
    else:
        div = avg_divisor(x.shape[2:], k, s, pads, explicit, osz, count_include_pad, x.dtype, x.device)
    y = AvgPoolNd(k, s, pads, div)(x)
    return reshape(y, y.shape[1:]) if unb else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=None):
    """1-D average pooling: (N, C, L) -> (N, C, L_out)."""
    return _avgpool(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=None,
               divisor_override=None):
    """2-D average pooling y = mean over each window (textbook 9.3): (N, C, H, W) -> (N, C, H_out, W_out);
    the gradient is spread evenly over the window. Reference: shendu.reference.pool.avg_pool2d."""
    return _avgpool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=None,
               divisor_override=None):
    """3-D average pooling: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    return _avgpool(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override)


def _lp(nd, name, x, norm_type, kernel_size, stride, ceil_mode):
    x, unb = _prep(x, nd, name)
    k = _tup(kernel_size, nd, name, "kernel_size")
    s = k if stride is None else _tup(stride, nd, name, "stride")
    kk = int(np.prod(k))
    out = _avgpool(nd, name, _pow(x, norm_type), k, s, 0, ceil_mode, True, None)
    y = _pow(sign(out) * relu(_abs(out)) * kk, 1.0 / norm_type)
    return reshape(y, y.shape[1:]) if unb else y


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling (sum over the window of x^p)^(1/p) (textbook 9.3, L2 pooling for p=2)."""
    return _lp(1, "lp_pool1d", input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling (sum over the window of x^p)^(1/p), as PyTorch's lp_pool2d."""
    return _lp(2, "lp_pool2d", input, norm_type, kernel_size, stride, ceil_mode)


def _adaptive_matrix(n_in, n_out, dtype, device):
    """P (n_out, n_in) on ``device``: row i averages [floor(i*n_in/n_out), ceil((i+1)*n_in/n_out)) (built on
    the host, then copied once)."""
    p = np.zeros((n_out, n_in), dtype=dtype)
    for i in range(n_out):
        a = (i * n_in) // n_out
        b = -(-((i + 1) * n_in) // n_out)
        p[i, a:b] = 1.0 / (b - a)
    return as_tensor(p, device=device)


def adaptive_avg_pool1d(input, output_size):
    """Adaptive average pooling to length ``output_size`` (PyTorch's window rule): (N, C, L) -> (N, C, out)."""
    x, unb = _prep(input, 1, "adaptive_avg_pool1d")
    o = output_size if isinstance(output_size, int) else output_size[0]
    y = einsum("ncl,ol->nco", x, _adaptive_matrix(x.shape[2], o, x.dtype, x.device))
    return reshape(y, y.shape[1:]) if unb else y


def adaptive_avg_pool2d(input, output_size):
    """Adaptive average pooling to ``output_size`` (int or (h, w); None keeps that size):
    (N, C, H, W) -> (N, C, h, w); y = P_h x P_w^T with PyTorch's windows."""
    x, unb = _prep(input, 2, "adaptive_avg_pool2d")
    o = (output_size, output_size) if isinstance(output_size, int) or output_size is None else tuple(output_size)
    oh = x.shape[2] if o[0] is None else o[0]
    ow = x.shape[3] if o[1] is None else o[1]
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size}")
    if (oh, ow) == (1, 1):
        y = mean(x, dim=(2, 3), keepdim=True)
    else:
        y = einsum("nchw,ih,jw->ncij", x, _adaptive_matrix(x.shape[2], oh, x.dtype, x.device),
                   _adaptive_matrix(x.shape[3], ow, x.dtype, x.device))
    return reshape(y, y.shape[1:]) if unb else y


def global_avg_pool2d(input, keepdim=False):
    """Mean over H and W: (N, C, H, W) -> (N, C) (or (N, C, 1, 1) with keepdim)."""
    x, _ = _prep(input, 2, "global_avg_pool2d")
    return mean(x, dim=(2, 3), keepdim=keepdim)


def global_max_pool2d(input, keepdim=False):
    """Max over H and W: (N, C, H, W) -> (N, C) (or (N, C, 1, 1) with keepdim)."""
    x, _ = _prep(input, 2, "global_max_pool2d")
    return amax(x, dim=(2, 3), keepdim=keepdim)


__all__ = [
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "global_avg_pool2d", "global_max_pool2d",
]
