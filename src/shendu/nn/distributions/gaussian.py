"""Gaussian output distributions: ``Normal`` (linear unit, Textbook 6.2.2.1) and ``MultivariateNormal``
(full covariance through a Cholesky factor, 6.2.2.4), with differentiable ``log_prob``/``entropy`` and
``rsample`` (the reparametrisation mu + sigma eps)."""
from __future__ import annotations

import numpy as np

from ... import linalg
from ...autograd.tensor import Tensor, _wrap
from ...backend import generator_for, namespace_of
from .base import _LOG_2PI, Distribution, _float_dtype, _t


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
        return linalg.diagonal(self.scale_tril).log().sum(dim=-1)

    def log_prob(self, value):
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
