"""Highway layer (Srivastava et al. 2015; textbook 8.7.5, skip connections that aid optimization).

y = T(x) * H(x) + (1 - T(x)) * x, with H(x) = act(x W_H^T + b_H) and the transform gate T(x) = sigmoid(x W_T^T + b_T).
The gate bias starts negative (default -2, so T ~ 0.12) and the layer starts close to the identity: a linear path
from low layers to the output that keeps gradients from vanishing in deep stacks. x: (*, features) -> (*, features).
"""
from __future__ import annotations

from ..functional._checks import check_tensor
from ..functional.activation import get_activation
from ..module import Module
from .linear import Linear


class Highway(Module):
    """y = T*H(x) + (1-T)*x, T = sigmoid(W_T x + b_T), H = act(W_H x + b_H) (textbook 8.7.5). x: (*, features)."""

    def __init__(self, features: int, activation="relu", gate_bias: float = -2.0, dtype=None):
        super().__init__()
        if int(features) <= 0:
            raise ValueError(f"Highway: features must be positive, got {features}")
        self.features = int(features)
        self.transform = Linear(features, features, dtype=dtype)
        self.gate = Linear(features, features, dtype=dtype)
        self.gate.bias._data[...] = gate_bias
        self.activation = get_activation(activation)
        self.gate_bias = float(gate_bias)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        if x.shape[-1:] != (self.features,):
            raise ValueError(f"Highway({self.features}): expected input of shape (*, {self.features}), "
                             f"got {tuple(x.shape)}")
        t = self.gate(x).sigmoid()
        h = self.activation(self.transform(x))
        return x + t * (h - x)

    def extra_repr(self):
        return f"features={self.features}, gate_bias={self.gate_bias}"
