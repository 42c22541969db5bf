"""Array-level helpers shared by the ops' fast backward paths (no autograd here)."""
from __future__ import annotations

import operator

import numpy as np

from ..autograd.tensor import _wrap
from ..backend import namespace_of


def const(r):
    """A computed array as a constant Tensor where it was computed. NumPy returns scalars for 0-d results,
    which ``as_tensor`` would place on the default device: those become 0-d host arrays."""
    return _wrap(np.asarray(r) if isinstance(r, np.generic) else r)


def sum_to(g, shape):
    """Sum ``g`` down to ``shape`` (undo NumPy broadcasting): the gradient of broadcast_to."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    out = g.sum(axis=axes, keepdims=True) if axes else g
    if lead:
        out = out.reshape(shape)
    return out


def norm_dim(dim, ndim, opname="op"):
    """One ``dim`` (negatives count from the end) as an index in [0, ndim); a 0-d tensor takes -1 and 0 as
    PyTorch. The one place every op that takes a dim checks it: IndexError naming the op and the range."""
    try:
        d = operator.index(dim)
    except TypeError:
        raise TypeError(f"{opname}: dim must be an integer, got {type(dim).__name__} {dim!r}") from None
    r = ndim if ndim else 1
    if not -r <= d < r:
        raise IndexError(f"{opname}: Dimension out of range (expected to be in range of [{-r}, {r - 1}], "
                         f"but got {dim})")
    return d % r


def norm_axis(axis, ndim, opname="op"):
    """Normalize ``axis`` (None, int or tuple, negatives allowed) to a sorted tuple or None
    (a 0-d tensor reduced over dim 0 or -1: the empty tuple)."""
    if axis is None:
        return None
    if not isinstance(axis, (tuple, list)):
        axis = (axis,)
    out = [norm_dim(a, ndim, opname) for a in axis]
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: repeated dimension in {tuple(axis)}")
    return tuple(sorted(out)) if ndim else ()


def expand_reduced(g, in_shape, axis, keepdims):
    """Reshape the gradient of a reduction so it broadcasts against the input again."""
    if keepdims or axis is None and g.ndim == 0:
        return g
    if axis is None:
        return g.reshape((1,) * len(in_shape))
    shape = list(in_shape)
    for a in axis:
        shape[a] = 1
    return g.reshape(shape)


_SPARSE_MIN = 4096  # below this many gradient elements np.add.at is as fast (benchmarks/sampled_softmax.py)


def add_rows_at(out, idx, g):
    """out[idx[i]] += g[i] for a 1-D int array idx (N,) and rows g (N, ...), repeated indices summed: the
    backward of a row gather (embedding lookup, ``W[idx]``). On the host a sparse (unique rows x N) one-hot
    product (SciPy) replaces ``np.add.at``, 4-10x slower on embedding-sized tables; on a GPU the namespace's
    atomic ``add.at``. Returns out."""
    if type(out) is np.ndarray and g.size >= _SPARSE_MIN and g.dtype.kind == "f":
        try:
            import scipy.sparse as sp
        except ImportError:  # pragma: no cover - scikit-learn brings SciPy
            sp = None
        if sp is not None:
            n = idx.shape[0]
            u, inv = np.unique(idx, return_inverse=True)
            m = sp.csr_matrix((np.ones(n, g.dtype), (inv.reshape(-1), np.arange(n))), shape=(len(u), n))
            out[u] += (m @ g.reshape(n, -1)).reshape((len(u),) + g.shape[1:])
            return out
    (np if type(out) is np.ndarray else namespace_of(out)).add.at(out, idx, g)
    return out
