"""Array kernels for N-d convolution (textbook 9.8, efficient convolution): im2col through a
strided window view plus one GEMM per batch chunk, col2im as kh*kw strided slice-adds.

Layouts: inputs are (N, C, *spatial) ("NCHW"); the column matrix of a chunk of ``nb`` items is
(C*prod(k), nb*prod(out)) with rows ordered (c, k0, k1, ...) and columns (n, o0, o1, ...), so
``W.reshape(O, -1) @ cols`` is a single BLAS call; for many channels a channels-last matrix
(nb*prod(out), prod(k)*C) is cheaper to build (``NHWC``). Chunks bound the workspace
(``WORKSPACE_BYTES``) and scratch buffers are reused across calls (``_ws``), so a training step
allocates only its outputs; the cache is per thread and bounded (``CACHE_BYTES``, least recently
used dropped). Input gradients: stride 1 with many channels as a correlation of gy with the rot180
kernel (the seeds' rule, ``ROT180``); else GEMM then col2im (``_input_grad_wide`` for stride-1 2-D,
slice-adds per kernel offset otherwise); with ROT180 the weight gradient reuses gy's column matrices
(``_rot180_fused``).

Every kernel computes with the namespace of its input arrays (NumPy, CuPy); scratch buffers are cached
per thread and device (``_where``), so host and device buffers never mix and threads never share one.
The same kernels run on a GPU: they are im2col/col2im copies plus GEMMs, using only functions CuPy has
(``copyto``, ``matmul(out=)``, ufuncs with ``out=``, ``as_strided``); only ``as_strided``'s ``writeable=False``
is NumPy's alone.
"""
from __future__ import annotations

import itertools
import math
import threading
import weakref

import numpy as np

from ..backend import backend_of, device_of, namespace_of

#: Upper bound on the column-matrix scratch per chunk (bytes): 4 MiB was ~20% faster single-threaded,
#: 16 MiB much faster with 2 BLAS threads on a loaded 2-core machine (fewer thread hand-offs).
WORKSPACE_BYTES = 8 << 20
#: Stride-1 2-D groups=1 convolutions with C*kw < 32 build their columns on the zero-extended 'wide' grid
#: (contiguous runs of Ho*Wp instead of W_out; see _wide_cols).
WIDE = True
#: Stride-1 2-D input gradients by slice-adds of whole rows on a zero-extended grid (see _input_grad_wide).
WIDE_COL2IM = True
#: Column matrices up to this size (whole batch) are kept from forward for the weight gradient.
KEEP_COLS_BYTES = 8 << 20
#: Stride-1 input gradients with C >= 32 as a forward correlation with the rot180 kernel (else GEMM +
#: col2im, cheaper when the input has few channels).
ROT180 = True
#: With ROT180, the weight gradient of a stride-1 groups=1 channels-last conv reuses the input gradient's
#: column matrices of gy (see _rot180_fused) instead of building x's.
FUSED_ROT180 = True
#: groups=1 convolutions with C*kw >= 32 through channels-last column matrices (copies runs of kw*C
#: contiguous values: ~4x faster im2col for C=64, 5x5 than the NCHW layout's runs of W_out).
NHWC = True
#: groups=1 convolutions left to the NCHW kernels with at least this many output positions use per-item
#: column matrices (nb, C*prod(k), prod(out)) and one batched GEMM W @ cols[n] per chunk, which writes y in
#: NCHW directly (no output transpose) and gives the weight gradient without transposing gy (CIFAR conv1,
#: 3->64 5x5 on 24x24: forward 8.5 -> ~5.5 ms, weight gradient ~10 -> ~6 ms, /tmp/cv/c1.py).
ITEM_MIN_OUT = 256

#: Per-thread byte budget of the cached scratch buffers: beyond it the least recently used are dropped.
#: A buffer asked for again after being dropped grows its thread's budget to its reuse distance (the
#: bytes of the buffers used since its last use: a training step that needs more, e.g. the CIFAR CNN at
#: batch 128, 86 MiB), so a thread holds at most max(CACHE_BYTES, the buffers one step reuses); buffers
#: of input sizes seen once age out.
CACHE_BYTES = 32 << 20
#: At most this many cached buffers per thread (also the number of dropped keys remembered).
CACHE_ENTRIES = 256
_ndarray = np.ndarray
_TICK = itertools.count()  # use order of cached buffers (shared by all threads: only compared)


