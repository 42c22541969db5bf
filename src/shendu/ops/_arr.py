"""Array-level helpers shared by the ops' fast backward paths (no autograd here)."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import _wrap


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


def norm_axis(axis, ndim, opname="op"):
    """Normalize ``axis`` (None, int or tuple, negatives allowed) to a sorted tuple or None."""
    if axis is None:
        return None
    if isinstance(axis, int) or hasattr(axis, "__index__") and not isinstance(axis, (tuple, list)):
        axis = (int(axis),)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise IndexError(f"{opname}: dimension {a} is out of range for a tensor with {ndim} dimensions")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: repeated dimension in {tuple(axis)}")
    return tuple(sorted(out))


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
