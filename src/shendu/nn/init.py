"""Weight initialization (textbook 8.4 parameter initialization strategies; seeds ch. 3 1/sqrt(n_in)
Gaussian). In-place on a Tensor/Parameter on any device, drawing from the generator of the tensor's
device (seeded by ``sd.manual_seed``) and filling it there.

Fan convention as PyTorch: for a weight of shape (out, in, *kernel), fan_in = in * prod(kernel),
fan_out = out * prod(kernel).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import generator_for, namespace_of, to_device_of


def _set(tensor: Tensor, arr) -> Tensor:
    """Fill ``tensor`` with ``arr`` (a number or an array on the tensor's device)."""
    tensor._data[...] = arr
    tensor._version += 1
    return tensor


def calculate_gain(nonlinearity: str, param=None) -> float:
    """Recommended std gain per nonlinearity (as PyTorch): linear/sigmoid 1, tanh 5/3, relu sqrt 2,
    leaky_relu sqrt(2/(1+a^2)), selu 3/4."""
    linear = (
        "linear",
        "identity",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + a * a))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor):
    if tensor.ndim < 2:
        raise ValueError(
            f"init: fan in and fan out need a tensor with at least 2 dimensions, got shape {tuple(tensor.shape)}"
        )
    rf = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * rf, tensor.shape[0] * rf


calculate_fan_in_and_fan_out = _calculate_fan_in_and_fan_out


def _fan(tensor, mode):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val`` (e.g. the textbook's small positive ReLU bias 0.1, 8.4 / 6.3.1)."""
    return _set(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0 (the usual bias init, textbook 8.4)."""
    return _set(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _set(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Identity matrix (2-D)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expected a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _set(tensor, namespace_of(tensor._data).eye(*tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """U(a, b)."""
    return _set(tensor, generator_for(tensor._data).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """N(mean, std^2)."""
    return _set(tensor, generator_for(tensor._data).normal(mean, std, tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float | None = None,
                  b: float | None = None) -> Tensor:
    """N(mean, std^2) truncated to [a, b] (default mean +- 2 std, as TensorFlow's truncated_normal),
    by redrawing values outside the bounds."""
    lo = mean - 2 * std if a is None else a
    hi = mean + 2 * std if b is None else b
    gen = generator_for(tensor._data)
    out = gen.normal(mean, std, tensor.shape)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = gen.normal(mean, std, int(bad.sum()))
        bad = (out < lo) | (out > hi)
    return _set(tensor, out)


def inverse_sqrt_normal_(tensor: Tensor) -> Tensor:
    """N(0, 1/n_in): the seeds' Gaussian with std 1/sqrt(n_in) (seeds ch. 3 weight initialization)."""
    fan_in, _ = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, 1.0 / math.sqrt(fan_in))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normalized init U(-a, a), a = gain sqrt(6 / (n_in + n_out)) (textbook 8.4, eq. 8.23)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, gain^2 2 / (n_in + n_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He init U(-b, b), b = gain sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    b = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -b, b)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """He init N(0, gain^2 / fan)."""
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., textbook 8.4), from the QR of a Gaussian
    with the sign of R's diagonal fixed so the draw is uniform (Haar). Extra dims are flattened."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: expected at least 2 dimensions, got shape {tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    xp = namespace_of(tensor._data)
    flat = generator_for(tensor._data).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)  # on the tensor's device (CuPy has QR)
    q = q * xp.sign(xp.diag(r))
    if rows < cols:
        q = q.T
    return _set(tensor, (gain * q).reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float | None = None, std: float = 0.01, k: int | None = None) -> Tensor:
    """Sparse init (Martens 2010, textbook 8.4): each unit (row of W (out, in)) gets exactly ``k``
    non-zero N(0, std^2) input weights; or give ``sparsity`` = fraction of zeros per column as PyTorch."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: expected a 2-D tensor, got shape {tuple(tensor.shape)}")
    rows, cols = tensor.shape
    gen = generator_for(tensor._data)
    out = namespace_of(tensor._data).zeros((rows, cols))
    if k is not None:
        if not 0 <= k <= cols:
            raise ValueError(f"sparse_: k={k} must be within [0, {cols}] (the number of inputs)")
        for i in range(rows):
            idx = gen.permutation(cols)[:k]
            out[i, idx] = gen.normal(0.0, std, k)
    else:
        if sparsity is None:
            raise ValueError("sparse_: give k (non-zeros per unit) or sparsity (fraction of zeros per column)")
        nz = int(math.ceil(sparsity * rows))
        out = gen.normal(0.0, std, (rows, cols))
        for j in range(cols):
            out[gen.permutation(rows)[:nz], j] = 0
    return _set(tensor, out)


def default_linear_init_(weight: Tensor, bias: Tensor | None = None) -> None:
    """PyTorch's Linear/Conv default: W ~ kaiming_uniform(a=sqrt 5) = U(+-1/sqrt(fan_in)), b ~ U(+-1/sqrt(fan_in))."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


_BY_NAME = {
    "zeros": zeros_, "zero": zeros_, "ones": ones_, "normal": normal_, "uniform": uniform_,
    "trunc_normal": trunc_normal_, "truncated_normal": trunc_normal_, "xavier_uniform": xavier_uniform_,
    "glorot_uniform": xavier_uniform_, "xavier_normal": xavier_normal_, "glorot_normal": xavier_normal_,
    "kaiming_uniform": kaiming_uniform_, "he_uniform": kaiming_uniform_, "kaiming_normal": kaiming_normal_,
    "he_normal": kaiming_normal_, "orthogonal": orthogonal_, "eye": eye_, "inverse_sqrt_normal": inverse_sqrt_normal_,
    "lecun_normal": inverse_sqrt_normal_,
}


def apply_init(tensor: Tensor, init) -> Tensor:
    """Initialize ``tensor`` with ``init``: a name ('xavier_uniform', 'he_normal', 'zeros', ...),
    a number (constant), or a callable ``fn(tensor)`` (in place, or returning an array/Tensor)."""
    if isinstance(init, str):
        try:
            fn = _BY_NAME[init.lower()]
        except KeyError:
            raise ValueError(f"unknown initializer {init!r}; expected one of {sorted(_BY_NAME)}") from None
        return fn(tensor)
    if isinstance(init, (int, float)):
        return constant_(tensor, init)
    if callable(init):
        out = init(tensor)
        if out is not None and out is not tensor:
            _set(tensor, to_device_of(out, tensor))  # an array from elsewhere is copied over explicitly
        return tensor
    raise TypeError(f"initializer must be a name, number or callable, got {type(init).__name__}")


# PyTorch's deprecated names without the trailing underscore
uniform, normal, constant = uniform_, normal_, constant_
xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, orthogonal = (
    xavier_uniform_, xavier_normal_, kaiming_uniform_, kaiming_normal_, orthogonal_)
