"""Views of one tensor: reshape/view/flatten, transpose/permute, broadcast_to/expand and its adjoint sum_to,
squeeze/unsqueeze. Each backward routes the gradient entries back to where they came from (textbook 6.5.2:
every op's bprop is a vector-Jacobian product): reshape back, the inverse permutation, sum over the
broadcast dimensions."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from .._arr import norm_dim
from .._arr import sum_to as _sum_to_arr


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    needs_input_values = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {self.shape}"
            ) from None

    def backward(self, gy):
        return reshape(gy, self.in_shape)


def reshape(x, *shape):
    """Give ``x`` a new shape with the same number of elements (one dimension may be -1)."""
    shape = _shape_arg(shape)
    if x.shape == shape:
        return x
    if shape and min(shape) < -1:  # NumPy would take any negative size as "infer"
        i = next(i for i, n in enumerate(shape) if n < -1)
        raise ValueError(
            f"reshape: invalid size {shape[i]} at index {i} of shape {shape} (sizes are >= 0, or -1 once to infer)"
        )
    return Reshape(shape)(x)


def view(x, *shape):
    return reshape(x, *shape)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim into one."""
    nd = x.ndim
    if nd == 0:
        return reshape(x, 1)
    s, e = norm_dim(start_dim, nd, "flatten"), norm_dim(end_dim, nd, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for {nd}-d input")
    shp = x.shape
    n = 1
    for d in shp[s : e + 1]:
        n *= d
    return reshape(x, shp[:s] + (n,) + shp[e + 1 :])


class Transpose(Function):
    needs_input_values = False

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy):  # the inverse permutation (host work on a tuple of axes)
        return permute(gy, tuple(int(i) for i in np.argsort(self.axes)))


def permute(x, *dims):
    """Reorder the dimensions of ``x`` (``dims`` is a permutation)."""
    dims = _shape_arg(dims)
    nd = x.ndim
    norm = tuple(norm_dim(d, nd, "permute") for d in dims)
    if len(dims) != nd or sorted(norm) != list(range(nd)):
        raise ValueError(f"permute: {dims} is not a permutation of the {nd} dimensions of a tensor of shape {x.shape}")
    dims = norm
    if dims == tuple(range(nd)):
        return x
    return Transpose(dims)(x)


def transpose(x, dim0=-2, dim1=-1):
    """Swap two dimensions (defaults: the last two)."""
    nd = x.ndim
    if nd < 2 and (dim0, dim1) == (-2, -1):
        return x
    axes = list(range(nd))
    d0, d1 = norm_dim(dim0, nd, "transpose"), norm_dim(dim1, nd, "transpose")
    if nd == 0:
        return x
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, tuple(axes))


def swapaxes(x, a, b):
    return transpose(x, a, b)


def T(x):
    return permute(x, tuple(range(x.ndim))[::-1]) if x.ndim >= 2 else x


def mT(x):
    return transpose(x, -2, -1)


class BroadcastTo(Function):
    needs_input_values = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        try:
            return xp.broadcast_to(x, self.shape)
        except ValueError:
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {self.shape}") from None

    def backward(self, gy):
        return sum_to(gy, self.in_shape)


def broadcast_to(x, *shape):
    """Broadcast ``x`` to ``shape`` (NumPy rules); the gradient is summed back."""
    shape = _shape_arg(shape)
    if x.shape == shape:
        return x
    return BroadcastTo(shape)(x)


def expand(x, *shape):
    """PyTorch's expand: like broadcast_to, -1 keeps a dimension."""
    shape = _shape_arg(shape)
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return broadcast_to(x, shape)


def expand_as(x, other):
    return broadcast_to(x, other.shape)


class SumTo(Function):
    needs_input_values = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return _sum_to_arr(x, self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.in_shape)


def sum_to(x, shape):
    """Sum ``x`` down to ``shape`` (the adjoint of broadcast_to)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo(shape)(x)


def squeeze(x, dim=None):
    """Remove dimensions of size 1 (all of them, or ``dim``)."""
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    dims = {norm_dim(d, x.ndim, "squeeze") for d in dims}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1)))


def unsqueeze(x, dim):
    """Insert a dimension of size 1 at ``dim``."""
    d = norm_dim(dim, x.ndim + 1, "unsqueeze")
    shp = list(x.shape)
    shp.insert(d, 1)
    return reshape(x, tuple(shp))

