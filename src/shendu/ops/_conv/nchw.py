"""NCHW column-matrix kernels, plans "nchw-gemm" and "item-gemm" (textbook 9.8: im2col + one GEMM).

"nchw-gemm": a chunk of nb items becomes the matrix (C*prod(k), nb*prod(out)) (rows (c, k0, k1, ..),
columns (n, o0, o1, ..)), so y = W (O, C*prod(k)) @ cols per group is one BLAS call; y's layout copy adds
the bias. "item-gemm": per-item matrices (nb, C*prod(k), prod(out)), already the window view's order, and
one batched GEMM W @ cols[n] writes y in NCHW directly and gives the weight gradient without transposing gy.
Weight gradients: gW = gY @ cols^T summed over the batch. Reference: shendu.reference.conv.im2col, conv2d and
conv2d_weight_grad.
"""
from __future__ import annotations

import math

from ...backend import namespace_of
from .._recycle import recycled_empty
from .._workspace import _ws, pad_chunk
from .geometry import chunk_size, window_view


def im2col(xpc, k, s, d, osz, tag="cols"):
    """Column matrix (C*prod(k), nb*prod(out)) of a padded chunk, in a reused buffer (a recycled one
    when ``tag`` is None, shendu.ops._recycle)."""
    xp = namespace_of(xpc)
    nb, c = xpc.shape[:2]
    nd = len(k)
    win = window_view(xpc, k, s, d, osz)  # (nb, C, *k, *o)
    perm = (1,) + tuple(range(2, 2 + nd)) + (0,) + tuple(range(2 + nd, 2 + 2 * nd))
    shape = (c,) + tuple(k) + (nb,) + tuple(osz)
    cols = recycled_empty(shape, xpc.dtype, xpc) if tag is None else _ws(tag, shape, xpc.dtype, xpc)
    xp.copyto(cols, win.transpose(perm))
    return cols.reshape(c * math.prod(k), nb * math.prod(osz))


def im2col_items(xpc, k, s, d, osz, tag="cols_item"):
    """Per-item column matrices (nb, C*prod(k), prod(out)) of a padded chunk (rows (c, k..), columns
    (o..)), in a reused buffer (a recycled buffer when ``tag`` is None, shendu.ops._recycle)."""
    xp = namespace_of(xpc)
    nb, c = xpc.shape[:2]
    win = window_view(xpc, k, s, d, osz)  # (nb, C, *k, *o): already in the matrix order
    cols = recycled_empty(win.shape, xpc.dtype, xpc) if tag is None else _ws(tag, win.shape, xpc.dtype, xpc)
    xp.copyto(cols, win)
    return cols.reshape(nb, c * math.prod(k), math.prod(osz))


def _chunks(n, nb):
    return [(n0, min(n, n0 + nb)) for n0 in range(0, n, nb)]


def _keep_batch(x, p, keep, per_item):
    """(chunk size, keep): the whole batch as one chunk when its columns are kept for the weight gradient."""
    n = x.shape[0]
    if keep is not None and p.keep_cols:
        return n, keep
    return chunk_size(n, per_item), None


