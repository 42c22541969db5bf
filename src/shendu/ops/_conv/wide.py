"""Stride-1 2-D kernels on the zero-extended 'wide' grid: plan "wide-stride1" and the input-gradient route
"wide-col2im" (textbook 9.8, im2col + GEMM and its adjoint col2im).

On the padded input flattened per (n, c), the window of kernel tap (i, j) at output (h, w) starts at
h*Wp + w + i*d_h*Wp + j*d_w: if the output grid is extended to the padded width Wp, every tap's row of the
column matrix is ONE contiguous run of Ho*Wp values (runs of W_out otherwise). The columns w >= W_out read
wrapped taps: they are cropped from y and meet zero columns of gy in the gradients. Forward and weight
gradient use per-item matrices (nb, C*kh*kw, Ho*Wp) and batched GEMMs (y keeps its NCHW layout: no transposed
copy), in cache-sized chunks (``conv_settings.wide_chunk_bytes``); the input gradient (groups 1) one batched
GEMM into per-item blocks of Hp*Wp, so that each tap's col2im slice-add is one run over the chunk
(``_input_grad_flat``). Used for few channels (C*kw small), where NCHW's short runs dominate.
Reference: shendu.reference.conv.conv2d, conv2d_weight_grad, col2im and conv2d_input_grad.
"""
from __future__ import annotations

import math

from ...backend import namespace_of
from .._recycle import recycled_empty
from .._tuning import conv_settings
from .._workspace import _padded_ws, _ws
from .geometry import as_strided, chunk_size


def wide_cols(x, pads, k, d, osz, tag):
    """Per-item column matrices (nb, C*kh*kw, Ho*Wp) on the wide grid, column h*Wp + w for w < Wp (the padded
    width): each (n, c, i, j) row is one contiguous run of the padded input (a recycled buffer when ``tag`` is
    None, shendu.ops._recycle)."""
    xp = namespace_of(x)
    nb, c, h, w = x.shape
    (lo0, hi0), (lo1, hi1) = pads
    hp, wp = h + lo0 + hi0, w + lo1 + hi1
    slack = (k[1] - 1) * d[1]  # the last row's wrapped taps read past the end: a zero tail
    size = nb * c * hp * wp
    buf = _padded_ws("wide_x", (size + slack,), x.dtype, 0.0, (nb, c, hp, wp, tuple(pads)), x)
    xp.copyto(buf[:size].reshape(nb, c, hp, wp)[:, :, lo0:lo0 + h, lo1:lo1 + w], x)
    it = buf.itemsize
    shape = (nb, c, k[0], k[1], osz[0] * wp)
    view = as_strided(buf, shape, (c * hp * wp * it, hp * wp * it, d[0] * wp * it, d[1] * it, it))
    cols = _ws(tag, shape, x.dtype, x) if tag else recycled_empty(shape, x.dtype, x)
    xp.copyto(cols, view)
    return cols.reshape(nb, c * k[0] * k[1], osz[0] * wp)


def gy_wide(gy, n0, n1, wp, items_first=True):
    """gy[n0:n1] (m, O, Ho, Wo) zero-extended to the wide grid: (m, O, Ho*Wp), or (O, m*Ho*Wp) when not
    ``items_first``; the columns w >= Wo are zero (a reused buffer whose zero border is kept)."""
    m, (o, ho, wo) = n1 - n0, gy.shape[1:]
    src = gy[n0:n1]
    shape = (m, o, ho, wp)
    if not items_first:
        src, shape = src.transpose(1, 0, 2, 3), (o, m, ho, wp)
    gyw = _padded_ws("gy_wide", shape, gy.dtype, 0.0, (wo, items_first), gy)  # keyed by its zero border
    namespace_of(gy).copyto(gyw[..., :wo], src)
    return gyw.reshape(m, o, ho * wp) if items_first else gyw.reshape(o, m * ho * wp)


def _padded_width(x_shape, pads):
    return x_shape[3] + pads[1][0] + pads[1][1]


def _nb(x_shape, k, p, itemsize):
    return chunk_size(x_shape[0], x_shape[1] * k[0] * k[1] * math.prod(p.out) * itemsize,
                      conv_settings.wide_chunk_bytes or None)


def forward_wide(x, w, b, p, keep=None):
    """Plan "wide-stride1": y[n] = W @ wide cols[n] (+ b) per chunk, cropped to W_out. ``keep`` (a list)
    receives the whole batch's columns when the plan keeps them."""
    xp = namespace_of(x)
    n, c = x.shape[:2]
    o, k, (ho, wo) = w.shape[0], w.shape[2:], p.out
    wp = _padded_width(x.shape, p.pads)
    y = recycled_empty((n, o, ho, wo), x.dtype, x)
    wm = w.reshape(o, c * k[0] * k[1])
    if keep is not None and p.keep_cols:
        nb = n
    else:
        nb, keep = _nb(x.shape, k, p, x.itemsize), None
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        cols = wide_cols(x[n0:n1], p.pads, k, p.dilation, p.out, None if keep is not None else "cols")
        if keep is not None:
            keep.append(cols)
        out = _ws("out", (n1 - n0, o, ho * wp), x.dtype, x)
        xp.matmul(wm, cols, out=out)
        if b is not None:  # on the contiguous product: cheaper than in the cropping copy
            out += b[:, None]
        xp.copyto(y[n0:n1], out.reshape(n1 - n0, o, ho, wp)[..., :wo])
    return y