class _Cache:
    """One thread's scratch buffers, least recently used first: key -> (array, tick of its last use)."""

    __slots__ = ("bufs", "dropped", "grown", "__weakref__")

    def __init__(self):
        self.bufs = {}
        self.dropped = {}  # key -> tick of its last use, for buffers dropped lately
        self.grown = 0  # the budget that reuse has shown this thread needs (bytes)


_CACHES = weakref.WeakSet()  # every live thread's _Cache (for clear_workspace)
_CACHES_LOCK = threading.Lock()


class _Local(threading.local):
    """Scratch memory is per thread: two threads running convolutions never share a buffer."""

    def __init__(self):
        self.cache = c = _Cache()
        with _CACHES_LOCK:
            _CACHES.add(c)


_LOCAL = _Local()


def _lookup(key):
    """The calling thread's buffer cached under ``key`` (now the most recently used), or None."""
    bufs = _LOCAL.cache.bufs
    e = bufs.pop(key, None)
    if e is None:
        return None
    bufs[key] = (e[0], next(_TICK))
    return e[0]


def _oldest(d):
    """The first key of dict ``d`` (None if empty, or emptied meanwhile by ``clear_workspace``)."""
    try:
        return next(iter(d))
    except (StopIteration, RuntimeError):
        return None


def _keep(key, buf):
    """Cache ``buf`` under ``key`` for the calling thread, dropping least recently used buffers beyond
    its budget; a buffer asked for again after being dropped grows the budget to its reuse distance."""
    c = _LOCAL.cache
    bufs, dropped = c.bufs, c.dropped
    bufs.pop(key, None)  # a smaller buffer of the same key it replaces
    entries = list(bufs.values())
    last = dropped.pop(key, None)
    if last is not None:  # bytes used since its last use, plus its own: what keeping it takes
        c.grown = max(c.grown, buf.nbytes + sum([b.nbytes for b, t in entries if t > last]))
    budget = max(CACHE_BYTES, c.grown)
    tick = next(_TICK)
    if buf.nbytes > budget:  # larger than the whole budget: kept only when asked for again
        dropped[key] = tick
        return
    total = buf.nbytes + sum([b.nbytes for b, _ in entries])
    while bufs and (total > budget or len(bufs) >= CACHE_ENTRIES):
        old = _oldest(bufs)
        e = bufs.pop(old, None)
        if e is not None:
            total -= e[0].nbytes
            dropped[old] = e[1]
    while len(dropped) > CACHE_ENTRIES:
        dropped.pop(_oldest(dropped), None)
    bufs[key] = (buf, tick)


def _where(like):
    """The cache-key part naming where a scratch buffer for arrays like ``like`` lives: None on the host
    (``like`` None or a NumPy array), else (array type, device), so host and device buffers never mix."""
    if like is None or type(like) is _ndarray:
        return None
    return type(like), device_of(like)


def _alloc(like, fn, *args, **kw):
    """``xp.<fn>(*args, **kw)`` with the namespace of ``like`` (None: NumPy), on ``like``'s device."""
    if like is None or type(like) is _ndarray:
        return getattr(np, fn)(*args, **kw)
    with backend_of(like).use(device_of(like).index):
        return getattr(namespace_of(like), fn)(*args, **kw)


def _ws(tag, shape, dtype, like=None):
    """A reusable scratch array of ``shape`` (contents undefined) on the device of array ``like`` (None:
    the host); one growing buffer per tag, dtype, device and thread."""
    n = math.prod(shape)
    key = (tag, np.dtype(dtype), _where(like))
    buf = _lookup(key)
    if buf is None or buf.size < n:
        buf = _alloc(like, "empty", max(n, 1), dtype=dtype)
        _keep(key, buf)
    return buf[:n].reshape(shape)


