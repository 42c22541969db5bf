"""The convolution planner (issue 22): one function, ``plan``, picks the kernel layout of a convolution
from its shapes and the thresholds in ``conv_settings`` (shendu.ops._tuning), and names it. Forward and
backward then run the named plan instead of re-deciding from switches.

Forward kernels (``ConvPlan.name``; all compute shendu.reference.conv.conv2d, textbook 9.8 im2col + GEMM):

- "nhwc-gemm": channels-last column matrices (N*out, k*C) @ W rows; many channels (C*kw >= nhwc_min_ckw).
- "item-gemm": per-item NCHW column matrices, one batched GEMM W @ cols[n] (writes y in NCHW directly);
  fewer channels, at least ``item_min_out`` output positions.
- "nhwc-items": per-item channels-last column matrices, one batched GEMM W @ cols[n]^T (writes y in NCHW
  directly), the columns kept for the weight gradient; where the wide grid qualifies and C*kw >=
  ``nhwc.ITEMS_MIN_CKW`` (LeNet's conv2).
- "wide-stride1": stride-1 2-D columns on the zero-extended 'wide' grid (runs of Ho*Wp); few channels and
  small outputs (C*kw below ``nhwc.ITEMS_MIN_CKW``); cache-sized chunks, built again for the weight gradient
  (``wide_chunk_bytes``).
- "nchw-gemm": NCHW column matrices (C*k, N*out) for a batch chunk, one GEMM per group (the general case).
- "winograd": stride-1 2-D 3x3/5x5 convolutions with enough channels as Winograd F(m x m, r x r) tiles
  (shendu.ops._winograd; ``conv_settings.winograd*``); its gradients are Winograd too where they qualify.

Input-gradient routes (``input_grad``; reference conv2d_input_grad / conv2d_input_grad_rot180):
"rot180-corr" (stride 1, many channels: a forward correlation of the padded gy with the rot180 kernel),
"rot180-fused" (the same, and when the weight gradient is needed too, both from one set of gy's columns),
"wide-col2im" (stride-1 2-D: GEMM then slice-adds of whole rows on the wide grid), "half-col2im" (stride-1
2-D groups-1 with few output channels, ``half.applies``: the kernel width folded into the GEMM through kw
shifted copies of gy, then kh row slice-adds; LeNet's conv2), "gemm-col2im" (GEMM then
one strided slice-add per kernel tap), "winograd" (the full correlation by Winograd tiles). Weight-gradient
route (``weight_grad``; reference conv2d_weight_grad):
the forward layout, from the forward pass's kept columns when ``keep_cols``.

An extra plan is one more branch at the top of ``_forward_layout`` (as "winograd") plus its kernels in the
tables of shendu.ops._conv.dispatch.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._tuning import conv_settings
from . import half, nhwc, winograd
from .geometry import out_shape


class ConvPlan(NamedTuple):
    """A convolution's kernels: forward layout ``name``, the ``input_grad`` and ``weight_grad`` routes, whether
    forward keeps its column matrices for the weight gradient, and the geometry (per spatial dim)."""

    name: str
    input_grad: str
    weight_grad: str
    keep_cols: bool
    stride: tuple
    dilation: tuple
    pads: tuple  # ((lo, hi), ...)
    groups: int
    out: tuple  # output spatial shape
    full_pads: tuple  # pads of the 'full' correlation giving the input gradient (rot180 routes)


def _wide_ok(x_shape, k, s, groups, pads, d, itemsize):
    """Stride-1 2-D groups=1 convs with few channels, when the output rows are short or the whole batch's
    wide columns fit in keep_cols_bytes (measured: LeNet's convs gain, CIFAR conv1 (W_out=24, 4 chunks) loses)."""
    st = conv_settings
    c = x_shape[1]
    if not (st.wide and len(k) == 2 and tuple(s) == (1, 1) and groups == 1 and c * k[-1] < st.wide_max_ckw):
        return False
    wp = x_shape[3] + pads[1][0] + pads[1][1]
    wo = wp - d[1] * (k[1] - 1)
    ho = x_shape[2] + pads[0][0] + pads[0][1] - d[0] * (k[0] - 1)
    return wo < st.wide_max_wout or x_shape[0] * c * k[0] * k[1] * ho * wp * itemsize <= st.keep_cols_bytes


def _winograd_ok(x_shape, w_shape, s, d, groups, dtype):
    return (conv_settings.winograd and np.dtype(dtype) in (np.float32, np.float64)
            and winograd.applies(x_shape, w_shape, s, d, groups))


def _forward_layout(x_shape, w_shape, k, s, d, pads, groups, po, dtype):
    st = conv_settings
    c = x_shape[1]
    itemsize = np.dtype(dtype).itemsize
    if _winograd_ok(x_shape, w_shape, s, d, groups, dtype):
        return "winograd"
    if groups == 1 and st.nhwc and c * k[-1] >= st.nhwc_min_ckw:
        return "nhwc-gemm"
    if groups == 1 and po >= st.item_min_out:
        return "item-gemm"
    if _wide_ok(x_shape, k, s, groups, pads, d, itemsize):
        return "nhwc-items" if c * k[-1] >= nhwc.ITEMS_MIN_CKW else "wide-stride1"
    return "nchw-gemm"


def _input_grad_route(x_shape, w_shape, s, d, groups, fpads, dtype):
    st = conv_settings
    c, o, k = x_shape[1], w_shape[0], w_shape[2:]
    if _winograd_ok((x_shape[0], o) + tuple(x_shape[2:]), (c, o) + tuple(k), s, d, groups, dtype):
        return "winograd"  # the full correlation: a conv of gy (O channels) with the rot180 kernel (O -> C)
    stride1 = all(v == 1 for v in s)
    if st.rot180 and c >= st.rot180_min_channels and stride1 and all(lo >= 0 and hi >= 0 for lo, hi in fpads):
        fused = (st.fused_rot180 and groups == 1 and st.nhwc and o * k[-1] >= st.nhwc_min_ckw
                 and all(v == 1 for v in d))
        return "rot180-fused" if fused else "rot180-corr"
    if len(k) == 2 and stride1 and groups == 1 and half.applies(c, o, k):
        return "half-col2im"
    if len(k) == 2 and stride1 and st.wide_col2im:
        return "wide-col2im"
    return "gemm-col2im"


_PLANS: dict = {}


def plan(x_shape, w_shape, stride, dilation, pads, groups, dtype=np.float32, device=None) -> ConvPlan:
    """The plan of y = conv(x, w): x (N, C, *sp), w (O, C/groups, *k), per-dim ``stride``, ``dilation`` and
    ``pads`` ((lo, hi), ...). ``dtype`` sizes the column matrices; ``device`` (None: the host) is where a
    device-specific plan would be chosen (every plan today runs on NumPy and CuPy alike). Plans are cached
    per arguments, ``conv_settings.version`` and the kernels' module constants the planner reads (a training
    step plans the same shapes each time: ~10 us)."""
    try:
        key = (tuple(x_shape), tuple(w_shape), tuple(stride), tuple(dilation), tuple(map(tuple, pads)), groups,
               np.dtype(dtype), device, conv_settings.version, nhwc.ITEMS_MIN_CKW, half.ENABLED)
        p = _PLANS.get(key)
    except TypeError:  # unhashable argument: plan without the cache
        key = p = None
    if p is None:
        p = _make_plan(x_shape, w_shape, stride, dilation, pads, groups, dtype)
        if key is not None:
            if len(_PLANS) >= 256:
                _PLANS.clear()
            _PLANS[key] = p
    return p


def _make_plan(x_shape, w_shape, stride, dilation, pads, groups, dtype):
    k = tuple(w_shape[2:])
    nd = len(k)
    s, d = tuple(stride), tuple(dilation)
    pads = tuple((int(lo), int(hi)) for lo, hi in pads)
    if len(x_shape) != nd + 2 or len(s) != nd or len(d) != nd or len(pads) != nd:
        raise ValueError(f"conv plan: input {tuple(x_shape)}, weight {tuple(w_shape)}, stride {s}, dilation {d} and "
                         f"pads {pads} disagree on the number of spatial dims ({nd} from the weight)")
    n, c = x_shape[:2]
    osz = out_shape(x_shape, k, s, d, pads)
    po, kk = math.prod(osz), math.prod(k)
    itemsize = np.dtype(dtype).itemsize
    name = _forward_layout(x_shape, w_shape, k, s, d, pads, groups, po, dtype)
    if name == "wide-stride1":
        cols_bytes = n * c * kk * osz[0] * (x_shape[3] + pads[1][0] + pads[1][1]) * itemsize
    else:
        cols_bytes = n * c * kk * po * itemsize
    keep = name not in ("nhwc-gemm", "winograd") and cols_bytes <= conv_settings.keep_cols_bytes
    if name == "wide-stride1" and conv_settings.wide_chunk_bytes:
        keep = False  # cache-sized chunks, built again for the weight gradient
    fpads = tuple((d[a] * (k[a] - 1) - pads[a][0], d[a] * (k[a] - 1) - pads[a][1]) for a in range(nd))
    ig = _input_grad_route(x_shape, w_shape, s, d, groups, fpads, dtype)
    return ConvPlan(name, ig, name, keep, s, d, pads, groups, osz, fpads)
