"""Activation functions (textbook 6.3 hidden units; seeds ch. 1 and 3 activation tables).

All are elementwise on any shape. Derivatives at kinks use the one-sided convention of
textbook 6.3 (ReLU'(0) = 0, |z|'(0) = 0). Every backward stays finite at |x| = 1e4 in float32.
Kept whole (~330 lines): one catalogue of ~30 short activations, each a few lines, found by name here.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor, _wrap
from ...ops import abs as _abs
from ...ops import exp, expm1, minimum, where
from ...ops import log_softmax as _log_softmax
from ...ops import relu as _relu
from ...ops import sigmoid as _sigmoid
from ...ops import softmax as _softmax
from ...ops import softplus as _softplus
from ...ops import sum as _sum
from ...ops import tanh as _tanh
from ._checks import check_tensor

try:  # scipy gives an exact erf; fall back to a rational approximation (|err| < 1.2e-7)
    from scipy.special import erf as _erf_array
except Exception:  # pragma: no cover - scipy is optional
    _erf_array = None


def _erf_kernel(xp):
    """The exact erf for arrays of namespace ``xp`` (None: use the rational approximation)."""
    if xp is not np and getattr(xp, "__name__", "") == "cupy":
        try:  # SciPy's ufunc does not take CuPy arrays; CuPy has its own kernel
            from cupyx.scipy.special import erf as cupy_erf
        except Exception:  # pragma: no cover - cupyx without scipy support
            return None
        return cupy_erf
    return _erf_array  # a NumPy ufunc: also takes the strict stand-in's arrays

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x) (textbook 6.3.1, eq. 6.36); derivative 1 for x > 0, else 0."""
    return _relu(x)


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid 1/(1+e^-x), stable for any x (textbook 6.2.2.2, 6.3.2)."""
    return _sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent (textbook 6.3.2, eq. 6.39); tanh(z) = 2 sigma(2z) - 1."""
    return _tanh(x)


def softmax(x: Tensor, dim: int = -1, *, axis=None, dtype=None) -> Tensor:
    """exp(z_i - max z) / sum_j exp(z_j - max z) along ``dim`` (textbook 6.2.2.3, eq. 6.29, 6.33)."""
    check_tensor("softmax", x)
    if dtype is not None:
        x = x.type(dtype)
    return _softmax(x, dim if axis is None else axis)


def log_softmax(x: Tensor, dim: int = -1, *, axis=None, dtype=None) -> Tensor:
    """z - logsumexp(z) along ``dim`` (textbook 6.2.2.3, eq. 6.30), without log(0)."""
    check_tensor("log_softmax", x)
    if dtype is not None:
        x = x.type(dtype)
    return _log_softmax(x, dim if axis is None else axis)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + exp(beta x)), linear where beta x > threshold (textbook 6.2.2.2, 6.3.3)."""
    return _softplus(x, beta=beta, threshold=threshold)


class _Step(Function):
    """Heaviside step: 1 if x > 0 else 0 (``value_at_zero`` at 0); gradient 0 everywhere."""

    needs_input_values = False

    def __init__(self, at0):
        self.at0 = at0

    def forward(self, x):
        y = (x > 0).astype(x.dtype)
        if self.at0:
            y[x == 0] = self.at0
        return y

    def backward(self, gy):
        return _wrap(self.xp.zeros_like(gy._data))


def step(x: Tensor, value_at_zero: float = 0.0) -> Tensor:
    """Heaviside step unit of the perceptron (seeds eq. 1.7): 1 if x > 0 else 0; zero gradient."""
    return _Step(value_at_zero)(x)


heaviside = step


class _LeakyRelu(Function):
    """x if x > 0 else slope * x; derivative 1 or slope (slope at 0)."""

    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        return self.xp.where(x > 0, x, x * x.dtype.type(self.slope))

    def _mask(self, x):
        return self.xp.where(x > 0, x.dtype.type(1), x.dtype.type(self.slope))

    def backward(self, gy):
        return gy * _wrap(self._mask(self.inputs[0]._data))


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """max(0, x) + alpha min(0, x) with fixed alpha (textbook 6.3.1, default 0.01 as PyTorch)."""
    return _LeakyRelu(float(negative_slope))(x)


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU max(0, x) + a min(0, x) with learned a (textbook 6.3.1, He et al. 2015).

    ``weight`` has 1 element (shared) or C elements (one per channel, dim 1 of x)."""
    w = weight
    if weight.numel() != 1:
        if x.ndim < 2 or x.shape[1] != weight.numel():
            raise ValueError(
                f"prelu: weight with {weight.numel()} elements needs input with {weight.numel()} channels "
                f"in dim 1, got input of shape {tuple(x.shape)}"
            )
        w = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    elif weight.ndim:
        w = weight.reshape(())
    pos = (x > 0).type(x.dtype)
    return x * pos + w * (x * (1 - pos))


