"""2-D convolution written as the textbook states it (textbook 9.1 eq. 9.7, 9.5 strides, 9.8 efficient
convolution; text 001, 7.2.3-7.2.4 for the backward). Reference for shendu.nn.functional.conv2d.

Layout NCHW, PyTorch's cross-correlation: y[n, o, p, q] = b[o] + sum_{c, i, j} x_pad[n, g*Cg + c,
p*s_h + i*d_h, q*s_w + j*d_w] * w[o, c, i, j], where g is the group of output channel o.
Shapes: x (N, C, H, W), w (O, C/groups, kh, kw), y (N, O, Ho, Wo), Ho = (H + 2 p_h - d_h (kh - 1) - 1) // s_h + 1.

The efficient form (9.8): unfold every receptive field into a column (im2col, one slice per kernel tap),
then the whole convolution is one matrix product W (O, C kh kw) @ cols (C kh kw, Ho Wo). Its gradients are
the same product transposed: dW = dY @ cols^T and dcols = W^T @ dY, folded back by col2im (the adjoint
slice loop, which sums overlapping windows). The transposed convolution is that input gradient.
"""
from __future__ import annotations

import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def out_size(size, k, stride, padding, dilation):
    """Output length of a convolution along one axis: (size + 2p - d(k - 1) - 1) // s + 1 (textbook 9.5)."""
    return (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def _geometry(H, W, kh, kw, stride, padding, dilation):
    """Strides, paddings, dilations and the output size (Ho, Wo) of a kh x kw convolution of an H x W input,
    each an (h, w) pair."""
    s, p, d = _pair(stride), _pair(padding), _pair(dilation)
    return s, p, d, (out_size(H, kh, s[0], p[0], d[0]), out_size(W, kw, s[1], p[1], d[1]))


def im2col(x, kh, kw, stride=1, padding=0, dilation=1):
    """Unfold x (N, C, H, W) into cols (N, C*kh*kw, Ho*Wo): one strided slice per kernel tap (i, j)."""
    N, C, H, W = x.shape
    (sh, sw), (ph, pw), (dh, dw), (Ho, Wo) = _geometry(H, W, kh, kw, stride, padding, dilation)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.zeros((N, C, kh, kw, Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            r, c = i * dh, j * dw
            cols[:, :, i, j] = xpad[:, :, r:r + sh * (Ho - 1) + 1:sh, c:c + sw * (Wo - 1) + 1:sw]
    return cols.reshape(N, C * kh * kw, Ho * Wo)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, dilation=1):
    """The adjoint of im2col: add each column entry back to the input pixel it was read from."""
    N, C, H, W = x_shape
    (sh, sw), (ph, pw), (dh, dw), (Ho, Wo) = _geometry(H, W, kh, kw, stride, padding, dilation)
    cols = cols.reshape(N, C, kh, kw, Ho, Wo)
    xpad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            r, c = i * dh, j * dw
            xpad[:, :, r:r + sh * (Ho - 1) + 1:sh, c:c + sw * (Wo - 1) + 1:sw] += cols[:, :, i, j]
    return xpad[:, :, ph:ph + H, pw:pw + W]


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """y = W @ im2col(x) per group (+ b): x (N, C, H, W), w (O, C/groups, kh, kw) -> (N, O, Ho, Wo)."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    Og = O // groups
    *_, (Ho, Wo) = _geometry(H, W, kh, kw, stride, padding, dilation)
    y = np.zeros((N, O, Ho * Wo), dtype=x.dtype)
    for g in range(groups):
        cols = im2col(x[:, g * Cg:(g + 1) * Cg], kh, kw, stride, padding, dilation)  # (N, Cg kh kw, L)
        wmat = w[g * Og:(g + 1) * Og].reshape(Og, Cg * kh * kw)
        y[:, g * Og:(g + 1) * Og] = wmat @ cols  # the one GEMM (broadcast over the batch)
    if b is not None:
        y += b[None, :, None]
    return y.reshape(N, O, Ho, Wo)


def conv2d_input_grad(dy, x_shape, w, stride=1, padding=0, dilation=1, groups=1):
    """dL/dx = col2im(W^T @ dY) per group: dy (N, O, Ho, Wo) -> (N, C, H, W)."""
    N, C, H, W = x_shape
    O, Cg, kh, kw = w.shape
    Og = O // groups
    dx = np.zeros(x_shape, dtype=dy.dtype)
    dy = dy.reshape(N, O, -1)
    for g in range(groups):
        wmat = w[g * Og:(g + 1) * Og].reshape(Og, Cg * kh * kw)
        dcols = wmat.T @ dy[:, g * Og:(g + 1) * Og]  # (N, Cg kh kw, L)
        dx[:, g * Cg:(g + 1) * Cg] = col2im(dcols, (N, Cg, H, W), kh, kw, stride, padding, dilation)
    return dx


def conv2d_weight_grad(dy, x, w_shape, stride=1, padding=0, dilation=1, groups=1):
    """dL/dW = sum over the batch of dY @ im2col(x)^T per group: -> (O, C/groups, kh, kw)."""
    N = x.shape[0]
    O, Cg, kh, kw = w_shape
    Og = O // groups
    dw = np.zeros(w_shape, dtype=dy.dtype)
    dy = dy.reshape(N, O, -1)
    for g in range(groups):
        cols = im2col(x[:, g * Cg:(g + 1) * Cg], kh, kw, stride, padding, dilation)
        dwg = np.einsum("nol,nkl->ok", dy[:, g * Og:(g + 1) * Og], cols)  # sum_n dY_n @ cols_n^T
        dw[g * Og:(g + 1) * Og] = dwg.reshape(Og, Cg, kh, kw)
    return dw


def conv2d_bias_grad(dy):
    """dL/db[o] = sum of dy over the batch and all output positions."""
    return dy.sum(axis=(0, 2, 3))


def conv2d_direct(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The definition itself (eq. 9.7 with stride and dilation), one multiply-add at a time. Tiny cases only."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    Og = O // groups
    (sh, sw), (ph, pw), (dh, dw), (Ho, Wo) = _geometry(H, W, kh, kw, stride, padding, dilation)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    y = np.zeros((N, O, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for o in range(O):
            g = o // Og
            for p in range(Ho):
                for q in range(Wo):
                    acc = 0.0 if b is None else b[o]
                    for c in range(Cg):
                        for i in range(kh):
                            for j in range(kw):
                                acc += xpad[n, g * Cg + c, p * sh + i * dh, q * sw + j * dw] * w[o, c, i, j]
                    y[n, o, p, q] = acc
    return y


def conv2d_input_grad_rot180(dy, w, padding=0):
    """Text 001, 7.2.3 (stride 1, one group, no dilation): delta^{l-1} = padding(delta^l) * rot180(w), i.e.
    the input gradient is a 'full' correlation of dy with the kernel turned by 180 degrees, cropped by p."""
    O, C, kh, kw = w.shape
    ph, pw = _pair(padding)
    full = np.pad(dy, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    w_rot = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, O, kh, kw)
    dxpad = conv2d(full, np.ascontiguousarray(w_rot))
    H, W = dxpad.shape[2] - 2 * ph, dxpad.shape[3] - 2 * pw
    return dxpad[:, :, ph:ph + H, pw:pw + W]


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution = the input gradient of conv2d (textbook 9.5): x (N, Cin, H, W),
    w (Cin, Cout/groups, kh, kw) -> (N, Cout, Ho, Wo), Ho = (H - 1) s - 2p + d (kh - 1) + output_padding + 1."""
    N, Cin, H, W = x.shape
    _, Coutg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw), (oh, ow) = _pair(stride), _pair(padding), _pair(dilation), _pair(output_padding)
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    y = conv2d_input_grad(x, (N, Coutg * groups, Ho, Wo), w, stride, padding, dilation, groups)
    if b is not None:
        y = y + b[None, :, None, None]
    return y
