"""Keras core layers: ``Dense`` (an affine map and activation, Textbook 6.1 / text 003 eq. 1.5), ``Activation``,
``Dropout`` (inverted dropout, Textbook 7.12) and ``Flatten``. TensorLayer's argument names (text 003) are
accepted too: ``Dense(n_units=800, act=..., in_channels=784)``, ``Dropout(keep=0.8)``."""
from __future__ import annotations

import math

from ...backend import get_default_device
from ...nn.functional.activation import get_activation
from ...nn.functional.dropout import dropout as _dropout_fn
from ...nn.functional.linear import LinearFn
from .base import Layer, _shape_str


class Dense(Layer):
    """activation(x W + b) with W (in, out) in Keras' get_weights layout (stored as shendu's (out, in));
    ``in`` is taken from the first input. Keras init: Glorot-uniform kernel, zero bias (text 003 eq. 1.5)."""

    def __init__(self, units=None, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", *, n_units=None, act=None, in_channels=None, **kwargs):
        if in_channels is not None:
            kwargs.setdefault("input_dim", in_channels)
        super().__init__(**kwargs)
        units = units if units is not None else n_units
        if units is None or int(units) <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = int(units)
        activation = activation if activation is not None else act
        self.activation = get_activation(activation)
        self._act_name = activation if isinstance(activation, str) or activation is None else getattr(
            activation, "__name__", "fn")
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        if self._input_shape is not None:
            self._build(self._input_shape, get_default_device())

    def build(self, input_shape):
        n_in = input_shape[-1]
        if n_in is None:
            raise ValueError(f"{self.name} (Dense): the last input dimension must be known, "
                             f"got {_shape_str(input_shape)}")
        self.in_features = int(n_in)
        self.weight = self._param((self.units, self.in_features), self.kernel_initializer)
        if self.use_bias:
            self.bias = self._param((self.units,), self.bias_initializer)
        else:
            self.register_parameter("bias", None)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    @property
    def kernel(self):
        """The kernel in Keras' (in, out) layout (a transposed view of ``weight``)."""
        return self.weight.T

    def _weight_arrays(self):
        if not self.built:
            return []
        return [(self.weight, True)] + ([(self.bias, False)] if self.bias is not None else [])

    def forward(self, x):
        w = self.weight
        if x.shape[-1] != w.shape[1]:
            raise ValueError(f"{self.name} (Dense {self.in_features} -> {self.units}): expected input of shape "
                             f"(*, {self.in_features}), got {tuple(x.shape)}")
        y = LinearFn()(x, w) if self.bias is None else LinearFn()(x, w, self.bias)
        return self.activation(y)

    def extra_repr(self):
        return f"units={self.units}, activation={self._act_name}, use_bias={self.use_bias}"


class Activation(Layer):
    """Applies an activation by name ('relu', 'softmax', ...) or callable."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = get_activation(activation)
        self._act_name = activation if isinstance(activation, str) else getattr(activation, "__name__", "fn")

    def forward(self, x):
        return self.activation(x)

    def extra_repr(self):
        return f"{self._act_name}"


class Dropout(Layer):
    """Drops each unit with probability ``rate`` in training (inverted dropout; identity in eval; textbook 7.12).
    TensorLayer's ``keep`` = 1 - rate is accepted."""

    def __init__(self, rate=None, noise_shape=None, seed=None, *, keep=None, **kwargs):
        super().__init__(**kwargs)
        if rate is None:
            if keep is None:
                raise ValueError("Dropout: give rate (Keras) or keep (TensorLayer)")
            rate = 1.0 - keep
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout: rate must lie in [0, 1), got {rate!r}")
        if noise_shape is not None:
            raise ValueError("Dropout: noise_shape is not supported")
        self.rate = float(rate)

    def forward(self, x):
        return _dropout_fn(x, self.rate, self.training) if self.rate else x

    def extra_repr(self):
        return f"rate={self.rate}"


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else int(math.prod(rest)))

    def forward(self, x):
        return x.reshape(x.shape[0], -1)
