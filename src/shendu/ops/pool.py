"""N-d max and average pooling ops (textbook 9.3; the seeds' CNN back-propagation: max pooling
routes each error to the arg-max position recorded in the forward pass, mean pooling spreads it
evenly over the window, the "upsample" rule).

Layout (N, C, *sp). Windows: kernel k, stride s, dilation d, per-dim padding (lo, hi) (hi
includes the ceil-mode overhang). Everything is a loop over the prod(k) kernel offsets of
vectorized slice operations on the whole batch: no Python loop over pixels or items, no np.add.at.
Max pooling keeps only the small per-output offset index (uint8/int16) for backward; for large N*C
it works on a polyphase grid (``_Grid``) where every tap is one contiguous 1-D slice.
Ops compute with ``self.xp`` (the inputs' namespace), helpers with the namespace of their arrays; scratch
comes from the convolution workspace (``_im2col._ws``: per thread and device, bounded).
Reference (window loops): shendu.reference.pool.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..autograd.function import Function
from ..backend import device_of, namespace_of, to_device
from . import _im2col as K
from . import _kernels


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
    xp = namespace_of(g)
    padded = any(lo or hi for lo, hi in pads)
    sp_pad = tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], pads))
    if padded:
        gxp = K._ws("pool_gx", x_shape[:2] + sp_pad, g.dtype, g)
        gxp.fill(0)
    else:
        gxp = xp.zeros(x_shape[:2] + sp_pad, dtype=g.dtype)
    tmp = None
    for t, off in enumerate(_offsets(k)):
        sl = _sl(off, s, d, osz)
        if mask_fn is None:
            gxp[sl] += g
        else:
            if tmp is None:
                tmp = xp.empty_like(g)
            xp.multiply(g, mask_fn(t), out=tmp)
            gxp[sl] += tmp
    return gxp[_crop(pads, x_shape[2:])].copy() if padded else gxp  # a copy: gxp is scratch


class _Grid:
    """Polyphase layout of the padded input: phase p = (off % s per dim) holds the padded positions
    p + s * r on a grid (N*C, *q), q = ceil(padded / s). Window tap ``off`` (times dilation) of output o
    is phase (off*d) % s at grid cell o + (off*d) // s: a constant flat shift, so every tap is one
    contiguous 1-D slice of length L - M (L = N*C*prod(q), M the largest shift). Outputs are the grid
    cells [:, :o0, :o1, ...]; the other cells compute garbage that is never read back."""

    def __init__(self, x_shape, k, s, d, pads, osz):
        nd = len(k)
        self.nc = x_shape[0] * x_shape[1]
        self.sp = x_shape[2:]
        sp_pad = tuple(self.sp[a] + pads[a][0] + pads[a][1] for a in range(nd))
        self.q = q = tuple(-(-sp_pad[a] // s[a]) for a in range(nd))
        self.phases = list(itertools.product(*[range(a) for a in s]))
        gst = [int(np.prod(q[a + 1:])) for a in range(nd)]
        self.taps = []  # (phase index, flat shift) per kernel offset, scan order
        for off in _offsets(k):
            ph = tuple((off[a] * d[a]) % s[a] for a in range(nd))
            self.taps.append((self.phases.index(ph), sum((off[a] * d[a]) // s[a] * gst[a] for a in range(nd))))
        self.L = self.nc * int(np.prod(q))
        self.n = self.L - max(sh for _, sh in self.taps)
        self.out_sl = (slice(None),) + tuple(slice(0, o) for o in osz)
        # per phase: (input slices, grid slices) of the real (unpadded) positions it holds
        self.copies = []
        for p, ph in enumerate(self.phases):
            xs, gs = [slice(None)], [slice(None)]
            for a in range(nd):
                h0 = (ph[a] - pads[a][0]) % s[a]
                cnt = len(range(h0, self.sp[a], s[a]))
                r0 = (h0 + pads[a][0]) // s[a]
                xs.append(slice(h0, self.sp[a], s[a]))
                gs.append(slice(r0, r0 + cnt))
            if all(g.stop > g.start for g in gs[1:]):
                self.copies.append((p, tuple(xs), tuple(gs)))


#: Max pooling uses the polyphase grid when N*C is at least this (tests lower it to cover both paths).
CL_MIN = 64


#: Outputs per cache block of the grid max pooling forward.
CHUNK = 65536


def _max_argmax(sl, n_t, out, idx, m, tmp):
    """out = max over taps sl(t) (NaN propagates, as PyTorch), idx = first arg-max in scan order (last NaN if any)."""
    xp = namespace_of(out)
    if n_t == 1:
        xp.copyto(out, sl(0))
    else:
        xp.maximum(sl(0), sl(1), out=out)
    for t in range(2, n_t):
        xp.maximum(out, sl(t), out=out)
    if tmp is not None:
        # code = max over taps of (T - t) * [x_t == y]; idx = T - code
        mu = m.view(np.uint8)
        xp.equal(sl(0), out, out=m)
        xp.multiply(mu, n_t, out=idx)
        for t in range(1, n_t):
            xp.equal(sl(t), out, out=m)
            xp.multiply(mu, n_t - t, out=tmp)
            xp.maximum(idx, tmp, out=idx)
        xp.subtract(n_t, idx, out=idx)
        xp.minimum(idx, n_t - 1, out=idx)  # NaN windows (no tap equals the max): fixed below
    else:
        for t in range(n_t - 1, -1, -1):
            xp.equal(sl(t), out, out=m)
            _put(idx, m, t)
    if out.dtype.kind == "f":
        nan = xp.isnan(out)
        # as PyTorch: a window holding NaN sends its gradient to its last NaN. On a device the fix runs
        # unconditionally (no host sync to ask whether any output is NaN).
        if xp is not np or nan.any():
            for t in range(n_t):
                _put(idx, nan & xp.isnan(sl(t)), t)


def _put(idx, mask, t):
    """idx[mask] = t; on a device as a where-select (a boolean-mask assignment syncs with the host in CuPy)."""
    if type(idx) is np.ndarray:
        idx[mask] = t
    else:
        idx[...] = namespace_of(idx).where(mask, t, idx)


class MaxPoolNd(Function):
    """y[n, c, o] = max over the window of o (padding is -inf). The 2-D backward of host float32/float64 arrays
    runs one compiled pass (ops/_kernels, when numba is installed); the NumPy passes are the reference."""

    def __init__(self, k, s, d, pads):
        self.k, self.s, self.d, self.pads = k, s, d, pads

    def forward(self, x):
        xp = self.xp
        k, s, d, pads = self.k, self.s, self.d, self.pads
        self.x_shape = x.shape
        nd = len(k)
        osz = tuple(K.out_size(x.shape[2 + a], k[a], s[a], d[a], *pads[a]) for a in range(nd))
        self.osz = osz
        nc = x.shape[0] * x.shape[1]
        # polyphase grid when N*C is large: every tap is one long contiguous slice (a strided NCHW
        # slice has inner runs of W_out, which makes each ufunc call ~7x slower)
        self.cl = cl = nc >= CL_MIN
        if cl:
            G = self.grid = _Grid(x.shape, k, s, d, pads, osz)
            P = K._padded_ws("maxpool_grid", (len(G.phases), nc) + G.q, x.dtype, -np.inf,
                             (tuple(pads), tuple(s), tuple(d)), x)
            x3 = x.reshape((nc,) + x.shape[2:])
            Pf = P.reshape(len(G.phases), -1)
            n = G.n
            shape = (n,)
        else:
            xpd = _padded(x, pads, -np.inf, "maxpool")
            offs = _offsets(k)
            shape = x.shape[:2] + osz
        n_t = int(np.prod(k))
        small = n_t < 256
        idx = (xp.empty if small else xp.zeros)(shape, dtype=np.uint8 if small else np.int32)
        # scratch from the workspace (fresh multi-MB temporaries cost page faults): out, mask, codes
        m = K._ws("maxpool_m", shape, np.bool_, x)
        tmp = K._ws("maxpool_code", shape, np.uint8, x) if small else None
        if cl:
            full = K._ws("maxpool_out", (G.L,), x.dtype, x)
            # blocks of about CHUNK outputs (whole channels): the block's grid copy and all its taps stay in
            # cache (CIFAR pool1 max+argmax 5.0 -> 3.8 ms); taps reach at most one channel further
            Q = G.L // nc
            cb = max(1, CHUNK // Q) if xp is np else nc  # a device has no cache to block for: one block
            for c0 in range(0, nc, cb):
                c1 = min(nc, c0 + cb)
                ch = slice(c0, min(nc, c1 + 1))
                for p, xs, gs in G.copies:
                    xp.copyto(P[p][(ch,) + gs[1:]], x3[(ch,) + xs[1:]])
                a, b = c0 * Q, min(n, c1 * Q)
                if a >= b:
                    break
                _max_argmax(lambda t: Pf[G.taps[t][0], G.taps[t][1] + a:G.taps[t][1] + b], n_t,  # noqa: B023
                            full[a:b], idx[a:b], m[a:b], tmp[a:b] if small else None)
        else:
            out = xp.empty(shape, dtype=x.dtype)
            _max_argmax(lambda t: xpd[_sl(offs[t], s, d, osz)], n_t, out, idx, m, tmp)
        self.saved = idx
        if cl:
            return self._crop_grid(full, copy=True)  # full is scratch: the output must not alias it
        return out

    def _crop_grid(self, full, copy=False):
        """Grid-layout flat values (length >= n, at most L) -> contiguous (N, C, *out); a copy when ``copy``
        (else a view of ``full`` when the crop is already contiguous)."""
        G = self.grid
        xp = namespace_of(full)
        if full.size < G.L:
            a = xp.empty(G.L, dtype=full.dtype)
            a[:full.size] = full
            full = a
        crop = full.reshape((G.nc,) + G.q)[G.out_sl]
        return (crop.copy() if copy else xp.ascontiguousarray(crop)).reshape(self.x_shape[:2] + self.osz)

    def nchw_idx(self):
        """The saved arg-max offsets in (N, C, *out) layout."""
        idx = self.saved
        if not self.cl:
            return idx
        return self._crop_grid(idx)

    def backward_array(self, gy):
        if len(self.k) == 2 and _kernels.host_ok(gy) and self.saved.dtype == np.uint8:
            kern = _kernels.pool_kernels()
            if kern is not None:  # one compiled pass routing gy to the arg-maxes (host NumPy only)
                return _scatter_jit(kern, gy, self.nchw_idx(), self.k, self.s, self.d, self.pads, self.x_shape)
        if not self.cl:
            idx = self.saved
            return _scatter(gy, self.k, self.s, self.d, self.osz, self.pads, self.x_shape, lambda t: idx == t)
        return self._backward_grid(gy)

    def _backward_grid(self, gy):
        xp = self.xp
        G, idx = self.grid, self.saved
        n = G.n
        gyg = K._padded_ws("maxpool_gy", (G.nc,) + G.q, gy.dtype, 0.0, (G.q, self.osz), gy)
        xp.copyto(gyg[G.out_sl], gy.reshape((G.nc,) + self.osz))  # the other cells stay 0
        gyf = gyg.reshape(-1)[:n]
        gP = K._ws("maxpool_gx", (len(G.phases), G.L), gy.dtype, gy)
        tmp = K._ws("maxpool_gtmp", (n,), gy.dtype, gy)
        m = K._ws("maxpool_m", (n,), np.bool_, gy)
        # per phase, the tap with the largest shift writes its range (no zero-fill pass) and goes first in
        # each cache block: a smaller-shift tap only adds below that block's written range or into it
        last = {}
        for t, (p, sh) in enumerate(G.taps):
            if p not in last or sh > G.taps[last[p]][1]:
                last[p] = t
        for p in range(len(G.phases)):
            if p in last:
                sh = G.taps[last[p]][1]
                gP[p, :sh] = 0
                gP[p, sh + n:] = 0
            else:  # a phase no tap reads (stride > kernel span)
                gP[p] = 0
        order = sorted(range(len(G.taps)), key=lambda t: t not in last.values())
        gP3 = gP.reshape((len(G.phases), G.nc) + G.q)
        gx = xp.empty((G.nc,) + tuple(G.sp), dtype=gy.dtype)
        Q = G.L // G.nc
        cb = max(1, CHUNK // Q) if xp is np else G.nc
        done = 0
        for c0 in range(0, G.nc, cb):  # blocks of whole channels, as the forward
            a, b = c0 * Q, min(n, (c0 + cb) * Q)
            if a < b:
                ma, ta, ia, ga = m[a:b], tmp[a:b], idx[a:b], gyf[a:b]
                for t in order:
                    p, sh = G.taps[t]
                    xp.equal(ia, t, out=ma)
                    if last[p] == t:
                        xp.multiply(ga, ma, out=gP[p, sh + a:sh + b])
                    else:
                        xp.multiply(ga, ma, out=ta)
                        gP[p, sh + a:sh + b] += ta
            # grid cells below b have all their contributions: copy those channels out while in cache
            upto = G.nc if c0 + cb >= G.nc else b // Q
            if upto > done:
                ch = slice(done, upto)
                for p, xs, gs in G.copies:
                    xp.copyto(gx[(ch,) + xs[1:]], gP3[p][(ch,) + gs[1:]])
                done = upto
        return gx.reshape(self.x_shape)

    def backward(self, gy):
        return _MaxPoolRoute(_Geo(self), False)(gy)

    def indices(self):
        """PyTorch-style flat indices into the unpadded spatial plane of each arg-max (on idx's device)."""
        idx = self.nchw_idx()
        xp = namespace_of(idx)
        offs = np.array(_offsets(self.k)).reshape(-1, len(self.k))
        offs = to_device(offs, device_of(idx))  # the small offset table goes to idx's device once
        nd = len(self.k)
        flat = xp.zeros(idx.shape, dtype=np.int64)
        for a in range(nd):
            o = xp.arange(self.osz[a]).reshape((-1,) + (1,) * (nd - 1 - a)) * self.s[a]
            pos = o + offs[:, a][idx] * self.d[a] - self.pads[a][0]
            flat = flat * self.x_shape[2 + a] + pos
        return flat


def _scatter_jit(kern, gy, idx, k, s, d, pads, x_shape):
    """gx of 2-D max pooling by the compiled scatter: gy (N, C, Ho, Wo), idx its arg-max taps (uint8, NCHW)."""
    nc = x_shape[0] * x_shape[1]
    osz = gy.shape[2:]
    gx = np.empty(x_shape, dtype=gy.dtype)
    kern.maxpool2d_bwd(np.ascontiguousarray(gy).reshape((nc,) + osz), np.ascontiguousarray(idx).reshape((nc,) + osz),
                       k[1], s[0], s[1], d[0], d[1], pads[0][0], pads[1][0], gx.reshape((nc,) + tuple(x_shape[2:])))
    return gx


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
        xp = self.xp
        p = self.pool
        idx = p.saved
        if not self.gather:
            return _scatter(g, p.k, p.s, p.d, p.osz, p.pads, p.x_shape, lambda t: idx == t)
        gp = _padded(g, p.pads, 0.0, "maxroute")
        out = xp.zeros(idx.shape, dtype=g.dtype)
        for t, off in enumerate(_offsets(p.k)):
            xp.copyto(out, gp[_sl(off, p.s, p.d, p.osz)], where=idx == t)
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
        out = namespace_of(x).array(xpd[_sl(offs[0], s, d, osz)], dtype=x.dtype)
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


def avg_divisor(sp, k, s, pads, explicit, osz, count_pads, dtype, device=None):
    """1/divisor as a scalar (all windows full) or an array of shape out_size (on ``device``; None: the
    host): the number of taps of each window inside the input, counting the explicit padding (not the
    ceil overhang) if ``count_pads``. Geometry only, so it is computed on the host."""
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
    div = (1.0 / np.maximum(cnt, 1.0)).astype(dtype)
    return div if device is None else to_device(div, device)
