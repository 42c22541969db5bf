"""The input gradient by GEMM + col2im, route "gemm-col2im" (textbook 9.8; the adjoint of im2col):
gcols = W^T @ gY per group and chunk, then each column entry is added back to the input pixel it was read
from, one strided slice-add per kernel tap (no add.at). Any stride, dilation, groups and dimension.
Reference: shendu.reference.conv.col2im and conv2d_input_grad.
"""
from __future__ import annotations

import itertools
import math

from ...backend import namespace_of
from .._workspace import _ws
from .geometry import chunk_size


def col2im_add(gx_pad, gcols, k, s, d, osz):
    """gx_pad (nb, C, *sp) += the adjoint of im2col applied to gcols (C, *k, nb, *out):
    one strided slice-add per kernel offset."""
    nd = len(k)
    for off in itertools.product(*[range(kk) for kk in k]):
        sl = (slice(None), slice(None)) + tuple(
            slice(off[a] * d[a], off[a] * d[a] + s[a] * (osz[a] - 1) + 1, s[a]) for a in range(nd)
        )
        src = gcols[(slice(None),) + off]  # (C, nb, *o)
        gx_pad[sl] += src.transpose((1, 0) + tuple(range(2, nd + 2)))


def input_grad_col2im(w, gy, x_shape, p):
    """Route "gemm-col2im": gx (N, C, *sp) = col2im(W^T @ gY) per group and chunk, cropped by the padding."""
    xp = namespace_of(gy)
    n, c = x_shape[:2]
    o, k, osz, pads, g = w.shape[0], w.shape[2:], p.out, p.pads, p.groups
    nd, po, kk, dt = len(k), math.prod(osz), math.prod(k), gy.dtype
    cg, og = c // g, o // g
    w2 = w.reshape(g, og, cg * kk)
    gy3 = gy.reshape(n, o, po)
    padded = any(lo or hi for lo, hi in pads)
    sp_pad = tuple(x_shape[2 + a] + pads[a][0] + pads[a][1] for a in range(nd))
    inner = (slice(None), slice(None)) + tuple(slice(pads[a][0], pads[a][0] + x_shape[2 + a]) for a in range(nd))
    gx = xp.empty(x_shape, dtype=dt) if padded else xp.zeros(x_shape, dtype=dt)
    nb = chunk_size(n, c * kk * po * dt.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        m = n1 - n0
        gy2 = _ws("gy2", (o, m, po), dt, gy)
        xp.copyto(gy2, gy3[n0:n1].transpose(1, 0, 2))
        gy2 = gy2.reshape(g, og, m * po)
        if g == 1:
            gcols = _ws("gcols", (cg * kk, m * po), dt, gy)
            xp.matmul(w2[0].T, gy2[0], out=gcols)
        else:
            gcols = xp.matmul(w2.transpose(0, 2, 1), gy2)
        gcols = gcols.reshape((c,) + tuple(k) + (m,) + tuple(osz))
        if padded:
            gxp = _ws("gxpad", (m, c) + sp_pad, dt, gy)
            gxp.fill(0)
            col2im_add(gxp, gcols, k, p.stride, p.dilation, osz)
            gx[n0:n1] = gxp[inner]
        else:
            col2im_add(gx[n0:n1], gcols, k, p.stride, p.dilation, osz)
    return gx
