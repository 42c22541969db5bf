"""Indexing ops: ``x[key]`` (basic, slice, integer-array and boolean), gather, scatter_add,
index_add, index_select, masked_fill, masked_select, take, scatter, one_hot. Gradients of a selection are scattered back
with accumulation, so repeated indices add up.

Index arrays follow the data: host index arrays and lists (and, as in PyTorch, CPU index tensors in
``x[key]``) are moved to the device of the indexed tensor explicitly."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import check_values
from ..autograd.tensor import Tensor, _index_to, as_tensor
from ..backend import device_of, is_host, namespace_of, to_device
from ._arr import add_rows_at, const, norm_dim
from .elementwise import where
from .shape import broadcast_to, reshape


def _same_device_error(op, dev, other):
    return RuntimeError(f"{op}: Expected all tensors to be on the same device, but found at least two devices, "
                        f"{dev} and {other}")


def _unwrap_key(key, x):
    """``key`` with Tensors replaced by their arrays and index arrays on the device of ``x``'s data."""
    if isinstance(key, Tensor):
        key = key._data
    elif isinstance(key, tuple):
        key = tuple(k._data if isinstance(k, Tensor) else k for k in key)
    elif isinstance(key, list):
        key = np.asarray(key)  # a Python list of indices: host data
    d = x._data
    if type(d) is not np.ndarray:
        return _index_to(key, device_of(d))
    for k in key if isinstance(key, tuple) else (key,):  # host data: a device index array is an error
        if hasattr(k, "shape") and type(k) is not np.ndarray and not is_host(k):
            raise _same_device_error("getitem", "cpu", device_of(k))
    return key


def _is_basic(key):
    if isinstance(key, tuple):
        return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key)
    return key is None or key is Ellipsis or isinstance(key, (int, slice))


def _scatter(shape, dtype, key, g, basic):
    xp = namespace_of(g)
    gx = xp.zeros(shape, dtype=dtype)
    if basic:
        gx[key] = g
    elif getattr(key, "dtype", None) is not None and key.dtype.kind in "iu":  # rows of x: x[int array]
        add_rows_at(gx, key.reshape(-1), g.reshape((-1,) + tuple(shape[1:])))
    else:
        xp.add.at(gx, key, g)
    return gx


class GetItem(Function):
    needs_input_values = False

    def __init__(self, key):
        self.key = key
        self.basic = _is_basic(key)

    def forward(self, x):
        self.in_shape, self.in_dtype = x.shape, x.dtype
        try:
            return x[self.key]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor shape {x.shape})") from None

    def backward(self, gy):
        return GetItemGrad(self.key, self.basic, self.in_shape)(gy)

    def backward_array(self, gy):
        return _scatter(self.in_shape, gy.dtype, self.key, gy, self.basic)


class GetItemGrad(Function):
    """Scatter-add ``g`` into zeros of ``shape`` at ``key`` (the adjoint of getitem)."""

    needs_input_values = False

    def __init__(self, key, basic, shape):
        self.key, self.basic, self.shape = key, basic, shape

    def forward(self, g):
        return _scatter(self.shape, g.dtype, self.key, g, self.basic)

    def backward(self, ggx):
        return GetItem(self.key)(ggx)


def getitem(x, key):
    """``x[key]`` with NumPy semantics; differentiable."""
    return GetItem(_unwrap_key(key, x))(x)


def _along(index, dim):
    xp = namespace_of(index)
    if xp is np:
        idx = list(np.indices(index.shape, sparse=True))
    else:  # the same open grid, built with the device's arange (CuPy's indices has no sparse=)
        nd = index.ndim
        idx = [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (nd - 1 - i)) for i, n in enumerate(index.shape)]
    idx[dim] = index
    return tuple(idx)


class Gather(Function):
    needs_input_values = False

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def forward(self, x):
        self.in_shape = x.shape
        return x[_along(self.index, self.dim)]

    def backward(self, gy):
        return ScatterAddInto(self.dim, self.index, self.in_shape)(gy)

    def backward_array(self, gy):
        xp = self.xp
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        xp.add.at(gx, _along(self.index, self.dim), gy)
        return gx


class ScatterAddInto(Function):
    """zeros(shape) with ``src`` added at ``index`` along ``dim`` (adjoint of gather)."""

    needs_input_values = False

    def __init__(self, dim, index, shape):
        self.dim, self.index, self.shape = dim, index, shape

    def forward(self, src):
        xp = self.xp
        out = xp.zeros(self.shape, dtype=src.dtype)
        xp.add.at(out, _along(self.index, self.dim), src)
        return out

    def backward(self, g):
        return Gather(self.dim, self.index)(g)


def _index_array(name, x, index, d):
    """The integer index array for dimension ``d`` of ``x``, checked to lie in [0, x.shape[d]) (negatives are
    refused, as PyTorch's gather/index_select/index_add) and on the device of ``x``. Host index data (arrays,
    lists) is checked on the host with one min and one max, then moved explicitly; an index tensor must be on
    x's device already (0-d ones move, as PyTorch) and is checked there: one device reduction, one host sync
    (CuPy would wrap out-of-range indices silently)."""
    d_arr = x._data
    idx = index._data if isinstance(index, Tensor) else index if hasattr(index, "shape") else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got dtype {idx.dtype}")
    n = x.shape[d] if x.ndim else 1
    check_values(idx, _check_range, name=name, d=d, n=n)  # (a captured replay checks its indices again)
    if type(idx) is np.ndarray and type(d_arr) is np.ndarray:
        return idx
    dev, idev = device_of(d_arr), device_of(idx)
    if dev != idev:
        if idx.ndim if isinstance(index, Tensor) else not is_host(idx):
            raise _same_device_error(name, dev, idev)
        idx = to_device(idx, dev)  # host index data (or a 0-d index tensor), moved explicitly
    return idx


