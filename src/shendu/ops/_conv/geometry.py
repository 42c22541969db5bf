"""Window geometry of convolution and pooling (textbook 9.1, 9.5): output sizes, the strided window view
that im2col copies from, and the batch chunking that bounds the column matrices' scratch memory.
Reference: shendu.reference.conv.out_size and im2col (one slice per kernel tap)."""
from __future__ import annotations

import numpy as np

from ...backend import namespace_of
from .._tuning import conv_settings

_ndarray = np.ndarray


def as_strided(a, shape, strides):
    """A read-only strided view of ``a`` (CuPy's ``as_strided`` has no ``writeable`` flag)."""
    if type(a) is _ndarray:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)
    return namespace_of(a).lib.stride_tricks.as_strided(a, shape, strides)


def out_size(size, k, s, d, lo, hi):
    """Output length of a window sweep: floor((size + lo + hi - d*(k-1) - 1)/s) + 1 (textbook 9.5)."""
    return (size + lo + hi - d * (k - 1) - 1) // s + 1


def out_shape(x_shape, k, s, d, pads):
    """The output spatial shape (o0, o1, ...) of windows ``k`` over x (N, C, *sp)."""
    return tuple(out_size(x_shape[2 + a], k[a], s[a], d[a], *pads[a]) for a in range(len(k)))


def window_view(xpad, k, s, d, osz):
    """Strided view (nb, C, *k, *out) of padded xpad (nb, C, *sp): element [n, c, i.., o..] is
    xpad[n, c, o*s + i*d ...]. No copy."""
    nd = len(k)
    st = xpad.strides
    shape = xpad.shape[:2] + tuple(k) + tuple(osz)
    strides = st[:2] + tuple(st[2 + a] * d[a] for a in range(nd)) + tuple(st[2 + a] * s[a] for a in range(nd))
    return as_strided(xpad, shape, strides)


def chunk_size(n, per_item_bytes, budget=None):
    """Items per batch chunk so that a chunk's column matrix stays within ``budget`` bytes (default
    ``conv_settings.workspace_bytes``)."""
    budget = conv_settings.workspace_bytes if budget is None else budget
    return max(1, min(n, budget // max(per_item_bytes, 1)))
