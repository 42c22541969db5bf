"""Layers that output a distribution (Textbook 6.2.1.1, notes A.5.5): ``DistributionHead`` maps features to
a Bernoulli, Categorical, Normal or MultivariateNormal; ``ReferenceClassLinear`` and
``reference_class_logits`` give the n - 1 free logits of the reference-class softmax (6.2.2.3)."""
from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...autograd.tensor import _wrap
from ...backend import device_of, namespace_of, to_device
from .. import init
from ..functional.activation import softplus
from ..layers.linear import Linear
from ..module import Module
from .base import _t
from .discrete import Bernoulli, Categorical
from .gaussian import MultivariateNormal, Normal


def reference_class_logits(z):
    """Reference-class parametrisation (Textbook 6.2.2.3, line 251): n - 1 free logits (*, n-1) -> n logits
    (*, n) with z_n = 0, so softmax has no redundant degree of freedom; n = 2 gives sigmoid (W6.7)."""
    z = _t(z)
    if z.ndim < 1:
        raise ValueError("reference_class_logits: expected (*, n-1) logits, got a scalar")
    return ops.cat([z, z[..., :1] * 0], dim=-1)


class ReferenceClassLinear(Module):
    """Affine layer to n - 1 logits followed by a fixed zero logit for the last (reference) class:
    x (*, in) -> logits (*, n) with logits[..., n-1] = 0 (Textbook 6.2.2.3)."""

    def __init__(self, in_features: int, num_classes: int, bias: bool = True, dtype=None):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"ReferenceClassLinear: num_classes must be >= 2, got {num_classes}")
        self.num_classes = num_classes
        self.linear = Linear(in_features, num_classes - 1, bias=bias, dtype=dtype)

    def forward(self, x):
        return reference_class_logits(self.linear(x))


class DistributionHead(Module):
    """omega = f(x) -> distribution (Textbook 6.2.1.1, notes A.5.5): x (*, in) -> ``Bernoulli`` (out logits),
    ``Categorical`` (out classes), ``Normal`` (mean and softplus scale, out dims) or ``MultivariateNormal``
    (mean and a Cholesky factor with softplus diagonal, heteroscedastic full covariance, 6.2.2.4).
    Train with ``head(x).nll(y)``. The Gaussian heads start with unit variance (Textbook 8.4: variance/precision
    parameters initialised to 1): scale weights 0, bias softplus^{-1}(1)."""

    KINDS = ("bernoulli", "categorical", "normal", "multivariate_normal")

    def __init__(self, in_features: int, out_features: int, kind: str = "normal", min_scale: float = 1e-4,
                 dtype=None):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"DistributionHead: kind must be one of {self.KINDS}, got {kind!r}")
        self.kind, self.out_features, self.min_scale = kind, out_features, float(min_scale)
        self.params = Linear(in_features, out_features, dtype=dtype)
        d = out_features
        if kind == "normal":
            self.scale = Linear(in_features, d, dtype=dtype)
        elif kind == "multivariate_normal":
            self.scale = Linear(in_features, d + d * (d - 1) // 2, dtype=dtype)
            rows, cols = np.tril_indices(d, -1)
            self._rows, self._cols = rows, cols
        if kind in ("normal", "multivariate_normal"):
            init.zeros_(self.scale.weight)
            init.zeros_(self.scale.bias)
            self.scale.bias._data[:d] = math.log(math.expm1(1.0 - self.min_scale))

    def forward(self, x):
        z = self.params(x)
        if self.kind == "bernoulli":
            return Bernoulli(logits=z)
        if self.kind == "categorical":
            return Categorical(logits=z)
        s = self.scale(x)
        d = self.out_features
        diag = softplus(s[..., :d]) + self.min_scale
        if self.kind == "normal":
            return Normal(z, diag)
        # L = diag(diag) + strictly-lower entries, assembled with differentiable ops (one-hot placement)
        xp = namespace_of(s._data)
        dt = s._data.dtype
        eye = xp.eye(d, dtype=dt)
        L = diag.unsqueeze(-1) * _wrap(eye)
        m = d * (d - 1) // 2
        if m:
            place = np.zeros((m, d * d), dtype=dt)
            place[np.arange(m), self._rows * d + self._cols] = 1
            place = _wrap(to_device(place, device_of(s._data)))
            low = (s[..., d:] @ place).reshape(tuple(s.shape[:-1]) + (d, d))
            L = L + low
        return MultivariateNormal(z, scale_tril=L)

    def extra_repr(self):
        return f"kind={self.kind!r}, out_features={self.out_features}"
