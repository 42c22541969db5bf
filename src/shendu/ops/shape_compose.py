"""Shape ops composed from the ``shape`` family's Functions, under torch's names: t, hstack, vstack,
meshgrid, broadcast_tensors, movedim, unflatten; and the tensor properties numel, is_floating_point.
Their gradients are those of the reshapes, transposes and broadcasts they are built from."""
from __future__ import annotations

import numpy as np

from ._arr import norm_dim
from .shape import broadcast_to, cat, permute, reshape, transpose


def t(x):
    """Transpose of a tensor with at most 2 dims (0-D and 1-D returned as they are)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {tuple(x.shape)}")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def hstack(tensors):
    """Stack along dim 1 (dim 0 for 1-D tensors)."""
    return cat(list(tensors), dim=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Stack 1-D tensors as rows, or concatenate along dim 0."""
    return cat([reshape(x, (1, -1)) if x.ndim == 1 else x for x in tensors], dim=0)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors (``indexing='ij'`` as torch's default, or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(x.shape[0] for x in ts)
    n = len(ts)
    out = [broadcast_to(reshape(x, tuple(-1 if j == i else 1 for j in range(n))), shape) for i, x in enumerate(ts)]
    if swap:  # 'xy': grids of shape (len(t1), len(t0), ...), the first varying along dim 1
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape."""
    shape = np.broadcast_shapes(*[tuple(x.shape) for x in tensors])
    return tuple(broadcast_to(x, shape) for x in tensors)


def movedim(x, source, destination):
    """Move dims ``source`` to positions ``destination`` (the others keep their order)."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    nd = x.ndim
    src, dst = [norm_dim(s, nd, "movedim") for s in src], [norm_dim(d, nd, "movedim") for d in dst]
    rest = [d for d in range(nd) if d not in src]
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    it = iter(rest)
    return permute(x, *[o if o is not None else next(it) for o in order])


def unflatten(x, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    d = norm_dim(dim, x.ndim, "unflatten")
    return reshape(x, tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:]))


def numel(x):
    """Number of elements of ``x``."""
    return x.numel()


def is_floating_point(x):
    """True for a floating-point tensor."""
    return x.dtype.kind == "f"