def _check_range(idx, name, d, n):
    """Refuse indices outside [0, n) for dimension ``d`` (one min and one max on the host; on a device one
    reduction and one host sync)."""
    if idx.size:
        if type(idx) is np.ndarray or is_host(idx):
            lo, hi = idx.min(), idx.max()
            bad = lo < 0 or hi >= n
        else:
            lo = hi = None
            bad = bool(((idx < 0) | (idx >= n)).any())
        if bad:
            got = f" (got min {lo}, max {hi})" if lo is not None else ""
            raise IndexError(f"{name}: index out of range for dimension {d} of size {n}: expected indices in "
                             f"[0, {n}){got}")


def _check_index(name, x, dim, index):
    d = norm_dim(dim, x.ndim, name)
    idx = _index_array(name, x, index, d)
    if idx.ndim != x.ndim:
        raise ValueError(
            f"{name}: index has {idx.ndim} dims but the input has {x.ndim} (shape {x.shape}); they must match"
        )
    return d, idx


def gather(x, dim, index):
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim=1 (PyTorch's gather)."""
    d, idx = _check_index("gather", x, dim, index)
    return Gather(d, idx)(x)


def scatter_add(x, dim, index, src):
    """x + (src added at ``index`` along ``dim``), out of place (PyTorch's scatter_add)."""
    d, idx = _check_index("scatter_add", x, dim, index)
    return x + ScatterAddInto(d, idx, x.shape)(src)


class IndexAdd(Function):
    needs_input_values = False

    def __init__(self, dim, index):
        self.dim, self.index = dim, index

    def _key(self, ndim):
        return (slice(None),) * self.dim + (self.index,)

    def forward(self, x, src):
        xp = self.xp
        out = x.copy()
        xp.add.at(out, self._key(x.ndim), src)
        return out

    def backward(self, gy):
        return gy, gy[self._key(gy.ndim)]


def index_add(x, dim, index, source, alpha=1):
    """Out-of-place ``x.index_add_(dim, index, source)``: x[..., index[i], ...] += alpha * source[..., i, ...]."""
    d = norm_dim(dim, x.ndim, "index_add")
    idx = _index_array("index_add", x, index, d)
    if idx.ndim != 1 or source.shape[d] != idx.shape[0]:
        raise ValueError(
            f"index_add: index must be 1-D with source.shape[{d}] = {idx.shape[0]} entries; "
            f"got index {idx.shape}, source {source.shape}"
        )
    if alpha != 1:
        source = source * alpha
    return IndexAdd(d, idx)(x, source)


def index_select(x, dim, index):
    """The entries of ``x`` at ``index`` along ``dim``."""
    d = norm_dim(dim, x.ndim, "index_select")
    idx = _index_array("index_select", x, index, d)
    if idx.ndim > 1:
        raise IndexError(f"index_select: index must be 0-d or 1-D, got shape {tuple(idx.shape)}")
    return getitem(x, (slice(None),) * d + (idx,))


def masked_fill(x, mask, value):
    """``x`` with ``value`` where ``mask`` is true (the gradient is 0 there)."""
    v = value if isinstance(value, Tensor) else as_tensor(namespace_of(x._data).asarray(value, dtype=x.dtype))
    return where(mask, v, x)


def masked_select(x, mask):
    """The elements of ``x`` where ``mask`` is true, as a 1-D tensor (differentiable)."""
    m = mask._data if isinstance(mask, Tensor) else mask
    shape = np.broadcast_shapes(x.shape, tuple(m.shape))
    return getitem(broadcast_to(x, shape), namespace_of(m).broadcast_to(m, shape))


def take(x, index):
    """Elements of ``x`` (as if flattened) at ``index``; result has ``index``'s shape."""
    return getitem(reshape(x, (-1,)), index._data if isinstance(index, Tensor) else index)


def scatter(x, dim, index, src, reduce=None):
    """Out-of-place ``x.scatter_(dim, index, src)``: x[..index[i][j].., j] = src[i][j] (no gradient)."""
    xp = namespace_of(x._data)
    out = x._data.copy()
    idx = index._data if isinstance(index, Tensor) else index
    val = src._data if isinstance(src, Tensor) else src
    if not isinstance(val, (int, float, bool)):
        val = val[tuple(slice(0, s) for s in idx.shape)]
    xp.put_along_axis(out, idx, val, axis=dim)
    return const(out)


def one_hot(indices, num_classes=-1):
    """One-hot encoding of integer class indices (an int64 tensor of shape (*indices.shape, C))."""
    if isinstance(indices, Tensor):
        idx = indices._data
    else:  # an array, or host data (lists)
        idx = indices if hasattr(indices, "shape") else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got dtype {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class indices must lie in [0, {num_classes}); got min {idx.min()}, max {idx.max()}")
    xp = namespace_of(idx)
    out = xp.zeros(idx.shape + (num_classes,), dtype=np.int64)
    xp.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return as_tensor(out)
