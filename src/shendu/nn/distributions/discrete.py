"""Discrete output distributions: ``Bernoulli`` (sigmoid unit, Textbook 6.2.2.2) and ``Categorical``
(softmax unit, 6.2.2.3), each computed from logits, with differentiable ``log_prob`` and ``entropy``."""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import device_of, generator_for, namespace_of, to_device
from ..functional.activation import log_softmax, logsigmoid
from .base import Distribution, _float_dtype, _t


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
