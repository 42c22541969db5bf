"""The old import path of the convolution kernels and their scratch cache, kept for code that imports it
(pooling imports ``out_size``, ``_pad_chunk``, ``_ws``, ``_padded_ws`` from here). New code imports from
shendu.ops._conv (plan, kernels by layout), shendu.ops._workspace (scratch buffers) and shendu.ops._tuning
(``conv_settings``, the thresholds that were module constants here).
"""
from __future__ import annotations

from ._conv import conv_backward as _backward
from ._conv import conv_forward as _forward
from ._conv import plan
from ._conv.col2im import col2im_add  # noqa: F401
from ._conv.geometry import chunk_size, out_size, window_view  # noqa: F401
from ._conv.nchw import im2col, im2col_items  # noqa: F401
from ._conv.nhwc import im2col_nhwc  # noqa: F401
from ._workspace import (  # noqa: F401
    _pad_chunk,
    _padded_ws,
    _ws,
    clear_workspace,
    constant,
    thread_buffers,
    workspace_bytes,  # noqa: F401
)


def conv_forward(x, w, b, s, d, pads, groups, keep=None):
    """y = conv(x, w) + b with the plan of these shapes (see shendu.ops._conv.conv_forward)."""
    return _forward(x, w, b, plan(x.shape, w.shape, s, d, pads, groups, x.dtype), keep)


def conv_backward(x, w, gy, s, d, pads, groups, need_x, need_w, x_shape=None):
    """(gx, gw) of y = conv(x, w) with the plan of these shapes (see shendu.ops._conv.conv_backward)."""
    shape = x.shape if x_shape is None else x_shape
    return _backward(x, w, gy, plan(shape, w.shape, s, d, pads, groups, gy.dtype), need_x, need_w, x_shape)
