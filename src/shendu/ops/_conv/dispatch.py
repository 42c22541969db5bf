"""Running a convolution plan (issue 22): forward, input gradient and weight gradient each look up the
kernel their plan names (shendu.ops._conv.plan) in one table. A new plan adds its kernels here.

Kernel signatures: forward(x, w, b, plan, keep) -> y; input_grad(w, gy, x_shape, plan) -> gx;
weight_grad(x, gy, w_shape, plan, cols) -> gw, where ``cols`` is the forward pass's kept column matrix
(``plan.keep_cols``) or None. Reference (the oracle of every kernel): shendu.reference.conv.
"""
from __future__ import annotations

from ...backend import namespace_of
from . import col2im, half, nchw, nhwc, wide, winograd
from .plan import plan as make_plan

FORWARD = {
    "nchw-gemm": nchw.forward_nchw,
    "item-gemm": nchw.forward_items,
    "nhwc-gemm": nhwc.forward_nhwc,
    "nhwc-items": nhwc.forward_nhwc_items,
    "wide-stride1": wide.forward_wide,
    "winograd": winograd.forward_winograd,
}
WEIGHT_GRAD = {
    "nchw-gemm": nchw.weight_grad_nchw,
    "item-gemm": nchw.weight_grad_items,
    "nhwc-gemm": nhwc.weight_grad_nhwc,
    "nhwc-items": nhwc.weight_grad_nhwc_items,
    "wide-stride1": wide.weight_grad_wide,
    "winograd": winograd.weight_grad_winograd,
}


def input_grad_rot180(w, gy, x_shape, p):
    """Routes "rot180-corr"/"rot180-fused" (gx alone): the stride-1 input gradient as the 'full' correlation
    of gy with the rot180 kernel, in/out channels swapped per group (the seeds' delta^{l-1} =
    pad(delta^l) * rot180(w); reference conv2d_input_grad_rot180), run as a forward convolution of its own plan."""
    xp = namespace_of(w)
    g, k = p.groups, w.shape[2:]
    nd, o, cg = len(k), w.shape[0], w.shape[1]
    wf = xp.flip(w, tuple(range(2, 2 + nd))).reshape((g, o // g, cg) + tuple(k))
    wf = xp.ascontiguousarray(wf.transpose((0, 2, 1) + tuple(range(3, 3 + nd)))).reshape((g * cg, o // g) + tuple(k))
    q = make_plan(gy.shape, wf.shape, p.stride, p.dilation, p.full_pads, g, gy.dtype)
    return FORWARD[q.name](gy, wf, None, q)


INPUT_GRAD = {
    "gemm-col2im": col2im.input_grad_col2im,
    "wide-col2im": wide.input_grad_wide,
    "half-col2im": half.input_grad_half,
    "rot180-corr": input_grad_rot180,
    "rot180-fused": input_grad_rot180,
    "winograd": winograd.input_grad_winograd,
}


def conv_forward(x, w, b, p, keep=None):
    """y = conv(x, w) + b by plan ``p``: x (N, C, *sp), w (O, C/g, *k), b (O,) or None -> (N, O, *out).
    ``keep``: a list that receives the column matrix when the plan keeps it (grad mode)."""
    return FORWARD[p.name](x, w, b, p, keep)


def conv_input_grad(w, gy, x_shape, p):
    """gx = dL/dx (x_shape) of y = conv(x, w) for upstream gy (N, O, *out), by ``p.input_grad``."""
    return INPUT_GRAD[p.input_grad](w, gy, tuple(x_shape), p)


def conv_weight_grad(x, gy, w_shape, p, cols=None):
    """gw = dL/dw (w_shape) of y = conv(x, w) for upstream gy, by ``p.weight_grad`` (kept ``cols`` if given)."""
    return WEIGHT_GRAD[p.weight_grad](x, gy, tuple(w_shape), p, cols)


def conv_backward(x, w, gy, p, need_x, need_w, x_shape=None, cols=None):
    """(gx, gw) of y = conv(x, w): the fused rot180 plan computes both from one im2col when both are needed,
    else the two gradient functions. ``x`` may be None when only gx is needed (``x_shape`` gives its shape)."""
    if need_x and need_w and p.input_grad == "rot180-fused" and cols is None:
        return nhwc.rot180_fused(x, w, gy, p)
    gw = conv_weight_grad(x, gy, w.shape, p, cols) if need_w else None
    gx = conv_input_grad(w, gy, x.shape if x_shape is None else x_shape, p) if need_x else None
    return gx, gw
