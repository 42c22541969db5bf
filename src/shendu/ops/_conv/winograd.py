"""Plan "winograd": the convolution kernels of shendu.ops._winograd (Winograd minimal filtering F(m x m, r x r),
textbook 9.8 efficient convolution; Lavin & Gray 2015) behind the planner's kernel signatures. The planner picks
it for stride-1, dilation-1, groups-1 2-D 3x3/5x5 convolutions with enough channels (``conv_settings.winograd*``).
Reference (the oracle in tests/reference/test_conv.py): shendu.reference.conv.conv2d, conv2d_input_grad,
conv2d_weight_grad.
"""
from __future__ import annotations

from .. import _winograd


def applies(x_shape, w_shape, stride, dilation, groups) -> bool:
    """Whether the winograd kernels take this convolution (2-D, stride/dilation/groups 1, 3x3 or 5x5, channels)."""
    return len(w_shape) == 4 and _winograd.choose_m(x_shape, w_shape, stride, dilation, groups) is not None


def forward_winograd(x, w, b, p, keep=None):
    """y = conv(x, w) + b by F(m, r) tiles; keeps no columns."""
    y = _winograd.conv2d_forward(x, w, p.pads)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def input_grad_winograd(w, gy, x_shape, p):
    """gx: the 'full' correlation of gy with the rot180 kernel, channels swapped, by F(m, r) tiles."""
    return _winograd.conv2d_input_grad(gy, w, p.pads, x_shape)


def weight_grad_winograd(x, gy, w_shape, p, cols=None):
    """gw by F(r, m) tiles (kernel and output tile roles swapped); ``cols`` is unused (winograd keeps none)."""
    return _winograd.conv2d_weight_grad(x, gy, p.pads, w_shape)