def _padded_ws(tag, shape, dtype, fill, pads, like=None):
    """A reusable buffer whose border (outside ``pads``) is ``fill``, on the device of array ``like``
    (None: the host), per thread; the caller overwrites the interior."""
    key = (tag, shape, np.dtype(dtype), fill, pads, _where(like))
    buf = _lookup(key)
    if buf is None:
        buf = _alloc(like, "full", shape, fill, dtype=dtype)
        _keep(key, buf)
    return buf


def constant(tag, shape, dtype, fill, like=None):
    """A cached array of ``shape`` filled with ``fill`` (per thread and device); callers only read it."""
    return _padded_ws(tag, shape, dtype, fill, None, like)


def clear_workspace():
    """Free all cached convolution scratch buffers (of every thread, on every device)."""
    with _CACHES_LOCK:
        caches = list(_CACHES)
    for c in caches:
        c.bufs.clear()
        c.dropped.clear()
        c.grown = 0


def workspace_bytes(all_threads: bool = False) -> int:
    """Bytes of scratch buffers cached by the calling thread (or by every thread)."""
    if all_threads:
        with _CACHES_LOCK:
            caches = list(_CACHES)
    else:
        caches = [_LOCAL.cache]
    return sum(e[0].nbytes for c in caches for e in list(c.bufs.values()))


def thread_buffers() -> dict:
    """The calling thread's scratch buffers {key: array}; keys end with the buffer's (array type, device) or None
    on the host (for tests and debugging)."""
    return {k: e[0] for k, e in list(_LOCAL.cache.bufs.items())}


def _as_strided(a, shape, strides):
    """A read-only strided view of ``a`` (CuPy's ``as_strided`` has no ``writeable`` flag)."""
    if type(a) is _ndarray:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)
    return namespace_of(a).lib.stride_tricks.as_strided(a, shape, strides)


