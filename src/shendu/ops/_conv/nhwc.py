"""Channels-last column-matrix kernels, plans "nhwc-gemm" and "nhwc-items" and the input-gradient route
"rot180-fused" (textbook 9.8 im2col + GEMM; the seeds' rot180 rule for the input gradient).

A chunk is copied once to channels-last (nb, *sp_pad, C); its column matrix (nb*prod(out), prod(k)*C) has
rows (n, o..) and columns (k.., c), so each row is built from runs of kw*C contiguous values (~4x faster
than NCHW's runs of W_out for C=64, 5x5). "nhwc-gemm": y = cols @ W rows (prod(k)*C, O), one GEMM per chunk.
"nhwc-items" (few channels, small outputs): per-item products y[n] = W (O, prod(k)*C) @ cols[n]^T, one
batched GEMM that writes y in NCHW directly, and gW = sum_n gY[n] @ cols[n] from the forward pass's kept
columns. Reference: shendu.reference.conv.conv2d, conv2d_weight_grad and conv2d_input_grad_rot180.
"""
from __future__ import annotations

import math

from ...backend import namespace_of
from .._recycle import recycled_empty
from .._workspace import _padded_ws, _ws
from .geometry import as_strided, chunk_size

ITEMS_MIN_CKW = 6
"""Plan "nhwc-items" replaces "wide-stride1" (shendu.ops._conv.plan) from this C*kw on: below it the rows of
kw*C values are too short. Kernels alone (1 thread, 2026-11-30, ``python benchmarks/kernels_ab.py --routes``):
forward + weight gradient 0.58-0.97x the wide plan's time on eight shapes with C*kw from 15 to 30 (LeNet's
conv2, 6 -> 16 5x5 on 14x14: 1.81 -> 1.12 ms), 1.53x for C=1 3x3. In training steps, ``python
benchmarks/kernels_ab.py --only lenet --repeat 41 --const shendu.ops._conv.nhwc.ITEMS_MIN_CKW=1000000`` (LeNet's
conv2 back on the wide grid): 1.09x the step time."""


def nhwc_chunk(x, pads, tag):
    """Channels-last padded copy (nb, *sp_pad, C) of x (nb, C, *sp) in a reused buffer (zero border)."""
    nd = x.ndim - 2
    shape = (x.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)) + (x.shape[1],)
    buf = _padded_ws(tag, shape, x.dtype, 0.0, tuple(pads), x)
    inner = (slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads)) + (slice(None),)
    namespace_of(x).copyto(buf[inner], x.transpose((0,) + tuple(range(2, 2 + nd)) + (1,)))
    return buf


def im2col_nhwc(xh, k, s, d, osz, tag="cols_nhwc"):
    """Row-per-output column matrix (nb*prod(out), prod(k)*C) of a channels-last padded chunk; rows (n, o..),
    columns (k.., c): copies runs of kw*C contiguous values when the dilation is 1 (a recycled buffer when
    ``tag`` is None, shendu.ops._recycle)."""
    nd = len(k)
    st = xh.strides
    nb, c = xh.shape[0], xh.shape[-1]
    shape = (nb,) + tuple(osz) + tuple(k) + (c,)
    strides = (st[0],) + tuple(st[1 + a] * s[a] for a in range(nd)) + tuple(st[1 + a] * d[a] for a in range(nd)) \
        + (st[-1],)
    win = as_strided(xh, shape, strides)
    cols = recycled_empty(shape, xh.dtype, xh) if tag is None else _ws(tag, shape, xh.dtype, xh)
    namespace_of(xh).copyto(cols, win)
    return cols.reshape(nb * math.prod(osz), math.prod(k) * c)


def w_rows(w):
    """w (O, C, *k) -> (prod(k)*C, O) with rows (k.., c), matching im2col_nhwc's columns."""
    nd = w.ndim - 2
    return namespace_of(w).ascontiguousarray(w.transpose(tuple(range(2, 2 + nd)) + (1, 0))).reshape(-1, w.shape[0])


