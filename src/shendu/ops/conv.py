"""N-d convolution ops (textbook 9.1-9.2, 9.5, 9.8; the seeds' CNN back-propagation with rot180).

Cross-correlation as PyTorch: y[n, o, p] = b[o] + sum_{c, i} w[o, c, i] x[n, g*C/g + c, p*s + i*d - pad_lo].
Layout NC* (NCHW for 2-D): x (N, C, *sp), w (O, C/groups, *k), b (O,), y (N, O, *out).

Three mutually adjoint Functions, so gradients of every order come from the same kernels:
``ConvNd`` (y from x, w), ``ConvTransposeNd`` (the input gradient, i.e. the transposed
convolution: the rot180 rule of the seeds) and ``ConvWeightGradNd`` (the kernel gradient,
the correlation of x with the upstream gradient).
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.grad_mode import _Mode
from ..backend import namespace_of
from . import _im2col as K


def _red_axes(nd):
    return (0,) + tuple(range(2, 2 + nd))


def _forward(x, w, b, s, d, pads, g, keep=None):
    """K.conv_forward, or the empty (0, O, *out) result of an empty batch (as PyTorch)."""
    if x.shape[0]:
        return K.conv_forward(x, w, b, s, d, pads, g, keep)
    osz = tuple(K.out_size(x.shape[2 + a], w.shape[2 + a], s[a], d[a], *pads[a]) for a in range(x.ndim - 2))
    return namespace_of(w).zeros((0, w.shape[0]) + osz, dtype=w.dtype)


def _backward(x, w, gy, s, d, pads, g, need_x, need_w, x_shape=None, cols=None):
    """K.conv_backward, or zero gradients for an empty batch (nothing flows back from no samples)."""
    if gy.shape[0]:
        return K.conv_backward(x, w, gy, s, d, pads, g, need_x, need_w, x_shape=x_shape, cols=cols)
    xp = namespace_of(gy)
    gx = xp.zeros(x_shape if x_shape is not None else x.shape, dtype=gy.dtype) if need_x else None
    return gx, (xp.zeros(w.shape, dtype=gy.dtype) if need_w else None)


class ConvNd(Function):
    """y = conv(x, w) (+ b); see the module docstring."""

    def __init__(self, stride, dilation, pads, groups):
        self.s, self.d, self.pads, self.g = stride, dilation, pads, groups

    def forward(self, x, w, b=None):
        keep = [] if _Mode.grad_enabled else None
        y = _forward(x, w, b, self.s, self.d, self.pads, self.g, keep)
        if keep:
            self.saved = keep[0]
        return y

    def backward_array(self, gy):
        need = self.needs_input_grad
        x, w = self.inputs[0]._data, self.inputs[1]._data
        gx, gw = _backward(x, w, gy, self.s, self.d, self.pads, self.g, need[0], need[1], cols=self.saved)
        if len(need) == 3:
            gb = gy.sum(axis=_red_axes(gy.ndim - 2)) if need[2] else None
            return gx, gw, gb
        return gx, gw

    def backward(self, gy):
        need = self.needs_input_grad
        x, w = self.inputs[0], self.inputs[1]
        gx = ConvTransposeNd(self.s, self.d, self.pads, self.g, x.shape[1:])(gy, w) if need[0] else None
        gw = ConvWeightGradNd(self.s, self.d, self.pads, self.g, w.shape)(x, gy) if need[1] else None
        if len(need) == 3:
            gb = gy.sum(dim=_red_axes(gy.ndim - 2)) if need[2] else None
            return gx, gw, gb
        return gx, gw


class ConvTransposeNd(Function):
    """x = conv^T(y, w) (+ b): the adjoint of ``ConvNd`` in its input; ``x_shape`` is (C, *sp) of
    the result (its batch size is y's)."""

    def __init__(self, stride, dilation, pads, groups, x_shape):
        self.s, self.d, self.pads, self.g, self.x_shape = stride, dilation, pads, groups, tuple(x_shape)

    def forward(self, y, w, b=None):
        shape = (y.shape[0],) + self.x_shape
        gx, _ = _backward(None, w, y, self.s, self.d, self.pads, self.g, True, False, x_shape=shape)
        if b is not None and shape[0]:
            gx.reshape(shape[0], shape[1], -1)[...] += b[:, None]
        return gx

    def backward_array(self, gz):
        need = self.needs_input_grad
        y, w = self.inputs[0]._data, self.inputs[1]._data
        gy = _forward(gz, w, None, self.s, self.d, self.pads, self.g) if need[0] else None
        gw = None
        if need[1]:
            _, gw = _backward(gz, w, y, self.s, self.d, self.pads, self.g, False, True)
        if len(need) == 3:
            return gy, gw, (gz.sum(axis=_red_axes(gz.ndim - 2)) if need[2] else None)
        return gy, gw

    def backward(self, gz):
        need = self.needs_input_grad
        y, w = self.inputs[0], self.inputs[1]
        gy = ConvNd(self.s, self.d, self.pads, self.g)(gz, w) if need[0] else None
        gw = ConvWeightGradNd(self.s, self.d, self.pads, self.g, w.shape)(gz, y) if need[1] else None
        if len(need) == 3:
            return gy, gw, (gz.sum(dim=_red_axes(gz.ndim - 2)) if need[2] else None)
        return gy, gw


class ConvWeightGradNd(Function):
    """gw = dL/dw of ``ConvNd`` given x and the upstream gradient gy (bilinear in both)."""

    def __init__(self, stride, dilation, pads, groups, w_shape):
        self.s, self.d, self.pads, self.g, self.w_shape = stride, dilation, pads, groups, tuple(w_shape)

    def forward(self, x, gy):
        w = self.xp.empty(self.w_shape, dtype=gy.dtype)  # shape carrier only
        _, gw = _backward(x, w, gy, self.s, self.d, self.pads, self.g, False, True)
        return gw

    def backward_array(self, ggw):
        need = self.needs_input_grad
        x, gy = self.inputs[0]._data, self.inputs[1]._data
        gx = None
        if need[0]:
            gx, _ = _backward(None, ggw, gy, self.s, self.d, self.pads, self.g, True, False, x_shape=x.shape)
        ggy = _forward(x, ggw, None, self.s, self.d, self.pads, self.g) if need[1] else None
        return gx, ggy

    def backward(self, ggw):
        need = self.needs_input_grad
        x, gy = self.inputs
        gx = ConvTransposeNd(self.s, self.d, self.pads, self.g, x.shape[1:])(gy, ggw) if need[0] else None
        ggy = ConvNd(self.s, self.d, self.pads, self.g)(x, ggw) if need[1] else None
        return gx, ggy


class ConvFFT2d(ConvNd):
    """Stride-1 2-D cross-correlation computed in the frequency domain (textbook 9.8, FFT convolution):
    y = irfft2(sum_c rfft2(x_pad) * rfft2(rot180(w))) restricted to the valid part; zero-padding to the
    full linear size avoids circular wrap-around. Gradients use the direct kernels (same values)."""

    def __init__(self, pads):
        super().__init__((1, 1), (1, 1), pads, 1)

    def forward(self, x, w, b=None):
        import numpy as np

        xp = self.xp
        (lo0, hi0), (lo1, hi1) = self.pads
        xpad = xp.pad(x, ((0, 0), (0, 0), (lo0, hi0), (lo1, hi1)))
        hp, wp = xpad.shape[2:]
        kh, kw = w.shape[2:]
        fs = (hp + kh - 1, wp + kw - 1)
        xf = xp.fft.rfft2(xpad, s=fs)
        wf = xp.fft.rfft2(w[:, :, ::-1, ::-1], s=fs)
        if xp is np:
            yf = np.einsum("ncxy,ocxy->noxy", xf, wf, optimize=True)
        else:  # einsum's optimize= is NumPy's
            yf = xp.einsum("ncxy,ocxy->noxy", xf, wf)
        y = xp.fft.irfft2(yf, s=fs)[:, :, kh - 1:hp, kw - 1:wp]
        y = xp.ascontiguousarray(y, dtype=x.dtype)
        if b is not None:
            y += b[:, None, None]
        return y