def out_size(size, k, s, d, lo, hi):
    """Output length of a window sweep: floor((size + lo + hi - d*(k-1) - 1)/s) + 1."""
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def _pad_chunk(x, pads, tag, fill=0.0):
    """x (nb, C, *sp) padded by ``pads`` [(lo, hi), ...]; a view of x when there is no padding."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = x.shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))
    buf = _padded_ws(tag, shape, x.dtype, fill, tuple(pads), x)
    inner = (slice(None), slice(None)) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads))
    buf[inner] = x
    return buf


def window_view(xpad, k, s, d, osz):
    """Strided view (nb, C, *k, *out) of padded xpad (nb, C, *sp): element [n, c, i.., o..] is
    xpad[n, c, o*s + i*d ...]. No copy."""
    nd = len(k)
    st = xpad.strides
    shape = xpad.shape[:2] + tuple(k) + tuple(osz)
    strides = st[:2] + tuple(st[2 + a] * d[a] for a in range(nd)) + tuple(st[2 + a] * s[a] for a in range(nd))
    return _as_strided(xpad, shape, strides)


def im2col(xpc, k, s, d, osz, tag="cols"):
    """Column matrix (C*prod(k), nb*prod(out)) of a padded chunk, in a reused buffer (a fresh array
    when ``tag`` is None)."""
    xp = namespace_of(xpc)
    nb, c = xpc.shape[:2]
    nd = len(k)
    win = window_view(xpc, k, s, d, osz)  # (nb, C, *k, *o)
    perm = (1,) + tuple(range(2, 2 + nd)) + (0,) + tuple(range(2 + nd, 2 + 2 * nd))
    shape = (c,) + tuple(k) + (nb,) + tuple(osz)
    cols = xp.empty(shape, dtype=xpc.dtype) if tag is None else _ws(tag, shape, xpc.dtype, xpc)
    xp.copyto(cols, win.transpose(perm))
    return cols.reshape(c * math.prod(k), nb * math.prod(osz))


def im2col_items(xpc, k, s, d, osz, tag="cols_item"):
    """Per-item column matrices (nb, C*prod(k), prod(out)) of a padded chunk (rows (c, k..), columns
    (o..)), in a reused buffer (a fresh array when ``tag`` is None)."""
    xp = namespace_of(xpc)
    nb, c = xpc.shape[:2]
    win = window_view(xpc, k, s, d, osz)  # (nb, C, *k, *o): already in the matrix order
    cols = xp.empty(win.shape, dtype=xpc.dtype) if tag is None else _ws(tag, win.shape, xpc.dtype, xpc)
    xp.copyto(cols, win)
    return cols.reshape(nb, c * math.prod(k), math.prod(osz))


def _item_ok(groups, po):
    return groups == 1 and po >= ITEM_MIN_OUT


def col2im_add(gx_pad, gcols, k, s, d, osz):
    """gx_pad (nb, C, *sp) += the adjoint of im2col applied to gcols (C, *k, nb, *out):
    one strided slice-add per kernel offset (no add.at)."""
    nd = len(k)
    for off in itertools.product(*[range(kk) for kk in k]):
        sl = (slice(None), slice(None)) + tuple(
            slice(off[a] * d[a], off[a] * d[a] + s[a] * (osz[a] - 1) + 1, s[a]) for a in range(nd)
        )
        src = gcols[(slice(None),) + off]  # (C, nb, *o)
        gx_pad[sl] += src.transpose((1, 0) + tuple(range(2, nd + 2)))


def chunk_size(n, per_item_bytes):
    return max(1, min(n, WORKSPACE_BYTES // max(per_item_bytes, 1)))


def _nhwc_chunk(x, pads, tag):
    """Channels-last padded copy (nb, *sp_pad, C) of x (nb, C, *sp) in a reused buffer (zero border)."""
    nd = x.ndim - 2
    shape = (x.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)) + (x.shape[1],)
    buf = _padded_ws(tag, shape, x.dtype, 0.0, tuple(pads), x)
    inner = (slice(None),) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads)) + (slice(None),)
    namespace_of(x).copyto(buf[inner], x.transpose((0,) + tuple(range(2, 2 + nd)) + (1,)))
    return buf


def im2col_nhwc(xh, k, s, d, osz, tag="cols_nhwc"):
    """Row-per-output column matrix (nb*prod(out), prod(k)*C) of a channels-last padded chunk; rows (n, o..),
    columns (k.., c): copies runs of kw*C contiguous values when the dilation is 1."""
    nd = len(k)
    st = xh.strides
    nb, c = xh.shape[0], xh.shape[-1]
    shape = (nb,) + tuple(osz) + tuple(k) + (c,)
    strides = (st[0],) + tuple(st[1 + a] * s[a] for a in range(nd)) + tuple(st[1 + a] * d[a] for a in range(nd)) \
        + (st[-1],)
    win = _as_strided(xh, shape, strides)
    cols = _ws(tag, shape, xh.dtype, xh)
    namespace_of(xh).copyto(cols, win)
    return cols.reshape(nb * math.prod(osz), math.prod(k) * c)


def _w_rows(w):
    """w (O, C, *k) -> (prod(k)*C, O) with rows (k.., c), matching im2col_nhwc's columns."""
    nd = w.ndim - 2
    return namespace_of(w).ascontiguousarray(w.transpose(tuple(range(2, 2 + nd)) + (1, 0))).reshape(-1, w.shape[0])



def _wide_cols(x, pads, k, d, osz, tag):
    """Stride-1 2-D column matrix on the 'wide' grid: (C*kh*kw, nb*Ho*Wp), column (n, h, w) for w < Wp
    (the padded width); each (c, i, j, n) row block is one contiguous run of Ho*Wp input values. Columns
    with w >= Wo are garbage (wrapped taps) and are cropped or meet zero gradients."""
    xp = namespace_of(x)
    nb, c, h, w = x.shape
    (lo0, hi0), (lo1, hi1) = pads
    hp, wp = h + lo0 + hi0, w + lo1 + hi1
    ho = osz[0]
    slack = (k[1] - 1) * d[1]
    key = ("wide_x", nb, c, hp, wp, slack, np.dtype(x.dtype), tuple(pads), _where(x))
    buf = _lookup(key)
    if buf is None:
        buf = _alloc(x, "zeros", nb * c * hp * wp + slack, dtype=x.dtype)
        _keep(key, buf)
    xp.copyto(buf[:nb * c * hp * wp].reshape(nb, c, hp, wp)[:, :, lo0:lo0 + h, lo1:lo1 + w], x)
    it = buf.itemsize
    L = ho * wp
    view = _as_strided(buf, (c, k[0], k[1], nb, L), (hp * wp * it, d[0] * wp * it, d[1] * it, c * hp * wp * it, it))
    cols = _ws(tag, (c, k[0], k[1], nb, L), x.dtype, x) if tag else xp.empty((c, k[0], k[1], nb, L), dtype=x.dtype)
    xp.copyto(cols, view)
    return cols.reshape(c * k[0] * k[1], nb * L)


