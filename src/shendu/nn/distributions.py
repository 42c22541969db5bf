"""Output distributions (Textbook 6.2.1.1 / 6.2.2, notes A.5.5): a network computes omega = f(x; theta) and
the loss is -log p(y; omega). torch.distributions names: Bernoulli, Categorical, Normal, MultivariateNormal,
each with ``log_prob``, ``sample``, ``entropy``, ``mean``; ``DistributionHead`` maps features to one of them.

Device-generic: parameters and samples live on the device of the parameter tensors; ``log_prob`` and
``entropy`` are differentiable shendu ops (gradchecked in tests/coverage_ch6_8/test_distributions.py).
"""
from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..autograd.tensor import Tensor, _wrap, as_tensor
from ..backend import generator_for, namespace_of
from .functional.activation import log_softmax, logsigmoid, softplus
from .layers.linear import Linear
from .module import Module

__all__ = ["Distribution", "Bernoulli", "Categorical", "Normal", "MultivariateNormal", "DistributionHead",
           "reference_class_logits", "ReferenceClassLinear", "kl_divergence"]

_LOG_2PI = math.log(2 * math.pi)


def _t(x, like=None):
    if isinstance(x, Tensor):
        return x
    if like is not None:
        from ..backend import device_of, to_device

        arr = np.asarray(x, dtype=like._data.dtype if np.asarray(x).dtype.kind == "f" else None)
        return _wrap(to_device(arr, device_of(like._data)))
    return as_tensor(x)


def _float_dtype(t):
    return np.float32 if t._data.dtype == np.float32 else np.float64