def forward_nhwc(x, w, b, p, keep=None):
    """Plan "nhwc-gemm": y = cols @ W rows per chunk, copied to (N, O, *out), + b. Keeps no columns."""
    xp = namespace_of(x)
    n, c = x.shape[:2]
    o, k, osz = w.shape[0], w.shape[2:], p.out
    po = math.prod(osz)
    y = xp.empty((n, o) + osz, dtype=x.dtype)
    y3 = y.reshape(n, o, po)
    wr = w_rows(w)
    nb = chunk_size(n, c * math.prod(k) * po * x.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        cols = im2col_nhwc(nhwc_chunk(x[n0:n1], p.pads, "xnhwc"), k, p.stride, p.dilation, osz)
        out = _ws("out", (cols.shape[0], o), x.dtype, x)
        xp.matmul(cols, wr, out=out)
        xp.copyto(y3[n0:n1], out.reshape(n1 - n0, po, o).transpose(0, 2, 1))
    if b is not None:
        y3 += b[:, None]
    return y


def weight_grad_nhwc(x, gy, w_shape, p, cols=None):
    """gW rows (prod(k)*C, O) = sum over chunks of cols^T @ gY rows (nb*out, O), as (O, C, *k)."""
    xp = namespace_of(gy)
    n, o = gy.shape[:2]
    c, k = x.shape[1], w_shape[2:]
    nd, po, dt = len(k), math.prod(p.out), gy.dtype
    gy3 = gy.reshape(n, o, po)
    gwr = xp.zeros((math.prod(k) * c, o), dtype=dt)
    nb = chunk_size(n, c * math.prod(k) * po * dt.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        cm = im2col_nhwc(nhwc_chunk(x[n0:n1], p.pads, "xnhwc"), k, p.stride, p.dilation, p.out)
        gyr = _ws("gyr", (n1 - n0, po, o), dt, gy)
        xp.copyto(gyr, gy3[n0:n1].transpose(0, 2, 1))
        gwr += cm.T @ gyr.reshape(-1, o)
    return xp.ascontiguousarray(gwr.reshape(tuple(k) + (c, o)).transpose((nd + 1, nd) + tuple(range(nd))))


def forward_nhwc_items(x, w, b, p, keep=None):
    """Plan "nhwc-items": y[n] (O, out) = W (O, prod(k)*C) @ cols[n]^T per chunk, one batched GEMM writing y
    (N, O, *out) directly (+ b). ``keep`` (a list) receives the whole batch's columns (nb, out, prod(k)*C) when
    the plan keeps them, else chunks of ``conv_settings.workspace_bytes``."""
    xp = namespace_of(x)
    n, c = x.shape[:2]
    o, k, osz = w.shape[0], w.shape[2:], p.out
    po = math.prod(osz)
    y = recycled_empty((n, o) + osz, x.dtype, x)
    y3 = y.reshape(n, o, po)
    wt = w_rows(w).T  # (O, prod(k)*C), a transposed view: ~2.5x faster batched GEMMs than a contiguous copy
    if keep is not None and p.keep_cols:
        nb = n
    else:
        nb, keep = chunk_size(n, c * math.prod(k) * po * x.itemsize), None
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        cols = im2col_nhwc(nhwc_chunk(x[n0:n1], p.pads, "xnhwc"), k, p.stride, p.dilation, osz,
                           None if keep is not None else "cols_nhwc").reshape(n1 - n0, po, -1)
        if keep is not None:
            keep.append(cols)
        xp.matmul(wt, cols.transpose(0, 2, 1), out=y3[n0:n1])
    if b is not None:
        y3 += b[:, None]
    return y


def weight_grad_nhwc_items(x, gy, w_shape, p, cols=None):
    """gW (O, prod(k)*C) = sum_n gY[n] (O, out) @ cols[n] (out, prod(k)*C), batched GEMMs summed, as (O, C, *k);
    ``cols``: the forward pass's whole-batch columns, else built again per chunk."""
    xp = namespace_of(gy)
    n, o = gy.shape[:2]
    c, k = x.shape[1], w_shape[2:]
    nd, po = len(k), math.prod(p.out)
    gy3 = gy.reshape(n, o, po)
    if cols is not None:
        gw = xp.matmul(gy3, cols).sum(axis=0)
    else:
        gw = xp.zeros((o, math.prod(k) * c), dtype=gy.dtype)
        nb = chunk_size(n, c * math.prod(k) * po * gy.dtype.itemsize)
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            cm = im2col_nhwc(nhwc_chunk(x[n0:n1], p.pads, "xnhwc"), k, p.stride, p.dilation, p.out)
            gw += xp.matmul(gy3[n0:n1], cm.reshape(n1 - n0, po, -1)).sum(axis=0)
    gw = gw.reshape((o,) + tuple(k) + (c,))
    return xp.ascontiguousarray(gw.transpose((0, nd + 1) + tuple(range(1, nd + 1))))


def rot180_fused(x, w, gy, p):
    """Route "rot180-fused": (gx, gw) of a stride-1, dilation-1, groups=1 conv from one set of channels-last
    column matrices of the 'full'-padded gy: gx = cols @ rot180(w) rows (the full correlation), and the same
    cols give G = cols^T @ x rows, G[(t.., o), c] = sum_{n,q} gy_pad[n, o, q + t] x[n, c, q] = gw[o, c, k-1-t]
    (one im2col instead of two)."""
    xp = namespace_of(gy)
    n, o = gy.shape[:2]
    c = w.shape[1]
    k = w.shape[2:]
    nd = len(k)
    osz = tuple(x.shape[2:])
    po, kk = math.prod(osz), math.prod(k)
    dt = gy.dtype
    one = (1,) * nd
    wf = xp.flip(w, tuple(range(2, 2 + nd))).transpose((1, 0) + tuple(range(2, 2 + nd)))  # (C, O, *k)
    wr = w_rows(wf)  # (kk*O, C)
    gx = xp.empty((n, c) + osz, dtype=dt)
    gx3 = gx.reshape(n, c, po)
    g = xp.zeros((kk * o, c), dtype=dt)
    nb = chunk_size(n, o * kk * po * dt.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        m = n1 - n0
        cols = im2col_nhwc(nhwc_chunk(gy[n0:n1], p.full_pads, "xnhwc"), k, one, one, osz)
        out = _ws("out", (m * po, c), dt, gy)
        xp.matmul(cols, wr, out=out)
        xp.copyto(gx3[n0:n1], out.reshape(m, po, c).transpose(0, 2, 1))
        xr = _ws("gyr", (m, po, c), dt, gy)
        xp.copyto(xr, x[n0:n1].reshape(m, c, po).transpose(0, 2, 1))
        g += cols.T @ xr.reshape(m * po, c)
    g = xp.flip(g.reshape(tuple(k) + (o, c)), tuple(range(nd)))
    gw = xp.ascontiguousarray(g.transpose((nd, nd + 1) + tuple(range(nd))))
    return gx, gw
