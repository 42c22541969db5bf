"""Max and average pooling as a window loop, and their backward (textbook 9.3; text 001, 7.2.2).
Reference for shendu.nn.functional.max_pool2d and avg_pool2d.

y[n, c, p, q] = max (or mean) of x_pad[n, c, p*s_h + i*d_h, q*s_w + j*d_w] over the window (i, j).
Backward ("upsample" in text 001, 7.2.2): max pooling routes each dy to the position that won the max in
the forward pass (the first one on ties, as PyTorch); average pooling spreads dy / (kh kw) evenly over its
window. Overlapping windows add up. Max pooling pads with -inf; average pooling pads with zeros and divides
by kh*kw (PyTorch's count_include_pad=True). Shapes: x (N, C, H, W) -> (N, C, Ho, Wo).
"""
from __future__ import annotations

import numpy as np

from .conv import out_size


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _geometry(x_shape, kernel_size, stride, padding, dilation):
    (kh, kw) = _pair(kernel_size)
    (sh, sw) = _pair(kernel_size if stride is None else stride)
    (ph, pw), (dh, dw) = _pair(padding), _pair(dilation)
    Ho, Wo = out_size(x_shape[2], kh, sh, ph, dh), out_size(x_shape[3], kw, sw, pw, dw)
    return kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max over each window; returns (y, argmax) with argmax[n, c, p, q] = (row, col) in the unpadded x."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = _geometry(x.shape, kernel_size, stride, padding, dilation)
    N, C = x.shape[:2]
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    arg = np.empty((N, C, Ho, Wo, 2), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for p in range(Ho):
                for q in range(Wo):
                    best, where = -np.inf, (0, 0)
                    for i in range(kh):
                        for j in range(kw):
                            r, s = p * sh + i * dh, q * sw + j * dw
                            if xpad[n, c, r, s] > best:  # strict: the first maximum wins
                                best, where = xpad[n, c, r, s], (r - ph, s - pw)
                    y[n, c, p, q], arg[n, c, p, q] = best, where
    return y, arg


def max_pool2d_backward(dy, x_shape, argmax):
    """Route each dy[n, c, p, q] to the input position that was the max of its window."""
    dx = np.zeros(x_shape, dtype=dy.dtype)
    N, C, Ho, Wo = dy.shape
    for n in range(N):
        for c in range(C):
            for p in range(Ho):
                for q in range(Wo):
                    r, s = argmax[n, c, p, q]
                    dx[n, c, r, s] += dy[n, c, p, q]
    return dx


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each window (zero padding counted, divisor kh*kw)."""
    kh, kw, sh, sw, ph, pw, _, _, Ho, Wo = _geometry(x.shape, kernel_size, stride, padding, 1)
    N, C = x.shape[:2]
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for p in range(Ho):
        for q in range(Wo):
            window = xpad[:, :, p * sh:p * sh + kh, q * sw:q * sw + kw]
            y[:, :, p, q] = window.sum(axis=(2, 3)) / (kh * kw)
    return y


def avg_pool2d_backward(dy, x_shape, kernel_size, stride=None, padding=0):
    """Spread each dy[n, c, p, q] / (kh kw) over its window."""
    kh, kw, sh, sw, ph, pw, _, _, Ho, Wo = _geometry(x_shape, kernel_size, stride, padding, 1)
    N, C, H, W = x_shape
    dxpad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dy.dtype)
    for p in range(Ho):
        for q in range(Wo):
            dxpad[:, :, p * sh:p * sh + kh, q * sw:q * sw + kw] += dy[:, :, p, q, None, None] / (kh * kw)
    return dxpad[:, :, ph:ph + H, pw:pw + W]
