"""N-d max pooling (textbook 9.3; the seeds' CNN back-propagation: max pooling routes each error to the
arg-max position recorded in the forward pass, the "upsample" rule). Average pooling lives in
shendu.ops._pool_avg, the window geometry and the polyphase grid in shendu.ops._pool_windows; this module
re-exports them (``shendu.ops.pool`` is the public path).

Layout (N, C, *sp). Everything is a loop over the prod(k) kernel taps of vectorized operations on the whole
batch: no Python loop over pixels or items, no np.add.at. Max pooling keeps only the small per-output tap index
(uint8/int32) for backward; for large N*C it works on a polyphase grid (``_Grid``) where every tap is one
contiguous 1-D slice. Ops compute with ``self.xp`` (the inputs' namespace), helpers with the namespace of their
arrays; scratch comes from shendu.ops._workspace (per thread and device, bounded; on the grid one cache block
of channels, not the batch). Reference (window loops): shendu.reference.pool.max_pool2d, max_pool2d_backward.
Kept whole (~320 lines): max pooling's forward and its three backward layouts share the arg-max bookkeeping.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..backend import device_of, namespace_of, to_device
from . import _kernels
from ._conv.geometry import out_size
from ._pool_avg import AvgPoolNd
from ._pool_windows import _offsets, _padded, _scatter, _sl, avg_divisor, grid_for, pool_geometry
from ._recycle import recycled_empty
from ._workspace import _padded_ws, _ws

__all__ = ["MaxPoolNd", "AvgPoolNd", "pool_geometry", "avg_divisor"]


#: Max pooling uses the polyphase grid when N*C is at least this (tests lower it to cover both paths).
CL_MIN = 64


#: Outputs per cache block of the grid max pooling (forward and backward).
CHUNK = 65536


def _max_argmax(sl, n_t, out, idx, m, tmp):
    """out = max over taps sl(t) (NaN propagates, as PyTorch), idx = first arg-max in scan order (last NaN if any).
    With uint8 codes (``tmp`` given) one running pass: tap t takes over where it beats the maximum of the taps
    before it (x_t > max(x_0..x_t-1): a tie stays with the earlier tap), 4 array passes per tap."""
    xp = namespace_of(out)
    if n_t == 1:
        xp.copyto(out, sl(0))
        idx.fill(0)
    elif tmp is not None:
        mu = m.view(np.uint8)
        xp.greater(sl(1), sl(0), out=m)
        xp.maximum(sl(0), sl(1), out=out)
        xp.copyto(idx, mu)
        for t in range(2, n_t):
            xp.greater(sl(t), out, out=m)
            xp.maximum(out, sl(t), out=out)
            xp.multiply(mu, t, out=tmp)  # t where tap t takes over, else 0 (< every earlier code)
            xp.maximum(idx, tmp, out=idx)
    else:  # int32 codes (>= 256 taps): max first, then the first tap equal to it
        xp.maximum(sl(0), sl(1), out=out)
        for t in range(2, n_t):
            xp.maximum(out, sl(t), out=out)
        for t in range(n_t - 1, -1, -1):
            xp.equal(sl(t), out, out=m)
            _put(idx, m, t)
    # as PyTorch: a window holding NaN sends its gradient to its last NaN. On the host a max (one read pass,
    # NaN propagates) asks whether any output is NaN; on a device the fix runs unconditionally (no host sync).
    if out.dtype.kind == "f" and (xp is not np or (out.size and np.isnan(out.max()))):
        nan = xp.isnan(out)
        for t in range(n_t):
            _put(idx, nan & xp.isnan(sl(t)), t)


def _put(idx, mask, t):
    """idx[mask] = t; on a device as a where-select (a boolean-mask assignment syncs with the host in CuPy)."""
    if type(idx) is np.ndarray:
        idx[mask] = t
    else:
        idx[...] = namespace_of(idx).where(mask, t, idx)


class MaxPoolNd(Function):
    """y[n, c, o] = max over the window of o (padding is -inf); backward routes gy[n, c, o] to the window's first
    arg-max. x (N, C, *sp) -> (N, C, *out). Two array layouts: strided NCHW taps (small N*C) and the polyphase
    grid (N*C >= CL_MIN); with SHENDU_NUMBA=1 the 2-D backward of host float32/float64 arrays runs one compiled
    pass (ops/_kernels). Reference for all three: shendu.reference.pool.max_pool2d, max_pool2d_backward
    (tests/reference/test_pool.py)."""

    def __init__(self, k, s, d, pads):
        self.k, self.s, self.d, self.pads = k, s, d, pads

    def forward(self, x):
        xp = self.xp
        k, s, d, pads = self.k, self.s, self.d, self.pads
        self.x_shape = x.shape
        nd = len(k)
        osz = tuple(out_size(x.shape[2 + a], k[a], s[a], d[a], *pads[a]) for a in range(nd))
        self.osz = osz
        nc = x.shape[0] * x.shape[1]
        # polyphase grid when N*C is large: every tap is one long contiguous slice (a strided NCHW
        # slice has inner runs of W_out, which makes each ufunc call ~7x slower)
        self.cl = cl = nc >= CL_MIN
        if cl:
            G = self.grid = grid_for(x.shape, k, s, d, pads, osz)
            x3 = x.reshape((nc,) + x.shape[2:])
            n = G.n
            shape = (n,)
        else:
            xpd = _padded(x, pads, -np.inf, "maxpool")
            offs = _offsets(k)
            shape = x.shape[:2] + osz
        n_t = int(np.prod(k))
        small = n_t < 256
        idx = recycled_empty(shape, np.uint8, x) if small else xp.zeros(shape, dtype=np.int32)
        if not cl:
            # scratch from the workspace (fresh multi-MB temporaries cost page faults): mask, codes
            m = _ws("maxpool_m", shape, np.bool_, x)
            tmp = _ws("maxpool_code", shape, np.uint8, x) if small else None
            out = recycled_empty(shape, x.dtype, x)
            _max_argmax(lambda t: xpd[_sl(offs[t], s, d, osz)], n_t, out, idx, m, tmp)
            self.saved = idx
            return out
        # blocks of about CHUNK outputs (whole channels): the block's grid copy and all its taps stay in cache
        # (CIFAR pool1 max+argmax 5.0 -> 3.8 ms). All scratch is block-sized, not batch-sized (the grid copy,
        # mask, codes, cells before the crop; with the backward's: CIFAR loop peak 174 -> 134 MiB, pool1 forward
        # 8.3 -> 7.8 ms): a block's taps reach at most one channel further (the largest shift is below one
        # channel's Q cells) and only from cells that are not outputs, so the grid copy holds one spare channel
        # that keeps whatever it last held. Its -inf border depends on the input size, not only on the grid.
        Q = G.L // nc
        cb = min(nc, max(1, CHUNK // Q)) if xp is np else nc  # a device has no cache to block for: one block
        nb = min(nc, cb + 1)
        P = _padded_ws("maxpool_grid", (len(G.phases), nb) + G.q, x.dtype, -np.inf,
                       (tuple(pads), tuple(s), tuple(d), tuple(x.shape[2:])), x)
        Pf = P.reshape(len(G.phases), -1)
        m = _ws("maxpool_m", (cb * Q,), np.bool_, x)
        tmp = _ws("maxpool_code", (cb * Q,), np.uint8, x) if small else None
        if G.dense:  # every cell is an output: the cells are the result
            full = recycled_empty((G.L,), x.dtype, x)
        else:
            y = recycled_empty((nc,) + osz, x.dtype, x)
            fb = _ws("maxpool_out", (cb * Q,), x.dtype, x)
        for c0 in range(0, nc, cb):
            c1 = min(nc, c0 + cb)
            a, b = c0 * Q, min(n, c1 * Q)
            cnt = min(nc, c1 + 1) - c0
            for p, xs, gs in G.copies:
                xp.copyto(P[p][(slice(0, cnt),) + gs[1:]], x3[(slice(c0, c0 + cnt),) + xs[1:]])
            w = b - a
            _max_argmax(lambda t: Pf[G.taps[t][0], G.taps[t][1]:G.taps[t][1] + w], n_t,  # noqa: B023
                        full[a:b] if G.dense else fb[:w], idx[a:b], m[:w], tmp[:w] if small else None)
            if not G.dense:  # the block's outputs (cells past w are not outputs)
                xp.copyto(y[c0:c1], fb[:(c1 - c0) * Q].reshape((c1 - c0,) + G.q)[G.out_sl])
        self.saved = idx
        return (full if G.dense else y).reshape(x.shape[:2] + osz)

    def _crop_grid(self, full):
        """Grid-layout flat values (length >= n, at most L) -> contiguous (N, C, *out) (a view of ``full`` when
        the crop is already contiguous)."""
        G = self.grid
        xp = namespace_of(full)
        if full.size < G.L:
            a = xp.empty(G.L, dtype=full.dtype)
            a[:full.size] = full
            full = a
        crop = full.reshape((G.nc,) + G.q)[G.out_sl]
        return xp.ascontiguousarray(crop).reshape(self.x_shape[:2] + self.osz)

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
                return _kernels.maxpool2d_backward(kern, gy, self.nchw_idx(), self.k, self.s, self.d, self.pads,
                                                   self.x_shape)
        if not self.cl:
            idx = self.saved
            return _scatter(gy, self.k, self.s, self.d, self.osz, self.pads, self.x_shape, lambda t: idx == t)
        if self.grid.dense:
            return self._backward_dense(gy)
        return self._backward_grid(gy)

    def _backward_dense(self, gy):
        """gx when every grid cell is an output (non-overlapping windows, k == s): each tap is alone in its phase
        at shift 0, so per cache block and tap, gy * [idx == t] goes straight to the tap's strided positions of
        gx (no phase buffer; mnist_cnn's pool 2.7 -> 2.3 ms)."""
        xp = self.xp
        G, idx = self.grid, self.saved
        Q = G.L // G.nc
        cb = max(1, CHUNK // Q) if xp is np else G.nc
        gyf = xp.ascontiguousarray(gy).reshape(-1)
        gx = recycled_empty((G.nc,) + tuple(G.sp), gy.dtype, gy)
        m = _ws("maxpool_bm", (cb * Q,), np.bool_, gy)
        real = {p: (xs[1:], gs[1:]) for p, xs, gs in G.copies}  # phases holding input positions
        for c0 in range(0, G.nc, cb):
            c1 = min(G.nc, c0 + cb)
            a, b = c0 * Q, c1 * Q
            ma = m[:b - a]
            blk = (c1 - c0,) + G.q
            for t, (p, _) in enumerate(G.taps):
                if p in real:  # (else the tap reads only padding)
                    xs, gs = real[p]
                    xp.equal(idx[a:b], t, out=ma)
                    sel = (slice(None),) + gs
                    # the product written straight to the tap's strided positions (LeNet's pools 0.26 -> 0.21
                    # and 0.13 -> 0.10 ms than through a contiguous temporary)
                    xp.multiply(gyf[a:b].reshape(blk)[sel], ma.reshape(blk)[sel], out=gx[(slice(c0, c1),) + xs])
        tapped = {p for p, _ in G.taps}
        for p, (xs, _) in real.items():
            if p not in tapped:  # stride > kernel: input positions no window reads
                gx[(slice(None),) + xs] = 0
        return gx.reshape(self.x_shape)

    def _backward_grid(self, gy):
        """gx on the polyphase grid, in cache blocks of whole channels (as the forward): per tap gy * [idx == t]
        added into its phase at its shift, then the block's phases copied out to their strided positions of gx.
        The phase buffers are block-sized: a tap's writes past the block come only from cells that are not
        outputs, whose gy is 0 (CIFAR pool1 10.1 -> 8.8 ms, pool2 3.2 -> 2.8 ms, without the 21 + 5 MiB of
        whole-batch phase and gy buffers). Costs per block (pool1): 9 mask products ~45%, copying the 4 phases
        out to gx's strided positions ~35% (strided or interleaved writes cost more than they save)."""
        xp = self.xp
        G, idx = self.grid, self.saved
        n, nph = G.n, len(G.phases)
        Q = G.L // G.nc
        cb = min(G.nc, max(1, CHUNK // Q)) if xp is np else G.nc
        if G.dense:  # gy is already the grid layout
            gyf = xp.ascontiguousarray(gy).reshape(-1)
        else:  # per block: gy into a zero-bordered grid block (the cells that are not outputs stay 0)
            gyg = _padded_ws("maxpool_gy", (cb,) + G.q, gy.dtype, 0.0, (G.q, self.osz), gy)
            gyf = gyg.reshape(-1)
            gy3 = gy.reshape((G.nc,) + self.osz)
        gP = _ws("maxpool_gx", (nph, cb * Q + G.L - n), gy.dtype, gy)
        tmp = _ws("maxpool_gtmp", (cb * Q,), gy.dtype, gy)
        m = _ws("maxpool_m", (cb * Q,), np.bool_, gy)
        # per phase, the tap with the largest shift writes its range (no zero-fill pass) and goes first in
        # each block: a smaller-shift tap only adds below that block's written range or into it
        last = {}
        for t, (p, sh) in enumerate(G.taps):
            if p not in last or sh > G.taps[last[p]][1]:
                last[p] = t
        for p in range(nph):
            if p not in last:  # a phase no tap reads (stride > kernel span)
                gP[p] = 0
        order = sorted(range(len(G.taps)), key=lambda t: t not in last.values())
        gx = recycled_empty((G.nc,) + tuple(G.sp), gy.dtype, gy)
        for c0 in range(0, G.nc, cb):
            c1 = min(G.nc, c0 + cb)
            a, b = c0 * Q, min(n, c1 * Q)
            w, span = b - a, (c1 - c0) * Q
            if G.dense:
                ga = gyf[a:b]
            else:
                xp.copyto(gyg[(slice(0, c1 - c0),) + G.out_sl[1:]], gy3[c0:c1])
                ga = gyf[:w]
            ma, ta, ia = m[:w], tmp[:w], idx[a:b]
            for t in order:
                p, sh = G.taps[t]
                xp.equal(ia, t, out=ma)
                if last[p] == t:
                    gP[p, :sh] = 0
                    xp.multiply(ga, ma, out=gP[p, sh:sh + w])
                    if sh + w < span:  # the last block: cells past n
                        gP[p, sh + w:span] = 0
                else:
                    xp.multiply(ga, ma, out=ta)
                    gP[p, sh:sh + w] += ta
            gP3 = gP[:, :span].reshape((nph, c1 - c0) + G.q)
            for p, xs, gs in G.copies:
                xp.copyto(gx[(slice(c0, c1),) + xs[1:]], gP3[p][(slice(None),) + gs[1:]])
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
