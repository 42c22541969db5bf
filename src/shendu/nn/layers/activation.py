"""Activation layers: Module wrappers of ``nn.functional`` activations (textbook 6.3; seeds ch. 3)."""
from __future__ import annotations

import numpy as np

from ...backend import get_default_dtype
from ..functional import activation as act
from ..functional._checks import check_tensor
from ..module import Module
from ..parameter import Parameter


class _Elementwise(Module):
    _fn = None

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return type(self)._fn(x)


def _simple(name, fn, doc):
    cls = type(name, (_Elementwise,), {"_fn": staticmethod(fn), "__doc__": doc})
    return cls


ReLU = _simple("ReLU", act.relu, "max(0, x) (textbook 6.3.1).")
Sigmoid = _simple("Sigmoid", act.sigmoid, "Logistic sigmoid 1/(1+e^-x) (textbook 6.3.2).")
Tanh = _simple("Tanh", act.tanh, "tanh(x) (textbook 6.3.2).")
Softsign = _simple("Softsign", act.softsign, "x / (1 + |x|).")
SELU = _simple("SELU", act.selu, "lambda elu(x, alpha) with the fixed SELU constants.")
SiLU = _simple("SiLU", act.silu, "x sigmoid(x).")
Mish = _simple("Mish", act.mish, "x tanh(softplus(x)).")
Hardswish = _simple("Hardswish", act.hardswish, "x relu6(x + 3) / 6.")
ReLU6 = _simple("ReLU6", act.relu6, "min(max(0, x), 6).")
AbsRectification = _simple(
    "AbsRectification", act.abs_rectification, "|x| (textbook 6.3.1 absolute-value rectification)."
)
LogSigmoid = _simple("LogSigmoid", act.logsigmoid, "log sigmoid(x), stable.")
CosineUnit = _simple("CosineUnit", act.cosine_unit, "cos(x) (textbook 6.3.3).")


class Step(Module):
    """Heaviside step 1[x > 0] (the perceptron unit, seeds eq. 1.7); zero gradient."""

    def __init__(self, value_at_zero: float = 0.0):
        super().__init__()
        self.value_at_zero = value_at_zero

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.step(x, self.value_at_zero)


Heaviside = Step


class LeakyReLU(Module):
    """max(0, x) + slope min(0, x) (textbook 6.3.1; default slope 0.01)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """Parametric ReLU with learned slope a (textbook 6.3.1): ``num_parameters`` = 1 (shared) or C (per channel, dim 1).
    Init a = 0.25 as PyTorch."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(np.full((num_parameters,), init, dtype=dtype or get_default_dtype()))

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x if x > 0 else alpha (e^x - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class CELU(ELU):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.celu(x, self.alpha)


class Swish(Module):
    """x sigmoid(beta x); ``trainable=True`` learns beta (init ``beta``), else beta is fixed."""

    def __init__(self, beta: float = 1.0, trainable: bool = False, dtype=None):
        super().__init__()
        if trainable:
            self.beta = Parameter(np.full((), beta, dtype=dtype or get_default_dtype()))
        else:
            self.beta = beta

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.swish(x, self.beta)


class GELU(Module):
    """x Phi(x) (approximate='none', erf form) or the tanh approximation (approximate='tanh')."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Hardtanh(Module):
    """max(min_val, min(max_val, x)) (textbook 6.3.3 hard tanh)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


HardTanh = Hardtanh


class Hardsigmoid(Module):
    """clip(slope x + offset, 0, 1); PyTorch's slope 1/6 by default (Keras: slope=0.2)."""

    def __init__(self, slope: float = 1.0 / 6.0, offset: float = 0.5, inplace: bool = False):
        super().__init__()
        self.slope, self.offset = slope, offset

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.hardsigmoid(x, self.slope, self.offset)


HardSigmoid = Hardsigmoid


class Softplus(Module):
    """(1/beta) log(1 + e^(beta x)), linear above ``threshold`` (textbook 6.3.3)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim`` (textbook 6.2.2.3)."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Log-softmax along ``dim``."""

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.log_softmax(x, self.dim)


class Softmin(Softmax):
    """softmax(-x) along ``dim``."""

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.softmin(x, self.dim)


class RBF(Module):
    """Gaussian radial-basis units h_i = exp(-||W_:,i - x||^2 / sigma_i^2) (textbook 6.3.3).

    x: (N, in_features) -> (N, out_features). Centers W (in, out) ~ N(0, 1); ``sigma`` init 1,
    learned unless ``learn_sigma=False``."""

    def __init__(self, in_features: int, out_features: int, sigma: float = 1.0, learn_sigma: bool = True, dtype=None):
        super().__init__()
        from ...backend import get_generator

        dt = dtype or get_default_dtype()
        self.in_features, self.out_features = in_features, out_features
        self.centers = Parameter(get_generator().standard_normal((in_features, out_features)).astype(dt))
        s = np.full((out_features,), sigma, dtype=dt)
        if learn_sigma:
            self.sigma = Parameter(s)
        else:
            self.register_buffer("sigma", s)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return act.rbf(x, self.centers, self.sigma)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}"



