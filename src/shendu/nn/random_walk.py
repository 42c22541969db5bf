"""Random-walk initialisation (Textbook 8.4, Sussillo & Abbott 2014): scale each layer so that log ||h_l|| does a
zero-drift random walk with depth, which lets plain (non-orthogonal) deep feedforward nets train (1000 layers).

W ~ N(0, g^2 / N) with N = fan-in and
    g = exp(1 / (2 N))                                  (linear units: E log(g^2 chi2_N / N) = 0 to first order)
    g = sqrt(2) exp(1.2 / (max(N, 6) - 2.4))            (ReLU units, the paper's fit)
Biases are set to 0 (the text warns against combining it with nonzero biases).
"""
from __future__ import annotations

import math

from . import init as _init

__all__ = ["random_walk_gain", "random_walk_", "random_walk_init"]


def random_walk_gain(fan_in: int, nonlinearity: str = "linear") -> float:
    """Sussillo-Abbott gain g for a layer with ``fan_in`` inputs ("linear" or "relu")."""
    if not isinstance(fan_in, int) or fan_in < 1:
        raise ValueError(f"random_walk_gain: fan_in must be an int >= 1, got {fan_in!r}")
    if nonlinearity == "linear":
        return math.exp(1.0 / (2 * fan_in))
    if nonlinearity == "relu":
        return math.sqrt(2.0) * math.exp(1.2 / (max(fan_in, 6) - 2.4))
    raise ValueError(f"random_walk_gain: nonlinearity must be 'linear' or 'relu', got {nonlinearity!r}")


def random_walk_(weight, nonlinearity: str = "linear"):
    """Fill ``weight`` (out, in, ...) with N(0, g^2 / fan_in) draws, g = random_walk_gain(fan_in); in place."""
    if weight.ndim < 2:
        raise ValueError(f"random_walk_: weight must be at least 2-d, got shape {tuple(weight.shape)}")
    fan_in = int(math.prod(weight.shape[1:]))
    g = random_walk_gain(fan_in, nonlinearity)
    return _init.normal_(weight, 0.0, g / math.sqrt(fan_in))


def random_walk_init(model, nonlinearity: str = "linear"):
    """Apply ``random_walk_`` to every Linear/conv weight of ``model`` and zero their biases; returns model."""
    for m in model.modules():
        w = getattr(m, "weight", None)
        if w is not None and getattr(w, "ndim", 0) >= 2:
            random_walk_(w, nonlinearity)
            b = getattr(m, "bias", None)
            if b is not None:
                _init.zeros_(b)
    return model
