"""Winograd minimal-filtering convolution F(m x m, r x r) (textbook 9.8, efficient convolution; Lavin & Gray 2015,
"Fast algorithms for convolutional neural networks").

A stride-1, dilation-1, groups-1 2-D correlation (NCHW, as PyTorch) computed tile by tile: each m x m output tile
needs an alpha x alpha input tile d (alpha = m + r - 1) and

    Y = A^T [ (G g G^T) (.) (B^T d B) ] A

with the Cook-Toom matrices A^T (m, alpha), G (alpha, r), B^T (alpha, alpha) built from alpha - 1 interpolation
points and the point at infinity (``transforms``, in _winograd_transforms.py). Summed over the input channels, the
elementwise product becomes alpha^2 matrix products U[ab] (O, C) @ V[ab] (C, tiles): r^2 m^2 / alpha^2 times fewer
multiplications than im2col's GEMM (2.25x for F(2,3), 4x for F(4,3), 2.8x for F(2,5), 6.25x for F(4,5)), paid for by
the tile transforms. The batch goes through in cache-sized chunks; per chunk: gather the tiles (channels-last when C
is large, so the copies move runs of C values), B^T d B and A^T M A as small GEMMs (measured faster than slice
add/sub with the nonzero coefficients: F(4,3) on MNIST conv2 28.6 vs 41.6 ms, F(2,5) on CIFAR conv2 32 vs 44 ms),
the alpha^2 products as one batched matmul, and the last output transform with a transposed operand so that rows of
output pixels land in y. The input gradient is the same correlation (``conv2d_input_grad``); the weight gradient is
F(r x r, m x m) with the roles swapped (``conv2d_weight_grad``). Float32 loses some accuracy, more for larger m (see
``POINTS`` and tests/conv/test_winograd.py).

Reference: shendu.reference.conv.conv2d, conv2d_input_grad, conv2d_weight_grad. Device-generic: the array
namespace comes from the inputs (only copyto, matmul, as_strided, slicing and ufuncs, which CuPy also has).
Kept whole (~315 lines): the forward and the weight gradient share the tiling and tile gathering (the matrices
are in _winograd_transforms.py).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..backend import device_of, namespace_of, to_device
from ._tuning import conv_settings
from ._winograd_transforms import MORE_POINTS, POINTS, transforms  # noqa: F401  (re-exported)
from ._workspace import _padded_ws, _ws

#: Default output tile size m per kernel size r for direct calls with m=None (r = 3 and 5 follow
#: ``conv_settings.winograd_m3``/``winograd_m5``; the other thresholds are ``conv_settings.winograd_*`` too).
DEFAULT_M = {2: 2, 4: 3}


def default_m(r):
    """The output tile size used for an r-tap kernel when none is given."""
    return {3: conv_settings.winograd_m3, 5: conv_settings.winograd_m5}.get(r, DEFAULT_M.get(r, 2))


def choose_m(x_shape, w_shape, stride=1, dilation=1, groups=1):
    """The output tile size m with which Winograd is expected to beat the im2col path for this 2-D convolution
    (``default_m(r)``), or None where it does not apply (stride, dilation or groups not 1, kernel not 3x3 or 5x5)
    or measured slower (few channels: ``conv_settings.winograd_min_c3/_c5``). For the input gradient ask with C
    and O swapped."""
    if len(x_shape) != 4 or len(w_shape) != 4 or groups != 1:
        return None
    if _pair(stride, "stride") != (1, 1) or _pair(dilation, "dilation") != (1, 1):
        return None
    o, c, rh, rw = w_shape
    st = conv_settings
    min_c = {3: st.winograd_min_c3, 5: st.winograd_min_c5}
    if rh != rw or rh not in min_c or c < min_c[rh] or o < st.winograd_min_c3:
        return None
    return default_m(rh)


def _pair(v, name):
    if isinstance(v, numbers.Integral):
        return int(v), int(v)
    v = tuple(int(u) for u in v)
    if len(v) != 2:
        raise ValueError(f"winograd conv2d: {name} must be an int or a pair, got {v!r}")
    return v


def _tiling(m, r, out):
    """How an (Ho, Wo) output (or, for the weight gradient, gy) is cut into m x m tiles for an r-tap kernel:
    (m, alpha = m + r - 1, tiles per axis ceil(Ho / m)), each an (h, w) pair; m None: ``default_m(r)``."""
    (rh, rw), (ho, wo) = r, out
    if m is None:
        m = (default_m(rh), default_m(rw))
    mh, mw = _pair(m, "m")
    return (mh, mw), (mh + rh - 1, mw + rw - 1), (-(-ho // mh), -(-wo // mw))


def _pads(pads):
    """int, (ph, pw) or ((top, bottom), (left, right)) -> ((top, bottom), (left, right)); negative pads crop."""
    if isinstance(pads, numbers.Integral):
        return (int(pads),) * 2, (int(pads),) * 2
    p = tuple(pads)
    if len(p) == 2 and all(isinstance(v, numbers.Integral) for v in p):
        return (int(p[0]),) * 2, (int(p[1]),) * 2
    if len(p) == 2 and all(not isinstance(v, numbers.Integral) and len(tuple(v)) == 2 for v in p):
        return tuple(tuple(int(u) for u in v) for v in p)
    raise ValueError(f"winograd conv2d: pads must be an int, (ph, pw) or ((top, bottom), (left, right)), got {pads!r}")


def _as_strided(a, shape, strides):
    """A strided view with the namespace of ``a`` (CuPy has as_strided too)."""
    return namespace_of(a).lib.stride_tricks.as_strided(a, shape, strides)


def _on(mat, like):
    """Host matrix ``mat`` on the device of array ``like``."""
    return mat if type(like) is np.ndarray else to_device(mat, device_of(like))


def weight_transform(w, m, points=None):
    """U = G g G^T for every (o, c): w (O, C, rh, rw) -> U (ah*aw, O, C), ah = mh + rh - 1 (Lavin & Gray 2015,
    section 4)."""
    xp = namespace_of(w)
    o, c, rh, rw = w.shape
    mh, mw = _pair(m, "m")
    _, gh, _ = transforms(mh, rh, w.dtype, points)
    _, gw, _ = transforms(mw, rw, w.dtype, points)
    gh, gw = _on(gh, w), _on(gw, w)
    ah, aw = gh.shape[0], gw.shape[0]
    t1 = xp.matmul(w.reshape(o * c * rh, rw), gw.T)  # (o, c, k, b)
    t1 = xp.ascontiguousarray(t1.reshape(o * c, rh, aw).transpose(1, 0, 2))  # (k, o c b)
    t2 = xp.matmul(gh, t1.reshape(rh, -1))  # (a, o, c, b)
    u = xp.empty((ah, aw, o, c), dtype=w.dtype)
    xp.copyto(u, t2.reshape(ah, o, c, aw).transpose(0, 3, 1, 2))
    return u.reshape(ah * aw, o, c)


def _contract0(xp, t, src, out):
    """out (p, b, K) = t (p, a) contracted with src (a, b, K) along a: one GEMM per b (column blocks that stay
    in cache: for alpha = 8 ~1.6x faster than one (p, a) @ (a, b K) product, the same for alpha = 6)."""
    xp.matmul(t, src.transpose(1, 0, 2), out=out.transpose(1, 0, 2))
    return out


def _chunk(per_item_bytes, n):
    """Batch items per chunk: the chunk's transformed tiles stay within ``conv_settings.winograd_chunk_bytes``."""
    return max(1, min(n, conv_settings.winograd_chunk_bytes // max(per_item_bytes, 1)))


def _input_tiles(x, lead, m, r, tiles, bts, nb, nhwc):
    """Yield (n0, n1, V) per batch chunk: V = B^T d B of every alpha x alpha input tile d (tile (ti, tj) starts at
    padded row ti*mh, column tj*mw; ``lead`` = (top, left) zero padding, negative crops; zeros past x), as
    (ah*aw, C, nb*th*tw) or, ``nhwc``, (ah*aw, nb*th*tw, C); tiles ordered (n, ti, tj). Buffers are reused."""
    xp = namespace_of(x)
    n, c, h, wd = x.shape
    (mh, mw), (rh, rw), (th, tw) = m, r, tiles
    pt, pl = lead
    ah, aw = mh + rh - 1, mw + rw - 1
    hn, wn = th * mh + rh - 1, tw * mw + rw - 1
    dt = x.dtype
    bth, btw = _on(bts[0], x), _on(bts[1], x)
    # the zero-padded input covers whole tiles; x's rows ys:ye, columns xs:xe land in it
    ys, xs = max(0, -pt), max(0, -pl)
    ye, xe = min(h, hn - pt), min(wd, wn - pl)
    region = ((ys + pt, ye + pt), (xs + pl, xe + pl))
    inner = (slice(ys + pt, ye + pt), slice(xs + pl, xe + pl))
    if nhwc:  # channels-last padded chunk: the tile gather copies runs of C values
        xpad = _padded_ws("wg_xh", (nb, hn, wn, c), dt, 0.0, region, x)
        sub = (slice(None),) + inner
    else:
        xpad = _padded_ws("wg_xpad", (nb, c, hn, wn), dt, 0.0, region, x)
        sub = (slice(None), slice(None)) + inner
    tb = nb * th * tw
    d = _ws("wg_d", (ah * aw * c * tb,), dt, x)
    e = _ws("wg_e", (ah * aw * c * tb,), dt, x)
    src_x = x[:, :, ys:ye, xs:xe]
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        b = n1 - n0
        sz = ah * aw * c * b * th * tw
        xc = xpad[:b]
        if ye > ys and xe > xs:
            xp.copyto(xc[sub], src_x[n0:n1].transpose(0, 2, 3, 1) if nhwc else src_x[n0:n1])
        if nhwc:
            s_n, s_h, s_w, s_c = xc.strides
            shape, strides = (ah, aw, b, th, tw, c), (s_h, s_w, s_n, mh * s_h, mw * s_w, s_c)
        else:
            s_n, s_c, s_h, s_w = xc.strides
            shape, strides = (ah, aw, c, b, th, tw), (s_h, s_w, s_c, s_n, mh * s_h, mw * s_w)
        dc = d[:sz].reshape(shape)
        xp.copyto(dc, _as_strided(xc, shape, strides))
        ec = e[:sz].reshape(ah, aw, -1)
        _contract0(xp, bth, dc.reshape(ah, aw, -1), ec)  # B^T d: (a, b, ...)
        v = dc.reshape(ah, aw, -1)
        xp.matmul(btw, ec, out=v)  # V = B^T d B, (a, b, ...)
        yield n0, n1, v.reshape((ah * aw, b * th * tw, c) if nhwc else (ah * aw, c, b * th * tw))


def conv2d_forward(x, w, pads=0, m=None, points=None):
    """y = x (*) w (cross-correlation, stride 1) by Winograd F(m x m, r x r) (textbook 9.8; Lavin & Gray 2015).

    x (N, C, H, W), w (O, C, rh, rw), ``pads`` int / (ph, pw) / ((top, bottom), (left, right)) zeros (negative:
    crop) -> y (N, O, H + top + bottom - rh + 1, W + left + right - rw + 1). ``m``: output tile size (int or
    pair; None: ``default_m``). Sizes not divisible by m are padded to whole tiles and cropped."""
    xp = namespace_of(x, w)
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"winograd conv2d: expected x (N, C, H, W) and w (O, C, kh, kw), got {x.shape} and {w.shape}")
    n, c, h, wd = x.shape
    o, cw, rh, rw = w.shape
    if cw != c:
        raise ValueError(f"winograd conv2d: w {w.shape} has {cw} input channels, x {x.shape} has {c} (groups=1 only)")
    if x.dtype != w.dtype or x.dtype.kind != "f":
        raise TypeError(f"winograd conv2d: x is {x.dtype}, w is {w.dtype}; expected one floating dtype")
    (pt, pb), (pl, pr) = _pads(pads)
    ho, wo = h + pt + pb - rh + 1, wd + pl + pr - rw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"winograd conv2d: input {x.shape} padded by {_pads(pads)} is smaller than the kernel "
                         f"{(rh, rw)}")
    (mh, mw), (ah, aw), (th, tw) = _tiling(m, (rh, rw), (ho, wo))
    dt = x.dtype
    ath, _, bth = transforms(mh, rh, dt, points)
    atw, _, btw = transforms(mw, rw, dt, points)
    u = weight_transform(w, (mh, mw), points)  # (ah aw, O, C)

    ath, atw = _on(ath, x), _on(atw, x)
    nhwc = c >= max(conv_settings.winograd_nhwc_min_c, conv_settings.winograd_gemm_min_c)
    if nhwc:
        u = xp.ascontiguousarray(u.transpose(0, 2, 1))  # (ab, C, O)
    y = xp.empty((n, o, ho, wo), dtype=dt)
    nb = _chunk(ah * aw * max(c, o) * th * tw * dt.itemsize, n)
    tb = nb * th * tw
    mbuf = _ws("wg_m", (ah * aw * o * tb,), dt, x)
    r1 = _ws("wg_r", (mh * aw * o * tb,), dt, x)
    ybuf = _ws("wg_y", (mh * mw * o * tb,), dt, x)
    for n0, n1, v in _input_tiles(x, (pt, pl), (mh, mw), (rh, rw), (th, tw), (bth, btw), nb, nhwc):
        b = n1 - n0
        t = b * th * tw
        if c < conv_settings.winograd_gemm_min_c:  # broadcast products instead of a GEMM with a tiny K = C
            mm = mbuf[:ah * aw * t * o].reshape(ah * aw, o, t)
            v3 = v.reshape(ah * aw, c, t)
            xp.multiply(u[:, :, :1], v3[:, :1], out=mm)
            for ci in range(1, c):
                tmp = xp.multiply(u[:, :, ci:ci + 1], v3[:, ci:ci + 1])
                xp.add(mm, tmp, out=mm)
        elif nhwc:  # (ab, t, C) @ (ab, C, O) written transposed: (ab, O, t), as BLAS can
            mm = mbuf[:ah * aw * t * o].reshape(ah * aw, o, t)
            xp.matmul(v.reshape(ah * aw, t, c), u, out=mm.transpose(0, 2, 1))
        else:  # (ab, O, C) @ (ab, C, t) -> (ab, O, t)
            mm = mbuf[:ah * aw * t * o].reshape(ah * aw, o, t)
            xp.matmul(u, v.reshape(ah * aw, c, t), out=mm)
        rc = r1[:mh * aw * o * t].reshape(mh, aw, -1)
        _contract0(xp, ath, mm.reshape(ah, aw, -1), rc)  # A^T M: (i, b, O, n, ti, tj)
        # Y = (A^T M) A with j last (a transposed operand), so rows of wo values land in y
        yt = ybuf[:mh * mw * o * t].reshape(mh, o * t, mw)
        xp.matmul(rc.transpose(0, 2, 1), atw.T, out=yt)
        yt = yt.reshape(mh, o, b, th, tw * mw)
        dst = y[n0:n1]
        for i in range(mh):
            hi = -(-(ho - i) // mh)
            xp.copyto(dst[:, :, i::mh], yt[i, :, :, :hi, :wo].transpose(1, 0, 2, 3))
    return y


def conv2d_input_grad(gy, w, pads, x_shape, m=None, points=None):
    """dL/dx of y = conv2d(x, w, pads) (stride 1): the 'full' correlation of gy with the 180-degree rotated kernel,
    in/out channels swapped (textbook 9.8; the seeds' delta^{l-1} = pad(delta^l) * rot180(w)), by
    ``conv2d_forward``. gy (N, O, Ho, Wo), w (O, C, rh, rw) -> (N, C, H, W) = x_shape."""
    xp = namespace_of(gy, w)
    (pt, pb), (pl, pr) = _pads(pads)
    n, c, h, wd = x_shape
    o, cw, rh, rw = w.shape
    if gy.ndim != 4 or gy.shape[:2] != (n, o) or gy.shape[2:] != (h + pt + pb - rh + 1, wd + pl + pr - rw + 1):
        raise ValueError(f"winograd conv2d_input_grad: gy {gy.shape} does not match x {tuple(x_shape)}, w {w.shape} "
                         f"and pads {_pads(pads)}")
    wf = xp.ascontiguousarray(xp.flip(w, (2, 3)).transpose(1, 0, 2, 3))  # (C, O, rh, rw)
    fp = ((rh - 1 - pt, rh - 1 - pb), (rw - 1 - pl, rw - 1 - pr))
    return conv2d_forward(gy, wf, fp, m, points)


def conv2d_weight_grad(x, gy, pads, w_shape, m=None, points=None):
    """dL/dw of y = conv2d(x, w, pads) (stride 1) by Winograd F(r x r, m x m), the roles swapped: gw[o, c] is the
    correlation of x with gy[o] (an Ho x Wo 'kernel') summed over the batch; cut gy into m x m tiles g_t and x into
    the matching alpha x alpha tiles d_t, then gw[o, c] = A'^T [sum_t (G' g_t G'^T)[o] (.) (B'^T d_t B')[c]] A'
    with F(r, m)'s matrices (same alpha): the sum over tiles is alpha^2 GEMMs (O, tiles) @ (tiles, C).
    x (N, C, H, W), gy (N, O, Ho, Wo) -> (O, C, rh, rw) = w_shape. ``m``: gy tile size (None: ``default_m(r)``)."""
    xp = namespace_of(x, gy)
    n, c, h, wd = x.shape
    o, cw, rh, rw = w_shape
    (pt, pb), (pl, pr) = _pads(pads)
    ho, wo = h + pt + pb - rh + 1, wd + pl + pr - rw + 1
    if x.ndim != 4 or cw != c or gy.shape != (n, o, ho, wo):
        raise ValueError(f"winograd conv2d_weight_grad: gy {gy.shape} does not match x {x.shape}, w {tuple(w_shape)} "
                         f"and pads {_pads(pads)} (expected gy {(n, o, ho, wo)})")
    if x.dtype != gy.dtype or x.dtype.kind != "f":
        raise TypeError(f"winograd conv2d_weight_grad: x is {x.dtype}, gy is {gy.dtype}; expected one floating dtype")
    (mh, mw), (ah, aw), (th, tw) = _tiling(m, (rh, rw), (ho, wo))
    dt = x.dtype
    # F(r, m): output r (the kernel), filter m (a gy tile); alpha = r + m - 1 as in the forward
    ath, gh, bth = transforms(rh, mh, dt, points)
    atw, gw_, btw = transforms(rw, mw, dt, points)
    nhwc = c >= max(conv_settings.winograd_nhwc_min_c, conv_settings.winograd_gemm_min_c)
    nb = _chunk(ah * aw * max(c, o) * th * tw * dt.itemsize, n)
    tb = nb * th * tw
    gh, gw_ = _on(gh, x), _on(gw_, x)
    gyp = _padded_ws("wg_gyp", (nb, o, th * mh, tw * mw), dt, 0.0, ((0, ho), (0, wo)), gy)
    gbuf = _ws("wg_g", (mh * mw * o * tb,), dt, gy)
    g1 = _ws("wg_g1", (ah * mw * o * tb,), dt, gy)
    g2 = _ws("wg_g2", (ah * aw * o * tb,), dt, gy)
    acc = xp.zeros((ah * aw, o, c), dtype=dt)
    part = _ws("wg_part", (ah * aw, o, c), dt, gy)
    for n0, n1, v in _input_tiles(x, (pt, pl), (mh, mw), (rh, rw), (th, tw), (bth, btw), nb, nhwc):
        b = n1 - n0
        t = b * th * tw
        gc = gyp[:b]
        xp.copyto(gc[:, :, :ho, :wo], gy[n0:n1])
        s_n, s_o, s_h, s_w = gc.strides
        shape = (mh, mw, o, b, th, tw)
        gt = gbuf[:mh * mw * o * t].reshape(shape)  # gy tiles: (i, j, O, n, ti, tj)
        xp.copyto(gt, _as_strided(gc, shape, (s_h, s_w, s_o, s_n, mh * s_h, mw * s_w)))
        q1 = g1[:ah * mw * o * t].reshape(ah, mw, -1)
        _contract0(xp, gh, gt.reshape(mh, mw, -1), q1)  # G' g
        q = g2[:ah * aw * o * t].reshape(ah, aw, -1)
        xp.matmul(gw_, q1, out=q)  # G' g G'^T: (a, b, O, t)
        q = q.reshape(ah * aw, o, t)
        xp.matmul(q, v if nhwc else v.transpose(0, 2, 1), out=part)  # (ab, O, t) @ (ab, t, C)
        xp.add(acc, part, out=acc)
    # gw = A'^T acc A' for every (o, c): (ah, aw, O, C) -> (rh, rw, O, C) -> (O, C, rh, rw)
    ath, atw = _on(ath, x), _on(atw, x)
    r1 = xp.matmul(ath, acc.reshape(ah, -1)).reshape(rh, aw, o * c)
    g = xp.matmul(atw, r1).reshape(rh, rw, o, c)
    return xp.ascontiguousarray(g.transpose(2, 3, 0, 1))