def abs_rectification(x: Tensor) -> Tensor:
    """Absolute-value rectification g(z) = |z|: the generalized rectifier max(0, z) + a min(0, z) with a = -1
    (textbook 6.3.1; its "alpha_i = 1" is a misprint: alpha = 1 gives z, alpha = -1 gives |z|);
    derivative sign(z), 0 at z = 0."""
    return _abs(x)


class _HardTanh(Function):
    """clip(x, lo, hi); gradient 1 strictly inside (lo, hi), 0 outside and at the bounds (PyTorch)."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return self.xp.clip(x, x.dtype.type(self.lo), x.dtype.type(self.hi))

    def _mask(self, x):
        return ((x > self.lo) & (x < self.hi)).astype(x.dtype)

    def backward(self, gy):
        return gy * _wrap(self._mask(self.inputs[0]._data))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Hard tanh max(-1, min(1, x)) (textbook 6.3.3)."""
    if min_val >= max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must be below max_val ({max_val})")
    return _HardTanh(float(min_val), float(max_val))(x)


def relu6(x: Tensor, inplace: bool = False) -> Tensor:
    """min(max(0, x), 6)."""
    return _HardTanh(0.0, 6.0)(x)


def hardsigmoid(x: Tensor, slope: float = 1.0 / 6.0, offset: float = 0.5, inplace: bool = False) -> Tensor:
    """Hard sigmoid clip(slope x + offset, 0, 1); PyTorch's default slope 1/6 (Keras uses 0.2)."""
    if slope == 1.0 / 6.0 and offset == 0.5:
        return _HardTanh(-3.0, 3.0)(x) * (1.0 / 6.0) + 0.5
    lo, hi = -offset / slope, (1 - offset) / slope
    return _HardTanh(lo, hi)(x) * slope + offset


def hardswish(x: Tensor) -> Tensor:
    """x * hardsigmoid(x) = x * relu6(x + 3) / 6."""
    return x * hardsigmoid(x)


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return x / (_abs(x) + 1)


def elu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha (e^x - 1) (Clevert et al. 2015; seeds ch. 3), via expm1 on min(x, 0)."""
    return where(x > 0, x, expm1(minimum(x, 0.0)) * alpha)


def selu(x: Tensor, inplace: bool = False) -> Tensor:
    """lambda * elu(x, alpha) with the fixed constants lambda = 1.0507..., alpha = 1.6733... (Klambauer et al.)."""
    return elu(x, SELU_ALPHA) * SELU_SCALE


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""
    return where(x > 0, x, expm1(minimum(x, 0.0) / alpha) * alpha)


def silu(x: Tensor, inplace: bool = False) -> Tensor:
    """SiLU x * sigmoid(x) (seeds ch. 3, fig. 3.8)."""
    return x * _sigmoid(x)


def swish(x: Tensor, beta=1.0) -> Tensor:
    """Swish x * sigmoid(beta x); beta may be a (learnable) tensor; beta = 1 is SiLU."""
    if isinstance(beta, (int, float)) and beta == 1:
        return silu(x)
    return x * _sigmoid(x * beta)


_ERFC_P = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
           -0.82215223, 0.17087277)


class _Erf(Function):
    """erf(x); d/dx = 2/sqrt(pi) exp(-x^2)."""

    def forward(self, x):
        xp = self.xp
        erf_array = _erf_array if xp is np else _erf_kernel(xp)
        if erf_array is not None:
            return erf_array(x).astype(x.dtype, copy=False)
        # Numerical Recipes' erfc(|x|) = t exp(-x^2 + P(t)), t = 1/(1 + |x|/2), P of degree 9 (|err| < 1.2e-7)
        a = xp.abs(x).astype(np.float64)
        t = 1.0 / (1.0 + 0.5 * a)
        p = _ERFC_P[-1]
        for c in reversed(_ERFC_P[:-1]):  # Horner
            p = c + t * p
        y = 1 - t * xp.exp(-a * a + p)
        return (xp.sign(x) * y).astype(x.dtype)

    def backward(self, gy):
        x = self.inputs[0]
        return gy * exp(-(x * x)) * (2 / math.sqrt(math.pi))


def erf(x: Tensor) -> Tensor:
    """The error function erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt."""
    return _Erf()(x)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); ``approximate='tanh'`` gives
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (Hendrycks & Gimpel; seeds ch. 3)."""
    if approximate == "none":
        return x * (erf(x * (1 / math.sqrt(2.0))) + 1) * 0.5
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)
        return x * (_tanh(inner) + 1) * 0.5
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    return x * _tanh(_softplus(x))