def forward_nchw(x, w, b, p, keep=None):
    """Plan "nchw-gemm": y = W @ im2col(x) per group and chunk (+ b). ``keep`` (a list) receives the whole
    batch's column matrix when the plan keeps it."""
    xp = namespace_of(x)
    n, c = x.shape[:2]
    o, k, osz, g = w.shape[0], w.shape[2:], p.out, p.groups
    po, kk = math.prod(osz), math.prod(k)
    y = recycled_empty((n, o) + osz, x.dtype, x)
    y3 = y.reshape(n, o, po)
    w2 = w.reshape(g, o // g, (c // g) * kk)
    nb, keep = _keep_batch(x, p, keep, c * kk * po * x.itemsize)
    for n0, n1 in _chunks(n, nb):
        cols = im2col(pad_chunk(x[n0:n1], p.pads, "xpad"), k, p.stride, p.dilation, osz,
                      tag=None if keep is not None else "cols")
        if keep is not None:
            keep.append(cols)
        if g == 1:
            out = _ws("out", (o, (n1 - n0) * po), x.dtype, x)
            xp.matmul(w2[0], cols, out=out)
        else:
            out = xp.matmul(w2, cols.reshape(g, (c // g) * kk, -1))
        src = out.reshape(o, n1 - n0, po).transpose(1, 0, 2)
        if b is not None:  # bias added in the same pass as the layout copy
            xp.add(src, b[:, None], out=y3[n0:n1])
        else:
            xp.copyto(y3[n0:n1], src)
    return y


def forward_items(x, w, b, p, keep=None):
    """Plan "item-gemm": y[n] = W @ cols[n], one batched GEMM per chunk writing y (N, O, *out) directly."""
    xp = namespace_of(x)
    n, c = x.shape[:2]
    o, k, osz = w.shape[0], w.shape[2:], p.out
    po, kk = math.prod(osz), math.prod(k)
    y = recycled_empty((n, o) + osz, x.dtype, x)
    y3 = y.reshape(n, o, po)
    wm = w.reshape(o, c * kk)
    nb, keep = _keep_batch(x, p, keep, c * kk * po * x.itemsize)
    for n0, n1 in _chunks(n, nb):
        cols = im2col_items(pad_chunk(x[n0:n1], p.pads, "xpad"), k, p.stride, p.dilation, osz,
                            tag=None if keep is not None else "cols_item")
        if keep is not None:
            keep.append(cols)
        xp.matmul(wm, cols, out=y3[n0:n1])
    if b is not None:
        y3 += b[:, None]
    return y


def weight_grad_nchw(x, gy, w_shape, p, cols=None):
    """gW = sum over chunks of gY (O, nb*out) @ cols^T per group; ``cols``: forward's whole-batch matrix."""
    xp = namespace_of(gy)
    n, o = gy.shape[:2]
    c, k, g = x.shape[1], w_shape[2:], p.groups
    po, kk, dt = math.prod(p.out), math.prod(k), gy.dtype
    cg, og = c // g, o // g
    gy3 = gy.reshape(n, o, po)
    gw = xp.zeros((g, og, cg * kk), dtype=dt)
    nb = n if cols is not None else chunk_size(n, c * kk * po * dt.itemsize)
    for n0, n1 in _chunks(n, nb):
        m = n1 - n0
        if cols is None:
            cm = im2col(pad_chunk(x[n0:n1], p.pads, "xpad"), k, p.stride, p.dilation, p.out)
        else:
            cm = cols
        gy2 = _ws("gy2", (o, m, po), dt, gy)
        xp.copyto(gy2, gy3[n0:n1].transpose(1, 0, 2))
        gy2 = gy2.reshape(g, og, m * po)
        cm = cm.reshape(g, cg * kk, m * po)
        if g == 1:
            gw[0] += gy2[0] @ cm[0].T
        else:
            gw += xp.matmul(gy2, cm.transpose(0, 2, 1))
    return gw.reshape(w_shape)


def weight_grad_items(x, gy, w_shape, p, cols=None):
    """gW = sum_n gY[n] (O, out) @ cols[n]^T; ``cols``: forward's whole-batch per-item matrices."""
    xp = namespace_of(gy)
    n, o = gy.shape[:2]
    k = w_shape[2:]
    po = math.prod(p.out)
    gy3 = gy.reshape(n, o, po)
    if cols is not None:
        return xp.matmul(gy3, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w_shape)
    c = x.shape[1]
    gw = xp.zeros((o, c * math.prod(k)), dtype=gy.dtype)
    for n0, n1 in _chunks(n, chunk_size(n, c * math.prod(k) * po * gy.dtype.itemsize)):
        cm = im2col_items(pad_chunk(x[n0:n1], p.pads, "xpad"), k, p.stride, p.dilation, p.out)
        gw += xp.matmul(gy3[n0:n1], cm.transpose(0, 2, 1)).sum(axis=0)
    return gw.reshape(w_shape)
