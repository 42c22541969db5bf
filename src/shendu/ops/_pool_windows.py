"""Pooling windows (textbook 9.3, 9.5): the geometry of a window sweep (padding, 'same', ceil mode, output
sizes, average-pooling divisors), the window taps as strided slices, their adjoint (scatter-add of a gradient
over the taps) and the polyphase grid on which max pooling runs each tap as one contiguous slice.

Layout (N, C, *sp). Windows: kernel k, stride s, dilation d, per-dim padding (lo, hi) (hi includes the
ceil-mode overhang). A tap is one kernel offset ``off``: the slice x_pad[..., off*d + s*o] over all outputs o.
Helpers compute with the namespace of their arrays; scratch comes from shendu.ops._workspace.
Reference (window loops): shendu.reference.pool.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..backend import namespace_of, to_device
from ._conv.geometry import out_size
from ._workspace import _ws, pad_chunk


def _offsets(k):
    """The kernel offsets (taps) in scan order (row-major over the kernel)."""
    return list(itertools.product(*[range(a) for a in k]))


def _sl(off, s, d, osz):
    """The strided slice of tap ``off`` over the padded input: x_pad[..., off*d + s*o], o < osz."""
    return (slice(None), slice(None)) + tuple(
        slice(off[a] * d[a], off[a] * d[a] + s[a] * (osz[a] - 1) + 1, s[a]) for a in range(len(off))
    )


def _crop(pads, sp):
    return (slice(None), slice(None)) + tuple(slice(lo, lo + n) for (lo, _), n in zip(pads, sp))


def _padded(x, pads, fill, tag):
    """x padded by ``pads`` with ``fill`` (a scratch buffer), or x itself without padding."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return pad_chunk(x, pads, tag, fill)


def _scatter(g, k, s, d, osz, pads, x_shape, mask_fn=None):
    """Adjoint of the window gather: sum over taps t of g (times mask_fn(t)) placed at tap t's slice."""
    xp = namespace_of(g)
    padded = any(lo or hi for lo, hi in pads)
    sp_pad = tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], pads))
    if padded:
        gxp = _ws("pool_gx", x_shape[:2] + sp_pad, g.dtype, g)
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
        self.dense = tuple(q) == tuple(osz)  # every grid cell is an output (no garbage cells)
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


_GRIDS: dict = {}


def grid_for(x_shape, k, s, d, pads, osz):
    """The (read-only) ``_Grid`` of this geometry, built once: a training step pools the same shapes each time
    (building one is ~27 us of Python, a LeNet step has two)."""
    key = (tuple(x_shape), tuple(k), tuple(s), tuple(d), tuple(pads), tuple(osz))
    g = _GRIDS.get(key)
    if g is None:
        if len(_GRIDS) >= 256:
            _GRIDS.clear()
        g = _GRIDS[key] = _Grid(x_shape, k, s, d, pads, osz)
    return g


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
            return tuple(pads), tuple(out_size(sp[a], k[a], s[a], d[a], *pads[a]) for a in range(nd)), tuple(pads)
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
