"""Keras ``BatchNormalization`` over the last axis (Textbook 8.7.1), on shendu's ``batch_norm``."""
from __future__ import annotations

import numpy as np

from ...backend import get_default_device
from ...nn.functional.normalization import batch_norm
from .base import Layer, _shape_str


class BatchNormalization(Layer):
    """Keras BatchNormalization over the last axis (axis=-1): momentum 0.99, epsilon 1e-3 (textbook 8.7.1).
    Weights: gamma, beta (trainable), moving_mean, moving_variance. Uses shendu's batch_norm (its running
    variance is the unbiased batch variance, as PyTorch)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon, self.center, self.scale = axis, float(momentum), float(epsilon), \
            center, scale
        if self._input_shape is not None:
            self._build(self._input_shape, get_default_device())

    def build(self, input_shape):
        nd = len(input_shape)
        if self.axis not in (-1, nd - 1) and not (nd == 2 and self.axis == 1):
            raise ValueError(f"{self.name} (BatchNormalization): only the last axis is supported, got axis="
                             f"{self.axis} for input {_shape_str(input_shape)}")
        c = input_shape[-1]
        if c is None:
            raise ValueError(f"{self.name} (BatchNormalization): the feature axis must be known, got "
                             f"{_shape_str(input_shape)}")
        self.num_features = int(c)
        self.gamma = self._param((c,), "ones")
        self.beta = self._param((c,), "zeros")
        self.gamma.requires_grad_(bool(self.scale))
        self.beta.requires_grad_(bool(self.center))
        self._buffer("moving_mean", np.zeros(c, dtype=self._dtype))
        self._buffer("moving_variance", np.ones(c, dtype=self._dtype))

    def _weight_arrays(self):
        if not self.built:
            return []
        return [(self.gamma, False), (self.beta, False), (self.moving_mean, False), (self.moving_variance, False)]

    @property
    def weights(self):
        return [self.gamma, self.beta, self.moving_mean, self.moving_variance] if self.built else []

    def forward(self, x):
        if x.shape[-1] != self.num_features:
            raise ValueError(f"{self.name} (BatchNormalization): expected {self.num_features} features in the last "
                             f"axis, got input of shape {tuple(x.shape)}")
        shape = x.shape
        flat = x if x.ndim == 2 else x.reshape(-1, self.num_features)
        y = batch_norm(flat, self.moving_mean, self.moving_variance, self.gamma, self.beta, self.training,
                          1.0 - self.momentum, self.epsilon)
        return y if x.ndim == 2 else y.reshape(shape)

    def extra_repr(self):
        return f"momentum={self.momentum}, epsilon={self.epsilon}"
