"""Shape and layout ops: reshape, transpose/permute, broadcast, squeeze, cat/stack/split,
pad, repeat/tile, flip, roll. Backward rules route each gradient entry back to where it came
from (textbook 6.5.2: every op's bprop is a vector-Jacobian product)."""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import to_host
from ._arr import norm_dim
from ._arr import sum_to as _sum_to_arr


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

    def backward_array(self, gy):
        return gy.reshape(self.in_shape)


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

    def _inv(self):
        return tuple(int(i) for i in np.argsort(self.axes))  # host work on a tuple of axes

    def backward(self, gy):
        return permute(gy, self._inv())

    def backward_array(self, gy):
        return gy.transpose(self._inv())


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

    def backward_array(self, gy):
        return _sum_to_arr(gy, self.in_shape)


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

    def backward_array(self, gy):
        xp = self.xp
        return xp.broadcast_to(gy, self.in_shape)


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


class Cat(Function):
    needs_input_values = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        xp = self.xp
        self.sizes = [x.shape[self.axis] for x in xs]
        return xp.concatenate(xs, axis=self.axis)

    def _bounds(self):
        out, start = [], 0
        for n in self.sizes:
            out.append((start, start + n))
            start += n
        return out

    def backward(self, gy):
        return tuple(narrow(gy, self.axis, s, e - s) for s, e in self._bounds())

    def backward_array(self, gy):
        idx = [slice(None)] * gy.ndim
        out = []
        for s, e in self._bounds():
            idx[self.axis] = slice(s, e)
            out.append(gy[tuple(idx)])
        return tuple(out)


def cat(tensors, dim=0, axis=None):
    """Concatenate tensors along an existing dimension."""
    if axis is not None:
        dim = axis
    tensors = [t if isinstance(t, Tensor) else as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    nd = tensors[0].ndim
    if nd == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = norm_dim(dim, nd, "cat")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != nd or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref)) if j != d):
            raise ValueError(f"cat: tensor {i} has shape {t.shape}, expected {ref} except in dimension {d}")
    return Cat(d)(*tensors)


concatenate = cat
concat = cat


