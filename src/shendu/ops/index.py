"""Indexing ops: ``x[key]`` (basic, slice, integer-array and boolean), gather, scatter_add,
index_add, index_select, masked_fill, one_hot. Gradients of a selection are scattered back
with accumulation, so repeated indices add up."""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import xp


def _unwrap_key(key):
    if isinstance(key, Tensor):
        return key._data
    if isinstance(key, tuple):
        return tuple(k._data if isinstance(k, Tensor) else k for k in key)
    if isinstance(key, list):
        return xp.asarray(key)
    return key


def _is_basic(key):
    if isinstance(key, tuple):
        return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key)
    return key is None or key is Ellipsis or isinstance(key, (int, slice))


def _scatter(shape, dtype, key, g, basic):
    gx = xp.zeros(shape, dtype=dtype)
    if basic:
        gx[key] = g
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

    def backward_array(self, ggx):
        return ggx[self.key]


def getitem(x, key):
    """``x[key]`` with NumPy semantics; differentiable."""
    return GetItem(_unwrap_key(key))(x)


def _along(index, dim):
    idx = list(xp.indices(index.shape, sparse=True))
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
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        xp.add.at(gx, _along(self.index, self.dim), gy)
        return gx


class ScatterAddInto(Function):
    """zeros(shape) with ``src`` added at ``index`` along ``dim`` (adjoint of gather)."""

    needs_input_values = False

    def __init__(self, dim, index, shape):
        self.dim, self.index, self.shape = dim, index, shape

    def forward(self, src):
        out = xp.zeros(self.shape, dtype=src.dtype)
        xp.add.at(out, _along(self.index, self.dim), src)
        return out

    def backward(self, g):
        return Gather(self.dim, self.index)(g)

    def backward_array(self, g):
        return g[_along(self.index, self.dim)]


def _check_index(name, x, dim, index):
    idx = index._data if isinstance(index, Tensor) else xp.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got dtype {idx.dtype}")
    if idx.ndim != x.ndim:
        raise ValueError(f"{name}: index has {idx.ndim} dims but the input has {x.ndim} (shape {x.shape}); they must match")
    d = dim % x.ndim
    if idx.size and (idx.min() < -x.shape[d] or idx.max() >= x.shape[d]):
        raise IndexError(f"{name}: index out of range for dimension {d} of size {x.shape[d]}")
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
        out = x.copy()
        xp.add.at(out, self._key(x.ndim), src)
        return out

    def backward(self, gy):
        return gy, gy[self._key(gy.ndim)]

    def backward_array(self, gy):
        return gy, gy[self._key(gy.ndim)]


def index_add(x, dim, index, source, alpha=1):
    """Out-of-place ``x.index_add_(dim, index, source)``: x[..., index[i], ...] += alpha * source[..., i, ...]."""
    idx = index._data if isinstance(index, Tensor) else xp.asarray(index)
    d = dim % x.ndim
    if idx.ndim != 1 or source.shape[d] != idx.shape[0]:
        raise ValueError(f"index_add: index must be 1-D with source.shape[{d}] = {idx.shape[0]} entries; got index {idx.shape}, source {source.shape}")
    if alpha != 1:
        source = source * alpha
    return IndexAdd(d, idx)(x, source)


def index_select(x, dim, index):
    """The entries of ``x`` at ``index`` along ``dim``."""
    idx = index._data if isinstance(index, Tensor) else xp.asarray(index)
    return getitem(x, (slice(None),) * (dim % x.ndim) + (idx,))


def masked_fill(x, mask, value):
    """``x`` with ``value`` where ``mask`` is true (the gradient is 0 there)."""
    from .elementwise import where

    m = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
    v = value if isinstance(value, Tensor) else as_tensor(xp.asarray(value, dtype=x.dtype))
    return where(m, v, x)


def one_hot(indices, num_classes=-1):
    """One-hot encoding of integer class indices (an int64 tensor of shape (*indices.shape, C))."""
    idx = indices._data if isinstance(indices, Tensor) else xp.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got dtype {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class indices must lie in [0, {num_classes}); got min {idx.min()}, max {idx.max()}")
    out = xp.zeros(idx.shape + (num_classes,), dtype=xp.int64)
    xp.put_along_axis(out, idx[..., None].astype(xp.int64), 1, axis=-1)
    return as_tensor(out)