def logsigmoid(x: Tensor) -> Tensor:
    """log sigmoid(x) = -softplus(-x), stable for any x."""
    return -_softplus(-x, threshold=None)


def softmin(x: Tensor, dim: int = -1) -> Tensor:
    """softmax(-x) along ``dim``."""
    return _softmax(-x, dim)


def rbf(x: Tensor, centers: Tensor, sigma) -> Tensor:
    """Gaussian RBF unit h_i = exp(-||W_:,i - x||^2 / sigma_i^2) (textbook 6.3.3).

    x: (N, D), centers W: (D, H) (columns are templates, as the textbook), sigma: scalar or (H,) -> (N, H)."""
    if x.ndim != 2 or centers.ndim != 2 or x.shape[1] != centers.shape[0]:
        raise ValueError(f"rbf: expected x (N, D) and centers (D, H), got {tuple(x.shape)} and {tuple(centers.shape)}")
    d2 = _sum(x * x, 1, keepdim=True) - (x @ centers) * 2 + _sum(centers * centers, 0, keepdim=True)
    return exp(-d2 / (sigma * sigma))


def cosine_unit(x: Tensor) -> Tensor:
    """Cosine unit h = cos(z) (textbook 6.3.3, Goodfellow et al. on MNIST)."""
    return x.cos()


def soft_max_value(z: Tensor, dim: int = -1) -> Tensor:
    """softmax(z)^T z: the soft version of max (textbook 6.2.2.3)."""
    return _sum(_softmax(z, dim) * z, dim)


def identity(x: Tensor) -> Tensor:
    """The linear (identity) unit (textbook 6.3.3)."""
    return x


#: Activation names accepted by ``Dense(activation=...)`` and ``get_activation``.
ACTIVATIONS = {
    "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "log_softmax": log_softmax,
    "softplus": softplus, "step": step, "heaviside": step, "leaky_relu": leaky_relu, "hardtanh": hardtanh,
    "hard_tanh": hardtanh, "hardsigmoid": hardsigmoid, "hard_sigmoid": hardsigmoid, "softsign": softsign,
    "elu": elu, "selu": selu, "silu": silu, "swish": swish, "gelu": gelu, "abs": abs_rectification,
    "relu6": relu6, "mish": mish, "identity": identity, "linear": identity, None: identity, "cos": cosine_unit,
}


def get_activation(name_or_fn):
    """Resolve an activation given by name (``'relu'``), callable or None (identity)."""
    if callable(name_or_fn):
        return name_or_fn
    try:
        return ACTIVATIONS[name_or_fn.lower() if isinstance(name_or_fn, str) else name_or_fn]
    except (KeyError, AttributeError):
        raise ValueError(
            f"unknown activation {name_or_fn!r}; expected one of {sorted(k for k in ACTIVATIONS if k)}"
        ) from None
