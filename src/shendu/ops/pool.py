"""N-d max and average pooling ops (textbook 9.3; the seeds' CNN back-propagation: max pooling
routes each error to the arg-max position recorded in the forward pass, mean pooling spreads it
evenly over the window, the "upsample" rule).

Layout (N, C, *sp). Windows: kernel k, stride s, dilation d, per-dim padding (lo, hi) (hi
includes the ceil-mode overhang). Everything is a loop over the prod(k) kernel offsets of
vectorized slice operations on the whole batch: no Python loop over pixels or items, no np.add.at.
Max pooling keeps only the small per-output offset index (uint8/int16) for backward.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..autograd.function import Function
from . import _im2col as K


def _offsets(k):
    return list(itertools.product(*[range(a) for a in k]))


def _sl(off, s, d, osz):
    return (slice(None), slice(None)) + tuple(
        slice(off[a] * d[a], off[a] * d[a] + s[a] * (osz[a] - 1) + 1, s[a]) for a in range(len(off))
    )


def _crop(pads, sp):
    return (slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n in zip(pads, sp))


def _padded(x, pads, fill, tag):
    if not any(lo or hi for lo, hi in pads):
        return x
    return K._pad_chunk(x, pads, tag, fill)


def _scatter(g, k, s, d, osz, pads, x_shape, mask_fn=None):
    """Adjoint of the window gather: sum over offsets of g (times mask) placed at each window tap."""
    padded = any(lo or hi for lo, hi in pads)
    sp_pad = tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], pads))
    if padded:
        gxp = K._ws("pool_gx", x_shape[:2] + sp_pad, g.dtype)
        gxp.fill(0)
    else:
        gxp = np.zeros(x_shape[:2] + sp_pad, dtype=g.dtype)
    tmp = None
    for t, off in enumerate(_offsets(k)):
        sl = _sl(off, s, d, osz)
        if mask_fn is None:
            gxp[sl] += g
        else:
            if tmp is None:
                tmp = np.empty_like(g)
            np.multiply(g, mask_fn(t), out=tmp)
            gxp[sl] += tmp
    return np.ascontiguousarray(gxp[_crop(pads, x_shape[2:])]) if padded else gxp


def _from_cl(a, lead):
    """(*sp, N*C) channels-last -> contiguous (N, C, *sp), one transposed slab per leading spatial index
    (a whole-array transposed copy walks the source with a huge stride: ~3x slower)."""
    sp = a.shape[:-1]
    out = np.empty((a.shape[-1],) + sp, dtype=a.dtype)
    perm = (a.ndim - 2,) + tuple(range(a.ndim - 2))
    for h in range(sp[0]):
        np.copyto(out[:, h], a[h].transpose(perm))
    return out.reshape(tuple(lead) + sp)


def _to_cl(dst, src):
    """Copy src (N*C, *sp) into the channels-last view dst (*sp, N*C), 128 channels at a time (a
    whole-array transposed copy thrashes the cache: CIFAR conv1 output 4.9 -> 3.0 ms)."""
    perm = tuple(range(1, src.ndim)) + (0,)
    for c in range(0, src.shape[0], 128):
        np.copyto(dst[..., c:c + 128], src[c:c + 128].transpose(perm))


#: Max pooling works channels-last when N*C is at least this (tests lower it to cover both paths).
CL_MIN = 64


class MaxPoolNd(Function):
    """y[n, c, o] = max over the window of o (padding is -inf)."""

    def __init__(self, k, s, d, pads):
        self.k, self.s, self.d, self.pads = k, s, d, pads

    def forward(self, x):
        k, s, d, pads = self.k, self.s, self.d, self.pads
        self.x_shape = x.shape
        nd = len(k)
        osz = tuple(K.out_size(x.shape[2 + a], k[a], s[a], d[a], *pads[a]) for a in range(nd))
        self.osz = osz
        nc = x.shape[0] * x.shape[1]
        # channels-last (spatial..., N*C) when N*C is large: every tap slice then has long contiguous
        # inner runs (a strided NCHW slice has runs of W_out, which makes each ufunc call ~7x slower)
        self.cl = cl = nc >= CL_MIN
        if cl:
            sp_pad = tuple(x.shape[2 + a] + pads[a][0] + pads[a][1] for a in range(nd))
            xpd = K._padded_ws("maxpool_cl", sp_pad + (nc,), x.dtype, -np.inf, tuple(pads))
            inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads)) + (slice(None),)
            _to_cl(xpd[inner], x.reshape((nc,) + x.shape[2:]))
            sl = lambda off: _sl(off, s, d, osz)[2:] + (slice(None),)  # noqa: E731
            shape = osz + (nc,)
        else:
            xpd = _padded(x, pads, -np.inf, "maxpool")
            sl = lambda off: _sl(off, s, d, osz)  # noqa: E731
            shape = x.shape[:2] + osz
        offs = _offsets(k)
        idx = np.zeros(shape, dtype=np.uint8 if len(offs) < 256 else np.int32)
        out = np.array(xpd[sl(offs[0])], dtype=x.dtype)
        for t in range(1, len(offs)):
            np.maximum(out, xpd[sl(offs[t])], out=out)  # NaN propagates (as PyTorch)
        m = np.empty(shape, dtype=bool)
        if len(offs) < 256:
            # first arg-max in scan order (as PyTorch): code = max over taps of (T - t) * [x_t == y]
            n_t = len(offs)
            mu = m.view(np.uint8)
            tmp = np.empty(shape, dtype=np.uint8)
            for t in range(n_t):
                np.equal(xpd[sl(offs[t])], out, out=m)
                np.multiply(mu, n_t - t, out=tmp)
                np.maximum(idx, tmp, out=idx)
            np.subtract(n_t, idx, out=idx)
            np.minimum(idx, n_t - 1, out=idx)  # NaN windows (no tap equals the max): the last tap
        else:
            for t in range(len(offs) - 1, -1, -1):
                np.equal(xpd[sl(offs[t])], out, out=m)
                idx[m] = t
        self.saved = idx
        if cl:
            return _from_cl(out, x.shape[:2])
        return out

    def nchw_idx(self):
        """The saved arg-max offsets in (N, C, *out) layout."""
        idx = self.saved
        if not self.cl:
            return idx
        return _from_cl(idx, self.x_shape[:2])

    def backward_array(self, gy):
        if not self.cl:
            idx = self.saved
            return _scatter(gy, self.k, self.s, self.d, self.osz, self.pads, self.x_shape, lambda t: idx == t)
        return self._backward_cl(gy)

    def _backward_cl(self, gy):
        k, s, d, pads, osz, xs = self.k, self.s, self.d, self.pads, self.osz, self.x_shape
        nd = len(k)
        nc = xs[0] * xs[1]
        idx = self.saved
        gyt = K._ws("maxpool_gy", osz + (nc,), gy.dtype)
        _to_cl(gyt, gy.reshape((nc,) + osz))
        sp_pad = tuple(xs[2 + a] + pads[a][0] + pads[a][1] for a in range(nd))
        gxp = K._ws("maxpool_gx", sp_pad + (nc,), gy.dtype)
        gxp.fill(0)
        tmp = np.empty_like(gyt)
        m = np.empty(gyt.shape, dtype=bool)
        for t, off in enumerate(_offsets(k)):
            np.equal(idx, t, out=m)
            np.multiply(gyt, m, out=tmp)
            gxp[_sl(off, s, d, osz)[2:]] += tmp
        inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(xs[2:], pads)) + (slice(None),)
        return _from_cl(gxp[inner], xs[:2])

    def backward(self, gy):
        return _MaxPoolRoute(_Geo(self), False)(gy)

    def indices(self):
        """PyTorch-style flat indices into the unpadded spatial plane of each arg-max."""
        idx = self.nchw_idx()
        offs = np.array(_offsets(self.k)).reshape(-1, len(self.k))
        nd = len(self.k)
        flat = np.zeros(idx.shape, dtype=np.int64)
        for a in range(nd):
            o = np.arange(self.osz[a]).reshape((-1,) + (1,) * (nd - 1 - a)) * self.s[a]
            pos = o + offs[:, a][idx] * self.d[a] - self.pads[a][0]
            flat = flat * self.x_shape[2 + a] + pos
        return flat


class _Geo:
    """The geometry and arg-max offsets of one max-pooling call (outlives the freed graph node)."""

    def __init__(self, p):
        self.k, self.s, self.d, self.pads, self.osz, self.x_shape, self.saved = (
            p.k, p.s, p.d, p.pads, p.osz, p.x_shape, p.nchw_idx())


class _MaxPoolRoute(Function):
    """Linear map routing by the saved arg-max: scatter (gy -> gx) or its adjoint gather (gx -> gy)."""

    needs_input_values = False

    def __init__(self, pool, gather):
        self.pool, self.gather = pool, gather

    def forward(self, g):
        p = self.pool
        idx = p.saved
        if not self.gather:
            return _scatter(g, p.k, p.s, p.d, p.osz, p.pads, p.x_shape, lambda t: idx == t)
        gp = _padded(g, p.pads, 0.0, "maxroute")
        out = np.zeros(idx.shape, dtype=g.dtype)
        for t, off in enumerate(_offsets(p.k)):
            np.copyto(out, gp[_sl(off, p.s, p.d, p.osz)], where=idx == t)
        return out

    def backward(self, g):
        return _MaxPoolRoute(self.pool, not self.gather)(g)


class AvgPoolNd(Function):
    """y = (sum over the window) / divisor; ``transpose=True`` gives the adjoint (gy -> gx)."""

    needs_input_values = False

    def __init__(self, k, s, pads, div, x_shape=None, transpose=False):
        self.k, self.s, self.pads, self.div, self.x_shape, self.transpose = k, s, pads, div, x_shape, transpose
        self.d = (1,) * len(k)

    def _fwd(self, x):
        k, s, d, pads = self.k, self.s, self.d, self.pads
        osz = tuple(K.out_size(x.shape[2 + a], k[a], s[a], 1, *pads[a]) for a in range(len(k)))
        xpd = _padded(x, pads, 0.0, "avgpool")
        offs = _offsets(k)
        out = np.array(xpd[_sl(offs[0], s, d, osz)], dtype=x.dtype)
        for off in offs[1:]:
            out += xpd[_sl(off, s, d, osz)]
        out *= self.div
        return out

    def _bwd(self, g):
        return _scatter(g * self.div, self.k, self.s, self.d, g.shape[2:], self.pads, g.shape[:2] + self.x_shape[2:])

    def forward(self, x):
        if self.transpose:
            return self._bwd(x)
        if self.x_shape is None:
            self.x_shape = x.shape
        return self._fwd(x)

    def backward_array(self, g):
        return self._fwd(g) if self.transpose else self._bwd(g)

    def backward(self, g):
        return AvgPoolNd(self.k, self.s, self.pads, self.div, self.x_shape, not self.transpose)(g)


def pool_geometry(name, sp, k, s, d, padding, ceil_mode):
    """(pads, out_size, explicit_pads): pads (lo, hi) per dim including the ceil-mode overhang;
    padding int/tuple (PyTorch, at most half the kernel) or 'same'/'valid' (TensorFlow)."""
    nd = len(k)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
        pads = []
        for a in range(nd):
            if mode == "valid":
                pads.append((0, 0))
                continue
            ek = d[a] * (k[a] - 1) + 1
            out = -(-sp[a] // s[a])
            tot = max((out - 1) * s[a] + ek - sp[a], 0)
            pads.append((tot // 2, tot - tot // 2))
        if not ceil_mode:
            return tuple(pads), tuple(K.out_size(sp[a], k[a], s[a], d[a], *pads[a]) for a in range(nd)), tuple(pads)
    else:
        p = [padding] * nd if isinstance(padding, int) else list(padding)
        if len(p) != nd:
            raise ValueError(f"{name}: padding {padding} must have {nd} entries")
        if any(p[a] < 0 or p[a] * 2 > k[a] for a in range(nd)):
            raise ValueError(f"{name}: padding {tuple(p)} must be between 0 and half the kernel size {tuple(k)}")
        pads = [(q, q) for q in p]
    outs = []
    explicit = tuple(pads)
    for a in range(nd):
        lo, hi = pads[a]
        span = sp[a] + lo + hi - d[a] * (k[a] - 1) - 1
        if span < 0:
            raise ValueError(f"{name}: input size {tuple(sp)} (padded by {tuple(pads)}) is smaller than the "
                             f"kernel {tuple(k)}")
        o = (-(-span // s[a]) if ceil_mode else span // s[a]) + 1
        if ceil_mode and (o - 1) * s[a] >= sp[a] + lo:
            o -= 1
        extra = max(0, (o - 1) * s[a] + d[a] * (k[a] - 1) + 1 - (sp[a] + lo + hi))
        pads[a] = (lo, hi + extra)
        outs.append(o)
    return tuple(pads), tuple(outs), explicit


def avg_divisor(sp, k, s, pads, explicit, osz, count_pads, dtype):
    """1/divisor as a scalar (all windows full) or an array of shape out_size: the number of taps of
    each window inside the input, counting the explicit padding (not the ceil overhang) if ``count_pads``."""
    nd = len(k)
    mask = np.zeros(tuple(sp[a] + pads[a][0] + pads[a][1] for a in range(nd)), dtype=np.float64)
    if count_pads:
        inner = tuple(slice(0, explicit[a][0] + sp[a] + explicit[a][1]) for a in range(nd))
    else:
        inner = tuple(slice(pads[a][0], pads[a][0] + sp[a]) for a in range(nd))
    mask[inner] = 1.0
    cnt = np.zeros(osz)
    for off in _offsets(k):
        cnt += mask[tuple(slice(off[a], off[a] + s[a] * (osz[a] - 1) + 1, s[a]) for a in range(nd))]
    if np.all(cnt == cnt.flat[0]):
        return np.dtype(dtype).type(1.0 / max(cnt.flat[0], 1.0))
    return (1.0 / np.maximum(cnt, 1.0)).astype(dtype)
