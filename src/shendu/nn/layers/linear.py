"""Fully connected layers: Linear (Dense), Bilinear, LowRankLinear (textbook 6.1, 6.3.3).

Weight layout as PyTorch: ``weight`` is (out_features, in_features).
Default init as PyTorch: W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt 5), b likewise.
"""
from __future__ import annotations

import math

import numpy as np

from ...backend import get_default_dtype, to_dtype
from ...backend.lowp import AUTOCAST
from ...ops._autocast import to_lowp
from .. import init as _init
from ..functional._checks import check_tensor
from ..functional.activation import get_activation
from ..functional.linear import LinearFn, bilinear
from ..module import Module
from ..parameter import Parameter


def _empty(shape, dtype):
    return np.empty(shape, dtype=get_default_dtype() if dtype is None else to_dtype(dtype))


def _weight_and_bias(module, w_shape, b_shape, dtype=None):
    """Give ``module`` uninitialized Parameters ``weight`` of shape w_shape and ``bias`` of b_shape (b_shape None:
    no bias, ``bias`` registered as None), in ``dtype`` (None: the default dtype). The caller initializes them."""
    module.weight = Parameter(_empty(w_shape, dtype))
    if b_shape is None:
        module.register_parameter("bias", None)
    else:
        module.bias = Parameter(_empty(b_shape, dtype))


def init_params(weight, bias, weight_init, bias_init, default=None):
    """Apply the default init (PyTorch's) then the ``weight_init``/``bias_init`` overrides.

    Each override is a name, a number or a callable."""
    (default or _init.default_linear_init_)(weight, bias)
    if weight_init is not None:
        _init.apply_init(weight, weight_init)
    if bias_init is not None and bias is not None:
        _init.apply_init(bias, bias_init)


class Linear(Module):
    """y = x W^T + b (textbook 6.1). x: (*, in_features) -> (*, out_features).

    Default init (PyTorch): W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features)); override with
    ``weight_init=`` / ``bias_init=`` (name such as 'xavier_uniform' or 'he_normal', a number, or a callable)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 weight_init=None, bias_init=None, device=None):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(
                f"Linear: in_features and out_features must be positive, got {in_features}, {out_features}"
            )
        self.in_features, self.out_features = int(in_features), int(out_features)
        _weight_and_bias(self, (out_features, in_features), (out_features,) if bias else None, dtype)
        init_params(self.weight, self.bias, weight_init, bias_init)

    def reset_parameters(self):
        _init.default_linear_init_(self.weight, self.bias)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        w = self.weight
        if x.shape[-1:] != w.shape[1:]:
            raise ValueError(
                f"{type(self).__name__}({self.in_features} -> {self.out_features}): expected input of shape "
                f"(*, {self.in_features}), got {tuple(x.shape)}"
            )
        b = self.bias
        if AUTOCAST.dtype is not None:  # amp.autocast: run in the low-precision dtype
            x, w, b = to_lowp(x, w, b)
        if b is None:
            return LinearFn()(x, w)
        return LinearFn()(x, w, b)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Dense(Linear):
    """Keras-style fully connected layer: ``activation(x W^T + b)``. ``Dense(in, out, activation='relu')``;
    the activation is a name, a callable or None (identity)."""

    def __init__(self, in_features: int, out_features: int, activation=None, bias: bool = True, dtype=None,
                 weight_init=None, bias_init=None, device=None):
        super().__init__(in_features, out_features, bias, dtype, weight_init, bias_init)
        self.activation = get_activation(activation)
        self._act_name = (
            activation if isinstance(activation, str) or activation is None else getattr(activation, "__name__", "fn")
        )

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return self.activation(super().forward(x))

    def extra_repr(self):
        return super().extra_repr() + (f", activation={self._act_name}" if self._act_name else "")


class Bilinear(Module):
    """y_k = x1^T A_k x2 + b_k. x1: (*, in1), x2: (*, in2) -> (*, out). Init U(+-1/sqrt(in1)) as PyTorch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, dtype=None,
                 weight_init=None, bias_init=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        _weight_and_bias(self, (out_features, in1_features, in2_features), (out_features,) if bias else None, dtype)
        bound = 1 / math.sqrt(in1_features)

        def default(w, b):
            _init.uniform_(w, -bound, bound)
            if b is not None:
                _init.uniform_(b, -bound, bound)

        init_params(self.weight, self.bias, weight_init, bias_init, default)

    def forward(self, x1, x2):
        x1 = check_tensor(self, x1, "x1")
        x2 = check_tensor(self, x2, "x2")
        return bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class LowRankLinear(Module):
    """Low-rank factorized affine map y = x U^T V^T + b with rank q: (n+p) q weights instead of n p
    (textbook 6.3.3). x: (*, n) -> (*, p)."""

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True, dtype=None):
        super().__init__()
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.U = Linear(in_features, rank, bias=False, dtype=dtype)
        self.V = Linear(rank, out_features, bias=bias, dtype=dtype)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return self.V(self.U(x))

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, rank={self.rank}"


class GaussianHead(Module):
    """Heteroscedastic Gaussian output unit (textbook 6.2.2.4): x -> (mean, var) or (mean, precision),
    each (*, out_features); the second is softplus(affine) + min_value so it stays positive.
    Train with ``F.gaussian_nll_loss(mean, y, var)`` (variance) or the precision form."""

    def __init__(
        self, in_features: int, out_features: int, param: str = "variance", min_value: float = 1e-6, dtype=None
    ):
        super().__init__()
        if param not in ("variance", "precision"):
            raise ValueError(f"GaussianHead: param must be 'variance' or 'precision', got {param!r}")
        self.param, self.min_value = param, min_value
        self.mean = Linear(in_features, out_features, dtype=dtype)
        self.scale = Linear(in_features, out_features, dtype=dtype)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        from ..functional.activation import softplus

        return self.mean(x), softplus(self.scale(x)) + self.min_value


class MixtureDensity(Module):
    """Mixture-density output layer (textbook 6.2.2.4, eq. 6.35): x (N, in) -> (mixing logits (N, K),
    means (N, K, D), log standard deviations (N, K, D)) for a K-component diagonal Gaussian mixture over
    D-dim targets. Mixing weights are softmax(logits). Loss: ``nn.MDNLoss()(*outputs, target)``."""

    def __init__(self, in_features: int, out_dim: int, n_components: int, dtype=None):
        super().__init__()
        self.out_dim, self.n_components = out_dim, n_components
        self.logits = Linear(in_features, n_components, dtype=dtype)
        self.means = Linear(in_features, n_components * out_dim, dtype=dtype)
        self.log_std = Linear(in_features, n_components * out_dim, dtype=dtype)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        k, d = self.n_components, self.out_dim
        n = x.shape[0]
        return self.logits(x), self.means(x).reshape((n, k, d)), self.log_std(x).reshape((n, k, d))

    def extra_repr(self):
        return f"out_dim={self.out_dim}, n_components={self.n_components}"