def stack(tensors, dim=0, axis=None):
    """Join tensors of one shape along a new dimension."""
    if axis is not None:
        dim = axis
    tensors = [t if isinstance(t, Tensor) else as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != ref:
            raise ValueError(
                f"stack: all tensors must have the same shape; tensor 0 has {ref}, tensor {i} has {t.shape}"
            )
    d = norm_dim(dim, len(ref) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


class Split(Function):
    needs_input_values = False

    def __init__(self, axis, bounds):
        self.axis, self.bounds = axis, bounds

    def forward(self, x):
        idx = [slice(None)] * x.ndim
        out = []
        for s, e in self.bounds:
            idx[self.axis] = slice(s, e)
            out.append(x[tuple(idx)])
        return tuple(out)

    def backward(self, *gys):
        return cat(list(gys), self.axis)

    def backward_array(self, *gys):
        xp = self.xp
        return xp.concatenate(gys, axis=self.axis)


def split(x, split_size_or_sections, dim=0):
    """Split into pieces of ``split_size`` (int) or of the listed sizes, along ``dim`` (PyTorch semantics)."""
    d = norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dimension {d}")
    bounds, start = [], 0
    for s in sizes:
        bounds.append((start, start + s))
        start += s
    return Split(d, bounds)(x)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` nearly equal pieces (the last may be smaller)."""
    n = x.shape[norm_dim(dim, x.ndim, "chunk")]
    step = -(-n // chunks)
    return split(x, max(step, 1), dim)


def unbind(x, dim=0):
    """Remove dimension ``dim``, returning the slices along it."""
    dim = norm_dim(dim, x.ndim, "unbind")
    return tuple(squeeze(p, dim) for p in split(x, 1, dim))


def narrow(x, dim, start, length):
    """The slice ``start:start+length`` along ``dim``."""
    idx = [slice(None)] * x.ndim
    idx[norm_dim(dim, x.ndim, "narrow")] = slice(start, start + length)
    return x[tuple(idx)]


class Pad(Function):
    needs_input_values = False

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        xp = self.xp
        return xp.pad(x, self.widths, mode="constant", constant_values=self.value)

    def _crop(self):
        return tuple(slice(a, a + n) for (a, _), n in zip(self.widths, self.in_shape))

    def backward(self, gy):
        return gy[self._crop()]

    def backward_array(self, gy):
        return gy[self._crop()]


def pad(x, pad, mode="constant", value=0.0):
    """Constant padding; ``pad`` is PyTorch-style (last dim first: (left, right, top, bottom, ...))."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding {pad} must have an even length of at most 2*{x.ndim}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        a, b = pad[2 * i], pad[2 * i + 1]
        if a < 0 or b < 0:
            raise ValueError(f"pad: negative padding {pad} is not supported")
        widths[x.ndim - 1 - i] = (a, b)
    fn = Pad(tuple(widths), value)
    fn.in_shape = x.shape
    return fn(x)


class Tile(Function):
    needs_input_values = False

    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        return xp.tile(x, self.reps)

    def _split_shape(self):
        # tiled shape (r0, s0, r1, s1, ...) -> sum over the r axes
        reps = self.reps
        shp = (1,) * (len(reps) - len(self.in_shape)) + tuple(self.in_shape)
        inter = []
        for r, s in zip(reps, shp):
            inter += [r, s]
        return inter, tuple(range(0, 2 * len(reps), 2)), shp

    def backward(self, gy):
        inter, axes, shp = self._split_shape()
        return reshape(reshape(gy, inter).sum(dim=axes), self.in_shape)

    def backward_array(self, gy):
        inter, axes, shp = self._split_shape()
        return gy.reshape(inter).sum(axis=axes).reshape(self.in_shape)


def tile(x, *reps):
    """Repeat the whole tensor ``reps`` times along each dimension (NumPy's tile)."""
    reps = _shape_arg(reps)
    reps = (1,) * (x.ndim - len(reps)) + tuple(reps)
    return Tile(reps)(x)


def repeat(x, *sizes):
    """PyTorch's ``Tensor.repeat``: tile the tensor (``sizes`` may add leading dimensions)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: number of repeat dims {len(sizes)} is smaller than the tensor's {x.ndim} dims")
    return tile(x, sizes)


def repeat_interleave(x, repeats, dim=None):
    """Repeat each element ``repeats`` times (NumPy's repeat); flattens when dim is None."""
    if dim is None:
        x, dim = flatten(x), 0
    d = norm_dim(dim, x.ndim, "repeat_interleave")
    if isinstance(repeats, Tensor):
        repeats = to_host(repeats._data)
    # the index is built on the host from shapes and counts; getitem moves it to x's device
    idx = np.repeat(np.arange(x.shape[d]), repeats)
    sl = [slice(None)] * x.ndim
    sl[d] = idx
    return x[tuple(sl)]


class Flip(Function):
    needs_input_values = False

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        xp = self.xp
        return xp.flip(x, self.axes)

    def backward(self, gy):
        return flip(gy, self.axes)

    def backward_array(self, gy):
        xp = self.xp
        return xp.flip(gy, self.axes)


def flip(x, dims):
    """Reverse the order of elements along ``dims``."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return Flip(tuple(norm_dim(d, x.ndim, "flip") for d in dims))(x)


class Roll(Function):
    needs_input_values = False

    def __init__(self, shifts, axes):
        self.shifts, self.axes = shifts, axes

    def forward(self, x):
        xp = self.xp
        return xp.roll(x, self.shifts, self.axes)

    def backward(self, gy):
        return roll(gy, tuple(-s for s in self.shifts), self.axes)

    def backward_array(self, gy):
        xp = self.xp
        return xp.roll(gy, tuple(-s for s in self.shifts), self.axes)


def roll(x, shifts, dims=None):
    """Shift elements cyclically along ``dims`` (flattened when dims is None)."""
    if dims is None:
        return reshape(roll(flatten(x), shifts, 0), x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims; they must match")
    return Roll(shifts, tuple(norm_dim(d, x.ndim, "roll") for d in dims))(x)