class Distribution:
    """Base: ``log_prob(value)`` (differentiable), ``sample(shape=())`` (no gradient), ``entropy()``, ``mean``."""

    def log_prob(self, value):  # pragma: no cover - abstract
        raise NotImplementedError

    def entropy(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def nll(self, value):
        """Mean negative log-likelihood -1/m sum log p(y; omega) (Textbook 6.12), the training loss."""
        return -self.log_prob(value).mean()


class Bernoulli(Distribution):
    """P(y = 1) = sigma(z) (Textbook 6.2.2.2, 6.19-6.23); log p(y) = y log sigma(z) + (1 - y) log sigma(-z)
    computed from the logit z (softplus form, stable). Give ``logits`` or ``probs``; shapes: any."""

    def __init__(self, probs=None, logits=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give exactly one of probs= and logits=")
        if logits is None:
            p = _t(probs)
            logits = p.log() - (1 - p).log()
        self.logits = _t(logits)

    @property
    def probs(self):
        return self.logits.sigmoid()

    @property
    def mean(self):
        return self.probs

    def log_prob(self, value):
        y = _t(value, self.logits)
        z = self.logits
        return y * logsigmoid(z) + (1 - y) * logsigmoid(-z)

    def entropy(self):
        p = self.probs
        return -(p * logsigmoid(self.logits) + (1 - p) * logsigmoid(-self.logits))

    def sample(self, shape=()):
        a = self.probs._data
        gen = generator_for(a)
        u = gen.random(tuple(shape) + a.shape, dtype=_float_dtype(self.logits))
        return _wrap((u < a).astype(a.dtype))


class Categorical(Distribution):
    """P(y = i) = softmax(z)_i (Textbook 6.2.2.3, 6.29-6.30); log p(y) = z_y - logsumexp(z).
    logits/probs: (*, n); value: integer (*,) class indices."""

    def __init__(self, probs=None, logits=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give exactly one of probs= and logits=")
        z = _t(logits) if logits is not None else _t(probs).log()
        if z.ndim < 1:
            raise ValueError(f"Categorical: logits need a class dimension, got shape {tuple(z.shape)}")
        self.logits = log_softmax(z, dim=-1)  # normalised log-probabilities
        self.num_classes = z.shape[-1]

    @property
    def probs(self):
        return self.logits.exp()

    @property
    def mean(self):
        raise ValueError("Categorical: the mean of a class label is undefined; use probs")

    def log_prob(self, value):
        v = value._data if isinstance(value, Tensor) else value
        xp = namespace_of(self.logits._data)
        if not hasattr(v, "dtype"):
            v = np.asarray(v)
        if v.dtype.kind not in "iu":
            raise TypeError(f"Categorical.log_prob: value must hold integer class indices, got dtype {v.dtype}")
        if tuple(v.shape) != tuple(self.logits.shape[:-1]):
            raise ValueError(f"Categorical.log_prob: value shape {tuple(v.shape)} != batch shape "
                             f"{tuple(self.logits.shape[:-1])}")
        from ..backend import device_of, to_device

        v = to_device(v, device_of(self.logits._data)) if xp is not np else v
        onehot = (xp.arange(self.num_classes) == v[..., None]).astype(self.logits._data.dtype)
        return (self.logits * _wrap(onehot)).sum(dim=-1)

    def entropy(self):
        return -(self.probs * self.logits).sum(dim=-1)

    def sample(self, shape=()):
        p = self.probs._data
        xp = namespace_of(p)
        gen = generator_for(p)
        u = gen.random(tuple(shape) + p.shape[:-1], dtype=_float_dtype(self.logits))
        cum = xp.cumsum(p, axis=-1)
        idx = (cum < u[..., None]).sum(axis=-1)
        return _wrap(xp.minimum(idx, self.num_classes - 1).astype(np.int64))


class Normal(Distribution):
    """N(y; mu, sigma^2) (Textbook 6.2.2.1, 3.21): log p = -(y - mu)^2 / (2 sigma^2) - log sigma - log(2 pi)/2.
    loc and scale broadcast; scale > 0."""

    def __init__(self, loc, scale):
        self.loc, self.scale = _t(loc), _t(scale)
        if isinstance(self.loc, Tensor) and not isinstance(scale, Tensor):
            self.scale = _t(scale, self.loc)

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return self.scale * self.scale

    def log_prob(self, value):
        y = _t(value, self.loc)
        z = (y - self.loc) / self.scale
        return -0.5 * z * z - self.scale.log() - 0.5 * _LOG_2PI

    def entropy(self):
        return self.scale.log() + 0.5 * (1.0 + _LOG_2PI) + 0 * self.loc

    def sample(self, shape=()):
        mu = (self.loc + 0 * self.scale)._data
        s = (self.scale + 0 * self.loc)._data
        eps = generator_for(mu).standard_normal(tuple(shape) + mu.shape, dtype=_float_dtype(self.loc))
        return _wrap(mu + s * eps.astype(mu.dtype))

    def rsample(self, shape=()):
        """Reparametrised sample mu + sigma eps (differentiable in mu and sigma)."""
        mu = self.loc + 0 * self.scale
        eps = generator_for(mu._data).standard_normal(tuple(shape) + tuple(mu.shape), dtype=_float_dtype(mu))
        return mu + self.scale * _wrap(eps.astype(mu._data.dtype))


class MultivariateNormal(Distribution):
    """N(y; mu, Sigma) with Sigma = L L^T, L lower triangular with positive diagonal (Textbook 6.2.2.4:
    full-covariance Gaussian output; Cholesky parametrisation). loc (*, d), scale_tril (*, d, d).
    log p = -1/2 ||L^{-1}(y - mu)||^2 - sum_i log L_ii - (d/2) log 2 pi."""

    def __init__(self, loc, scale_tril=None, covariance_matrix=None):
        if (scale_tril is None) == (covariance_matrix is None):
            raise ValueError("MultivariateNormal: give exactly one of scale_tril= and covariance_matrix=")
        from .. import linalg

        self.loc = _t(loc)
        L = _t(scale_tril) if scale_tril is not None else linalg.cholesky(_t(covariance_matrix))
        d = self.loc.shape[-1]
        if tuple(L.shape[-2:]) != (d, d):
            raise ValueError(f"MultivariateNormal: scale_tril must be (*, {d}, {d}) for loc (*, {d}), "
                             f"got {tuple(L.shape)}")
        self.scale_tril, self.d = L, d

    @property
    def mean(self):
        return self.loc

    @property
    def covariance_matrix(self):
        L = self.scale_tril
        return L @ L.transpose(-1, -2)

    def _half_log_det(self):
        from .. import linalg

        return linalg.diagonal(self.scale_tril).log().sum(dim=-1)

    def log_prob(self, value):
        from .. import linalg

        diff = _t(value, self.loc) - self.loc
        L = self.scale_tril
        batch = tuple(np.broadcast_shapes(tuple(diff.shape[:-1]), tuple(L.shape[:-2])))
        Lb = L.expand(batch + (self.d, self.d)) if tuple(L.shape[:-2]) != batch else L
        db = diff.expand(batch + (self.d,)) if tuple(diff.shape[:-1]) != batch else diff
        z = linalg.solve(Lb, db.unsqueeze(-1)).squeeze(-1)
        return -0.5 * (z * z).sum(dim=-1) - self._half_log_det() - 0.5 * self.d * _LOG_2PI

    def entropy(self):
        return self._half_log_det() + 0.5 * self.d * (1.0 + _LOG_2PI)

    def sample(self, shape=()):
        mu = self.loc._data
        L = self.scale_tril._data
        xp = namespace_of(mu)
        batch = tuple(shape) + tuple(np.broadcast_shapes(mu.shape[:-1], L.shape[:-2]))
        eps = generator_for(mu).standard_normal(batch + (self.d,), dtype=_float_dtype(self.loc)).astype(mu.dtype)
        return _wrap(mu + xp.matmul(L, eps[..., None])[..., 0])


def kl_divergence(p, q):
    """KL(p || q) for two Normals (closed form) or two Categoricals over the same classes."""
    if isinstance(p, Normal) and isinstance(q, Normal):
        vr = (p.scale / q.scale) ** 2
        t = ((p.loc - q.loc) / q.scale) ** 2
        return 0.5 * (vr + t - 1 - vr.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        return (p.probs * (p.logits - q.logits)).sum(dim=-1)
    raise TypeError(f"kl_divergence: no closed form for {type(p).__name__} and {type(q).__name__}")


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
            from . import init

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
            from ..backend import device_of, to_device

            place = _wrap(to_device(place, device_of(s._data)))
            low = (s[..., d:] @ place).reshape(tuple(s.shape[:-1]) + (d, d))
            L = L + low
        return MultivariateNormal(z, scale_tril=L)

    def extra_repr(self):
        return f"kind={self.kind!r}, out_features={self.out_features}"