def _gy_wide(gy3, n0, n1, o, osz, wp):
    """gy[n0:n1] as (O, m*Ho*Wp), zero in the columns w >= Wo (reused buffer)."""
    m = n1 - n0
    ho, wo = osz
    gyw = _ws("gy_wide", (o, m, ho, wp), gy3.dtype, gy3)
    gyw[..., wo:] = 0
    namespace_of(gy3).copyto(gyw[..., :wo], gy3[n0:n1].reshape(m, o, ho, wo).transpose(1, 0, 2, 3))
    return gyw.reshape(o, m * ho * wp)


def _wide_ok(x_shape, k, s, groups, c, pads, d):
    """Use the wide grid for stride-1 2-D groups=1 convs with few channels when the output rows are short
    or the whole batch is one chunk (measured: LeNet's convs gain, CIFAR conv1 (W_out=24, 4 chunks) loses)."""
    if not (WIDE and len(k) == 2 and tuple(s) == (1, 1) and groups == 1 and c * k[-1] < 32):
        return False
    wp = x_shape[3] + pads[1][0] + pads[1][1]
    wo = wp - d[1] * (k[1] - 1)
    ho = x_shape[2] + pads[0][0] + pads[0][1] - d[0] * (k[0] - 1)
    return wo < 20 or x_shape[0] * c * k[0] * k[1] * ho * wp * 4 <= KEEP_COLS_BYTES