def weight_grad_wide(x, gy, w_shape, p, cols=None):
    """gW^T = sum_n cols[n] (C*kh*kw, Ho*Wp) @ gY_wide[n]^T (batched GEMMs, summed; this orientation was
    ~1.5x faster than gY_wide[n] @ cols[n]^T for LeNet's and mnist_cnn's convs); ``cols``: forward's whole batch."""
    xp = namespace_of(gy)
    n, o = gy.shape[:2]
    k = w_shape[2:]
    wp = _padded_width(x.shape, p.pads)
    if cols is not None:
        gwt = xp.matmul(cols, gy_wide(gy, 0, n, wp).transpose(0, 2, 1)).sum(axis=0)
    else:
        gwt = xp.zeros((x.shape[1] * k[0] * k[1], o), dtype=gy.dtype)
        nb = _nb(x.shape, k, p, gy.dtype.itemsize)
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            cm = wide_cols(x[n0:n1], p.pads, k, p.dilation, p.out, "cols")
            gwt += xp.matmul(cm, gy_wide(gy, n0, n1, wp).transpose(0, 2, 1)).sum(axis=0)
    return xp.ascontiguousarray(gwt.T).reshape(w_shape)


def input_grad_wide(w, gy, x_shape, p):
    """Route "wide-col2im": gcols = W^T @ gY_wide, then col2im on the wide grid, where each kernel tap's
    contribution is one contiguous run of the flattened padded gradient (the wrapped values are gy's zero
    columns); cropped by the padding. groups == 1: ``_input_grad_flat``."""
    if p.groups == 1:
        return _input_grad_flat(w, gy, x_shape, p)
    xp = namespace_of(gy)
    n, c = x_shape[:2]
    o, k, d, pads, g = w.shape[0], w.shape[2:], p.dilation, p.pads, p.groups
    og = o // g
    w2 = w.reshape(g, og, -1)
    hp, wp = x_shape[2] + pads[0][0] + pads[0][1], _padded_width(x_shape, pads)
    L = p.out[0] * wp
    dt = gy.dtype
    slack = (k[1] - 1) * d[1]
    gx = recycled_empty(x_shape, dt, gy)
    nb = _nb(x_shape, k, p, dt.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        m = n1 - n0
        gyw = gy_wide(gy, n0, n1, wp, items_first=False).reshape(g, og, m * L)
        gcols = xp.matmul(w2.transpose(0, 2, 1), gyw).reshape((c,) + tuple(k) + (m, L))
        gxf = _ws("gx_wide", (m, c, hp * wp + slack), dt, gy)
        gxf.fill(0)
        for i in range(k[0]):
            for j in range(k[1]):
                off = i * d[0] * wp + j * d[1]
                gxf[:, :, off:off + L] += gcols[:, i, j].transpose(1, 0, 2)
        _crop_into(gx[n0:n1], gxf[:, :, :hp * wp].reshape(m, c, hp, wp), x_shape, pads)
    return gx


def _crop_into(gx, full, x_shape, pads):
    """gx (m, C, H, W) = the interior of the padded gradient ``full`` (m, C, Hp, Wp) (any layout)."""
    namespace_of(gx).copyto(gx, full[:, :, pads[0][0]:pads[0][0] + x_shape[2], pads[1][0]:pads[1][0] + x_shape[3]])


def _input_grad_flat(w, gy, x_shape, p):
    """"wide-col2im" for groups == 1 with every kernel tap's slice-add ONE run over the whole chunk: gcols
    (C*kh*kw, m, Hp*Wp) holds item n's Ho*Wp wide-grid values at the start of its Hp*Wp block (the rest stays
    zero), written there by one batched GEMM W^T @ gY_wide[n] (strided output, no copy); then tap (i, j) adds
    gcols[(c, i, j)] into the flat (C, m*Hp*Wp) gradient at offset i*d_h*Wp + j*d_w (a tap's reach ends inside
    its item's block: Ho*Wp + (kh-1)*d_h*Wp = Hp*Wp). Chunks of ``conv_settings.flat_col2im_bytes``. LeNet's
    conv2 (6 <- 16, 5x5, 10x10, batch 64, 1 thread, 2026-11-30): its 25 slice-adds 0.65 -> 0.24 ms, the whole
    input gradient 1.36 -> 0.82 ms alone (cache-warm), 1.6-1.9 -> 1.42 ms inside training steps."""
    xp = namespace_of(gy)
    n, c = x_shape[:2]
    o, k, d, pads = w.shape[0], w.shape[2:], p.dilation, p.pads
    kk = k[0] * k[1]
    hp, wp = x_shape[2] + pads[0][0] + pads[0][1], _padded_width(x_shape, pads)
    S, L = hp * wp, p.out[0] * wp
    dt = gy.dtype
    slack = (k[1] - 1) * d[1]
    wt = w.reshape(o, c * kk).T  # (C*kh*kw, O)
    gx = recycled_empty(x_shape, dt, gy)
    nb = chunk_size(n, c * kk * S * dt.itemsize, conv_settings.flat_col2im_bytes)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        m = n1 - n0
        gyw = gy_wide(gy, n0, n1, wp)
        gcols = _padded_ws("gcols_flat", (c * kk, m, S), dt, 0.0, (L,), gy)  # columns >= L stay zero
        xp.matmul(wt, gyw, out=gcols.transpose(1, 0, 2)[:, :, :L])
        taps = gcols.reshape(c, kk, m * S)
        gxf = _ws("gx_flat", (c, m * S + slack), dt, gy)
        xp.copyto(gxf[:, :m * S], taps[:, 0])  # tap (0, 0): offset 0
        gxf[:, m * S:] = 0
        T = (m - 1) * S + L  # the last item's block is zero from L on: the adds stop there
        for t in range(1, kk):
            off = (t // k[1]) * d[0] * wp + (t % k[1]) * d[1]
            gxf[:, off:off + T] += taps[:, t, :T]
        _crop_into(gx[n0:n1], gxf[:, :m * S].reshape(c, m, hp, wp).transpose(1, 0, 2, 3), x_shape, pads)
    return gx
