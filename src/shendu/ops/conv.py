"""N-d convolution ops (textbook 9.1-9.2, 9.5, 9.8; the seeds' CNN back-propagation with rot180).

Cross-correlation as PyTorch: y[n, o, p] = b[o] + sum_{c, i} w[o, c, i] x[n, g*C/g + c, p*s + i*d - pad_lo].
Layout NC* (NCHW for 2-D): x (N, C, *sp), w (O, C/groups, *k), b (O,), y (N, O, *out).

Three mutually adjoint Functions, so gradients of every order come from the same kernels:
``ConvNd`` (y from x, w), ``ConvTransposeNd`` (the input gradient, i.e. the transposed
convolution: the rot180 rule of the seeds) and ``ConvWeightGradNd`` (the kernel gradient,
the correlation of x with the upstream gradient). All three run one convolution plan
(shendu.ops._conv.plan: the kernel layout and gradient routes chosen from the shapes); built by
``planned(...)``, a node's class name carries its route, so profilers show e.g. "ConvNd[nhwc-gemm]".
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.grad_mode import _Mode
from ..backend import namespace_of
from ._conv import conv_backward, conv_forward, conv_input_grad, conv_weight_grad, plan

_LABELLED = {}


def _labelled(cls, route):
    """The subclass of ``cls`` named "cls[route]" (one per route), so the profiler's per-op table shows the plan."""
    sub = _LABELLED.get((cls, route))
    if sub is None:
        sub = _LABELLED[(cls, route)] = type(f"{cls.__name__}[{route}]", (cls,), {"__module__": cls.__module__})
    return sub


def _red_axes(nd):
    return (0,) + tuple(range(2, 2 + nd))


def _bias_grad(gy):
    """dL/db (O,) = sum of gy (N, O, *out) over the batch and the positions: over N first, then over the
    contiguous positions (NumPy's one reduction over axes (0, 2, ..) took 2-3x as long: LeNet's two conv bias
    gradients 0.093 -> 0.038 ms)."""
    n, o = gy.shape[:2]
    size = 1
    for v in gy.shape[2:]:
        size *= v
    return gy.reshape(n, o, size).sum(axis=0).sum(axis=1)


def _forward(x, w, b, p, keep=None):
    """conv_forward, or the empty (0, O, *out) result of an empty batch (as PyTorch)."""
    if x.shape[0]:
        return conv_forward(x, w, b, p, keep)
    return namespace_of(w).zeros((0, w.shape[0]) + p.out, dtype=w.dtype)


def _zeros_if_empty(gy, shape, need):
    """Zero gradients for an empty batch (nothing flows back from no samples), else None."""
    return namespace_of(gy).zeros(shape, dtype=gy.dtype) if need else None


class _Planned(Function):
    """A convolution node with its geometry and plan (the plan is made at the first forward if not given)."""

    route = "name"  # the plan field this op runs (its profiler label)

    def __init__(self, stride, dilation, pads, groups, plan=None):
        self.s, self.d, self.pads, self.g, self.plan = stride, dilation, pads, groups, plan

    @classmethod
    def planned(cls, p, *args):
        """A node of this op for plan ``p`` (shendu.ops._conv.plan), its class labelled with the route it runs."""
        return _labelled(cls, getattr(p, cls.route))(p.stride, p.dilation, p.pads, p.groups, *args, plan=p)

    def _plan_for(self, x_shape, w_shape, dtype):
        if self.plan is None:
            self.plan = plan(x_shape, w_shape, self.s, self.d, self.pads, self.g, dtype)
        return self.plan


class ConvNd(_Planned):
    """y = conv(x, w) (+ b); see the module docstring."""

    def forward(self, x, w, b=None):
        p = self._plan_for(x.shape, w.shape, x.dtype)
        keep = [] if p.keep_cols and _Mode.grad_enabled else None
        y = _forward(x, w, b, p, keep)
        if keep:
            self.saved = keep[0]
        return y

    def backward_array(self, gy):
        need = self.needs_input_grad
        x, w = self.inputs[0]._data, self.inputs[1]._data
        if gy.shape[0]:
            gx, gw = conv_backward(x, w, gy, self.plan, need[0], need[1], cols=self.saved)
        else:
            gx, gw = _zeros_if_empty(gy, x.shape, need[0]), _zeros_if_empty(gy, w.shape, need[1])
        if len(need) == 3:
            return gx, gw, (_bias_grad(gy) if need[2] else None)
        return gx, gw

    def backward(self, gy):
        need = self.needs_input_grad
        x, w = self.inputs[0], self.inputs[1]
        p = self.plan
        gx = ConvTransposeNd.planned(p, x.shape[1:])(gy, w) if need[0] else None
        gw = ConvWeightGradNd.planned(p, w.shape)(x, gy) if need[1] else None
        if len(need) == 3:
            return gx, gw, (gy.sum(dim=_red_axes(gy.ndim - 2)) if need[2] else None)
        return gx, gw