def conv_forward(x, w, b, s, d, pads, groups, keep=None):
    """y = conv(x, w) + b: x (N, C, *sp), w (O, C/g, *k), b (O,) or None -> (N, O, *out).
    ``keep``: a list that receives the column matrix when the whole batch's fits in KEEP_COLS_BYTES
    (the backward pass then reuses it instead of recomputing it). Reference: shendu.reference.conv.conv2d."""
    xp = namespace_of(x)
    n, c = x.shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    nd = len(k)
    osz = tuple(out_size(x.shape[2 + a], k[a], s[a], d[a], *pads[a]) for a in range(nd))
    po = math.prod(osz)
    kk = math.prod(k)
    y = xp.empty((n, o) + osz, dtype=x.dtype)
    y3 = y.reshape(n, o, po)
    nb = chunk_size(n, c * kk * po * x.itemsize)
    if groups == 1 and NHWC and c * k[-1] >= 32:
        wr = _w_rows(w)
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            cols = im2col_nhwc(_nhwc_chunk(x[n0:n1], pads, "xnhwc"), k, s, d, osz)
            out = _ws("out", (cols.shape[0], o), x.dtype, x)
            xp.matmul(cols, wr, out=out)
            xp.copyto(y3[n0:n1], out.reshape(n1 - n0, po, o).transpose(0, 2, 1))
        if b is not None:
            y3 += b[:, None]
        return y
    w2 = w.reshape(groups, o // groups, (c // groups) * kk)
    if _wide_ok(x.shape, k, s, groups, c, pads, d):
        wp = x.shape[3] + pads[1][0] + pads[1][1]
        ho, wo = osz
        if keep is not None and c * kk * ho * wp * n * x.itemsize <= KEEP_COLS_BYTES:
            nb = n
        else:
            keep = None
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            cols = _wide_cols(x[n0:n1], pads, k, d, osz, None if keep is not None else "cols")
            if keep is not None:
                keep.append(("wide", cols))
            out = _ws("out", (o, cols.shape[1]), x.dtype, x)
            xp.matmul(w2[0], cols, out=out)
            src = out.reshape(o, n1 - n0, ho, wp)[..., :wo].transpose(1, 0, 2, 3)
            dst = y[n0:n1]
            if b is not None:
                xp.add(src, b[:, None, None], out=dst)
            else:
                xp.copyto(dst, src)
        return y
    if keep is not None and c * kk * po * n * x.itemsize <= KEEP_COLS_BYTES:
        nb = n
    else:
        keep = None
    if _item_ok(groups, po):
        wm = w.reshape(o, c * kk)
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            cols = im2col_items(_pad_chunk(x[n0:n1], pads, "xpad"), k, s, d, osz,
                                tag=None if keep is not None else "cols_item")
            if keep is not None:
                keep.append(("item", cols))
            xp.matmul(wm, cols, out=y3[n0:n1])
        if b is not None:
            y3 += b[:, None]
        return y
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        xpc = _pad_chunk(x[n0:n1], pads, "xpad")
        cols = im2col(xpc, k, s, d, osz, tag=None if keep is not None else "cols")
        if keep is not None:
            keep.append(("nchw", cols))
        if groups == 1:
            out = _ws("out", (o, (n1 - n0) * po), x.dtype, x)
            xp.matmul(w2[0], cols, out=out)
        else:
            out = xp.matmul(w2, cols.reshape(groups, (c // groups) * kk, -1))
        if b is not None:  # bias added in the same pass as the layout copy
            xp.add(out.reshape(o, n1 - n0, po).transpose(1, 0, 2), b[:, None], out=y3[n0:n1])
        else:
            xp.copyto(y3[n0:n1], out.reshape(o, n1 - n0, po).transpose(1, 0, 2))
    return y


def _input_grad_wide(gx, gy3, w2, k, d, pads, osz, sp_pad, x_shape, nb):
    """Stride-1 2-D input gradient on the 'wide' grid: gy is zero-extended to the padded width Wp, so
    each kernel tap's contribution is one contiguous run of Ho*Wp values of the flattened padded
    gradient (runs of W_out otherwise); the wrapped values are the zero columns. Writes gx."""
    xp = namespace_of(gy3)
    n, c = x_shape[:2]
    g, og = w2.shape[:2]
    o = g * og
    (ho, _wo), (hp, wp) = osz, sp_pad
    L = ho * wp
    dt = gy3.dtype
    slack = (k[1] - 1) * d[1]
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        m = n1 - n0
        gyw = _gy_wide(gy3, n0, n1, o, osz, wp).reshape(g, og, m * L)
        if g == 1:
            gcols = _ws("gcols", (w2.shape[2], m * L), dt, gy3)
            xp.matmul(w2[0].T, gyw[0], out=gcols)
        else:
            gcols = xp.matmul(w2.transpose(0, 2, 1), gyw)
        gcols = gcols.reshape((c,) + tuple(k) + (m, L))
        gxf = _ws("gx_wide", (m, c, hp * wp + slack), dt, gy3)
        gxf.fill(0)
        for i in range(k[0]):
            for j in range(k[1]):
                off = i * d[0] * wp + j * d[1]
                gxf[:, :, off:off + L] += gcols[:, i, j].transpose(1, 0, 2)
        full = gxf[:, :, :hp * wp].reshape(m, c, hp, wp)
        xp.copyto(gx[n0:n1], full[:, :, pads[0][0]:pads[0][0] + x_shape[2], pads[1][0]:pads[1][0] + x_shape[3]])


def _rot180_fused(x, w, gy, fpads):
    """(gx, gw) for a stride-1, dilation-1, groups=1 conv from one set of channels-last column matrices of
    the padded gy: gx = cols @ rot180(w) rows (the 'full' correlation), and the same cols give
    G = cols^T @ x_rows, G[(t.., o), c] = sum_{n,q} gy_pad[n, o, q + t] x[n, c, q] = gw[o, c, k-1-t]
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
    wr = _w_rows(wf)  # (kk*O, C)
    gx = xp.empty((n, c) + osz, dtype=dt)
    gx3 = gx.reshape(n, c, po)
    g = xp.zeros((kk * o, c), dtype=dt)
    nb = chunk_size(n, o * kk * po * dt.itemsize)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        m = n1 - n0
        cols = im2col_nhwc(_nhwc_chunk(gy[n0:n1], fpads, "xnhwc"), k, one, one, osz)
        out = _ws("out", (m * po, c), dt, gy)
        xp.matmul(cols, wr, out=out)
        xp.copyto(gx3[n0:n1], out.reshape(m, po, c).transpose(0, 2, 1))
        xr = _ws("gyr", (m, po, c), dt, gy)
        xp.copyto(xr, x[n0:n1].reshape(m, c, po).transpose(0, 2, 1))
        g += cols.T @ xr.reshape(m * po, c)
    g = xp.flip(g.reshape(tuple(k) + (o, c)), tuple(range(nd)))
    gw = xp.ascontiguousarray(g.transpose((nd, nd + 1) + tuple(range(nd))))
    return gx, gw


def conv_backward(x, w, gy, s, d, pads, groups, need_x, need_w, x_shape=None, cols=None):
    """(gx, gw) of y = conv(x, w) for upstream gy (N, O, *out). x may be None when only gx is
    needed (then ``x_shape`` gives its shape). Reference: shendu.reference.conv.conv2d_input_grad and
    conv2d_weight_grad."""
    xp = namespace_of(gy)
    if x_shape is None:
        x_shape = x.shape
    n, c = x_shape[:2]
    o = w.shape[0]
    k = w.shape[2:]
    nd = len(k)
    osz = gy.shape[2:]
    po = math.prod(osz)
    kk = math.prod(k)
    g = groups
    cg, og = c // g, o // g
    dt = gy.dtype
    w2 = w.reshape(g, og, cg * kk)
    gw = xp.zeros((g, og, cg * kk), dtype=dt) if need_w else None
    gx = None
    if need_x and ROT180 and c >= 32 and all(v == 1 for v in s):
        # stride 1: the input gradient is the 'full' correlation of gy with the rot180 kernel
        # (the seeds' delta^{l-1} = pad(delta^l) * rot180(w)): im2col + GEMM instead of GEMM + col2im.
        fpads = tuple((d[a] * (k[a] - 1) - pads[a][0], d[a] * (k[a] - 1) - pads[a][1]) for a in range(nd))
        fused = (FUSED_ROT180 and need_w and x is not None and cols is None and g == 1 and NHWC
                 and o * k[-1] >= 32 and all(v == 1 for v in d)
                 and all(out_size(osz[a], k[a], 1, 1, *fpads[a]) == x_shape[2 + a] for a in range(nd)))
        if fused and all(lo >= 0 and hi >= 0 for lo, hi in fpads):
            return _rot180_fused(x, w, gy, fpads)
        if all(lo >= 0 and hi >= 0 for lo, hi in fpads):
            wf = xp.flip(w, tuple(range(2, 2 + nd))).reshape((g, og, cg) + tuple(k))
            wf = xp.ascontiguousarray(wf.transpose((0, 2, 1) + tuple(range(3, 3 + nd)))).reshape((c, og) + tuple(k))
            gx = conv_forward(gy, wf, None, s, d, fpads, g)
            need_x = False
    padded = any(lo or hi for lo, hi in pads)
    if need_x:
        gx = xp.empty(x_shape, dtype=dt) if padded else xp.zeros(x_shape, dtype=dt)
    if not (need_x or need_w):
        return gx, (gw.reshape(w.shape) if gw is not None else None)
    gy3 = gy.reshape(n, o, po)
    nb = chunk_size(n, c * kk * po * dt.itemsize)
    if cols is not None and need_w and cols[0] == "wide":
        wp = x_shape[3] + pads[1][0] + pads[1][1]
        gw[0] += _gy_wide(gy3, 0, n, o, osz, wp) @ cols[1].T
        need_w = False
        if not need_x:
            return gx, gw.reshape(w.shape)
    elif cols is not None and need_w and cols[0] == "item":
        gw[0] += xp.matmul(gy3, cols[1].transpose(0, 2, 1)).sum(axis=0)
        need_w = False
        if not need_x:
            return gx, gw.reshape(w.shape)
    elif cols is not None and need_w:  # the forward pass's column matrix (one chunk: the whole batch)
        cols = cols[1].reshape(g, cg * kk, n * po)
        gy2 = _ws("gy2", (o, n, po), dt, gy)
        xp.copyto(gy2, gy3.transpose(1, 0, 2))
        gy2 = gy2.reshape(g, og, n * po)
        if g == 1:
            gw[0] += gy2[0] @ cols[0].T
        else:
            gw += xp.matmul(gy2, cols.transpose(0, 2, 1))
        need_w = False
        if not need_x:
            return gx, gw.reshape(w.shape)
    if need_w and _wide_ok(x_shape, k, s, g, c, pads, d):
        wp = x_shape[3] + pads[1][0] + pads[1][1]
        gw2 = gw[0]
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            cols_w = _wide_cols(x[n0:n1], pads, k, d, osz, "cols")
            gw2 += _gy_wide(gy3, n0, n1, o, osz, wp) @ cols_w.T
        need_w = False
        if not need_x:
            return gx, gw.reshape(w.shape)
    if need_w and g == 1 and NHWC and c * k[-1] >= 32:
        gwr = xp.zeros((kk * c, o), dtype=dt)
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            cols = im2col_nhwc(_nhwc_chunk(x[n0:n1], pads, "xnhwc"), k, s, d, osz)
            gyr = _ws("gyr", (n1 - n0, po, o), dt, gy)
            xp.copyto(gyr, gy3[n0:n1].transpose(0, 2, 1))
            gwr += cols.T @ gyr.reshape(-1, o)
        gw = xp.ascontiguousarray(gwr.reshape(tuple(k) + (c, o)).transpose((nd + 1, nd) + tuple(range(nd))))
        need_w = False
        if not need_x:
            return gx, gw
    if need_w and _item_ok(g, po):
        for n0 in range(0, n, nb):
            n1 = min(n, n0 + nb)
            cols = im2col_items(_pad_chunk(x[n0:n1], pads, "xpad"), k, s, d, osz)
            gw[0] += xp.matmul(gy3[n0:n1], cols.transpose(0, 2, 1)).sum(axis=0)
        need_w = False
        if not need_x:
            return gx, gw.reshape(w.shape)
    sp_pad = tuple(x_shape[2 + a] + pads[a][0] + pads[a][1] for a in range(nd))
    if need_x and nd == 2 and tuple(s) == (1, 1) and WIDE_COL2IM:
        if need_w:
            _, gw = conv_backward(x, w, gy, s, d, pads, groups, False, True)
        _input_grad_wide(gx, gy3, w2, k, d, pads, osz, sp_pad, x_shape, nb)
        return gx, (gw.reshape(w.shape) if gw is not None else None)
    for n0 in range(0, n, nb):
        n1 = min(n, n0 + nb)
        m = n1 - n0
        gy2 = _ws("gy2", (o, m, po), dt, gy)
        xp.copyto(gy2, gy3[n0:n1].transpose(1, 0, 2))
        gy2 = gy2.reshape(g, og, m * po)
        if need_w:
            xpc = _pad_chunk(x[n0:n1], pads, "xpad")
            cols = im2col(xpc, k, s, d, osz).reshape(g, cg * kk, m * po)
            if g == 1:
                gw[0] += gy2[0] @ cols[0].T
            else:
                gw += xp.matmul(gy2, cols.transpose(0, 2, 1))
        if need_x:
            if g == 1:
                gcols = _ws("gcols", (cg * kk, m * po), dt, gy)
                xp.matmul(w2[0].T, gy2[0], out=gcols)
            else:
                gcols = xp.matmul(w2.transpose(0, 2, 1), gy2)
            gcols = gcols.reshape((c,) + tuple(k) + (m,) + tuple(osz))
            if padded:
                gxp = _ws("gxpad", (m, c) + sp_pad, dt, gy)
                gxp.fill(0)
            else:
                gxp = gx[n0:n1]
            col2im_add(gxp, gcols, k, s, d, osz)
            if padded:
                inner = (slice(None), slice(None)) + tuple(
                    slice(pads[a][0], pads[a][0] + x_shape[2 + a]) for a in range(nd)
                )
                gx[n0:n1] = gxp[inner]
    if gw is not None and gw.shape != w.shape:
        gw = gw.reshape(w.shape)
    return gx, gw
