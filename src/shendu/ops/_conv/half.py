"""The stride-1 2-D input gradient with the kernel's width folded into the GEMM, route "half-col2im" (textbook
9.8: im2col + GEMM and its adjoint col2im, split between the two kernel axes).

gx_pad[n, c, h, q] = sum_{o, i, j} w[o, c, i, j] gy[n, o, h - i*d_h, q - j*d_w]. gy is laid out per output
channel on the padded width Wp (zero from W_out on) and flattened, so its copy shifted by j*d_w is gy[., q - j*d_w]
on every row (the shifted-in values are the zero tail of the row before): G (O*kw, m*Ho*Wp) is kw shifted copies
of that one buffer, T = W' (kh*C, O*kw) @ G with W'[(i, c), (o, j)] = w[o, c, i, j] is one GEMM (its inner
dimension O*kw instead of col2im's O), and col2im is left with kh row-shifted slice-adds
gx_pad[:, :, i*d_h:i*d_h + Ho] += T[i] instead of kh*kw. It pays while the kw copies of gy are smaller than
the kh*(kw-1) slice-adds it saves (``applies``). Reference: shendu.reference.conv.conv2d_input_grad.
"""
from __future__ import annotations

from ...backend import namespace_of
from .._recycle import recycled_empty
from .._workspace import _padded_ws, _ws
from .geometry import chunk_size

CHUNK_BYTES = 1 << 20
"""Items per chunk: G of a chunk within about this many bytes (it stays in cache). LeNet's conv2 input gradient
(6 <- 16, 5x5, 10x10, batch 64, 1 thread, 2026-11-30, alone): 0.78 ms with 1 MiB or 2 MiB chunks, 0.86 ms with
512 KiB, the route "wide-col2im" 0.93 ms; with batch 256 0.84x "wide-col2im" in 1 MiB chunks, 1.46x with the
whole batch in one."""

ENABLED = True
"""The planner's switch for this route. ``python benchmarks/kernels_ab.py --only lenet --repeat 41 --const
shendu.ops._conv.half.ENABLED=0`` (LeNet's conv2 input gradient by "wide-col2im"; 1 thread, 2026-11-30): 1.06x
the step time (both this and nhwc.ITEMS_MIN_CKW=1000000: 1.17x)."""


def applies(c, o, k) -> bool:
    """Whether "half-col2im" beats "wide-col2im" for C input and O output channels and kernel k (2-D): while
    gy's kw shifted copies (O*kw rows) are fewer than the slice-adds they save (C*kh*(kw-1) rows). Kernels alone
    (1 thread, 2026-11-30, ``python benchmarks/kernels_ab.py --routes``): 0.50-0.86x the time of "wide-col2im"
    on the four shapes that satisfy it (LeNet's conv2 1.31 -> 0.89 ms), 0.99-1.57x on three that do not; at
    equality (O*kw = C*kh*(kw-1), two shapes) 0.75-1.21x between runs."""
    return ENABLED and o * k[1] < c * k[0] * (k[1] - 1)


def input_grad_half(w, gy, x_shape, p):
    """Route "half-col2im" (stride 1, groups 1, 2-D): gx (N, C, H, W) = the padded gradient T[0] + the
    row-shifted T[i] of T = W' @ G per chunk, cropped by the padding (see the module docstring)."""
    xp = namespace_of(gy)
    n, c = x_shape[:2]
    o, (kh, kw) = w.shape[0], w.shape[2:]
    (d0, d1), pads = p.dilation, p.pads
    ho, wo = p.out
    hp, wp = x_shape[2] + pads[0][0] + pads[0][1], x_shape[3] + pads[1][0] + pads[1][1]
    dt = gy.dtype
    lead = d1 * (kw - 1)  # zeros before the first row: the reach of the widest shift
    wm = _ws("half_w", (kh, c, o, kw), dt, gy)
    xp.copyto(wm, w.transpose(2, 1, 0, 3))
    wm = wm.reshape(kh * c, o * kw)
    gx = recycled_empty(x_shape, dt, gy)
    crop = (slice(None), slice(None), slice(pads[0][0], pads[0][0] + x_shape[2]),
            slice(pads[1][0], pads[1][0] + x_shape[3]))
    nb = chunk_size(n, o * kw * ho * wp * dt.itemsize, CHUNK_BYTES)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        m = n1 - n0
        f = m * ho * wp
        # zero lead and row tails kept: keyed by everything that places them
        gyp = _padded_ws("half_gy", (o, lead + f), dt, 0.0, (lead, m, ho, wp, wo), gy)
        xp.copyto(gyp[:, lead:].reshape(o, m, ho, wp)[..., :wo], gy[n0:n1].transpose(1, 0, 2, 3))
        g = _ws("half_G", (o, kw, f), dt, gy)
        for j in range(kw):
            xp.copyto(g[:, j], gyp[:, lead - j * d1:lead - j * d1 + f])
        t = _ws("half_T", (kh, c, m, ho, wp), dt, gy)
        xp.matmul(wm, g.reshape(o * kw, f), out=t.reshape(kh * c, f))
        gxp = _ws("half_gx", (c, m, hp, wp), dt, gy)
        xp.copyto(gxp[:, :, :ho], t[0])
        gxp[:, :, ho:] = 0
        for i in range(1, kh):
            gxp[:, :, i * d0:i * d0 + ho] += t[i]
        xp.copyto(gx[n0:n1], gxp[crop].transpose(1, 0, 2, 3))
    return gx