class ConvTransposeNd(_Planned):
    """x = conv^T(y, w) (+ b): the adjoint of ``ConvNd`` in its input (its input gradient); ``x_shape`` is
    (C, *sp) of the result (its batch size is y's). The plan is the one of the convolution it is adjoint to."""

    route = "input_grad"

    def __init__(self, stride, dilation, pads, groups, x_shape, plan=None):
        super().__init__(stride, dilation, pads, groups, plan)
        self.x_shape = tuple(x_shape)

    def forward(self, y, w, b=None):
        shape = (y.shape[0],) + self.x_shape
        p = self._plan_for(shape, w.shape, y.dtype)
        gx = conv_input_grad(w, y, shape, p) if shape[0] else _zeros_if_empty(y, shape, True)
        if b is not None and shape[0]:
            gx.reshape(shape[0], shape[1], -1)[...] += b[:, None]
        return gx

    def backward_array(self, gz):
        need = self.needs_input_grad
        y, w = self.inputs[0]._data, self.inputs[1]._data
        p = self.plan
        gy = _forward(gz, w, None, p) if need[0] else None
        gw = None
        if need[1]:
            gw = conv_weight_grad(gz, y, w.shape, p) if gz.shape[0] else _zeros_if_empty(y, w.shape, True)
        if len(need) == 3:
            return gy, gw, (_bias_grad(gz) if need[2] else None)
        return gy, gw

    def backward(self, gz):
        need = self.needs_input_grad
        y, w = self.inputs[0], self.inputs[1]
        p = self.plan
        gy = ConvNd.planned(p)(gz, w) if need[0] else None
        gw = ConvWeightGradNd.planned(p, w.shape)(gz, y) if need[1] else None
        if len(need) == 3:
            return gy, gw, (gz.sum(dim=_red_axes(gz.ndim - 2)) if need[2] else None)
        return gy, gw


class ConvWeightGradNd(_Planned):
    """gw = dL/dw of ``ConvNd`` given x and the upstream gradient gy (bilinear in both)."""

    route = "weight_grad"

    def __init__(self, stride, dilation, pads, groups, w_shape, plan=None):
        super().__init__(stride, dilation, pads, groups, plan)
        self.w_shape = tuple(w_shape)

    def forward(self, x, gy):
        p = self._plan_for(x.shape, self.w_shape, x.dtype)
        if not x.shape[0]:
            return _zeros_if_empty(gy, self.w_shape, True)
        return conv_weight_grad(x, gy, self.w_shape, p)

    def backward_array(self, ggw):
        need = self.needs_input_grad
        x, gy = self.inputs[0]._data, self.inputs[1]._data
        p = self.plan
        gx = None
        if need[0]:
            gx = conv_input_grad(ggw, gy, x.shape, p) if x.shape[0] else _zeros_if_empty(gy, x.shape, True)
        ggy = _forward(x, ggw, None, p) if need[1] else None
        return gx, ggy

    def backward(self, ggw):
        need = self.needs_input_grad
        x, gy = self.inputs
        p = self.plan
        gx = ConvTransposeNd.planned(p, x.shape[1:])(gy, ggw) if need[0] else None
        ggy = ConvNd.planned(p)(x, ggw) if need[1] else None
        return gx, ggy


class ConvFFT2d(ConvNd):
    """Stride-1 2-D cross-correlation computed in the frequency domain (textbook 9.8, FFT convolution):
    y = irfft2(sum_c rfft2(x_pad) * rfft2(rot180(w))) restricted to the valid part; zero-padding to the
    full linear size avoids circular wrap-around. Gradients use the planned direct kernels (same values)."""

    def __init__(self, pads):
        super().__init__((1, 1), (1, 1), pads, 1)

    def forward(self, x, w, b=None):
        import numpy as np

        self._plan_for(x.shape, w.shape, x.dtype)
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
