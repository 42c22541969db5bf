"""Dropout layers (textbook 7.12): active in ``train()`` mode, pass-through (or weight scaling) in ``eval()``."""
from __future__ import annotations

from ..functional._checks import check_tensor
from ..functional.dropout import _check, alpha_dropout, dropout, dropout2d
from ..module import Module


class Dropout(Module):
    """Drop each unit with probability ``p`` in training (textbook 7.12).

    mode='inverted' (default, PyTorch): kept units scaled by 1/(1-p) in training, identity in eval.
    mode='weight_scaling': the textbook's weight-scaling inference rule: no scaling in training,
    outputs multiplied by (1-p) in eval (same expected activations)."""

    _fn = staticmethod(dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False, mode: str = "inverted"):
        super().__init__()
        _check(type(self).__name__, p, mode)
        self.p, self.mode = float(p), mode

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return type(self)._fn(x, self.p, self.training, mode=self.mode)

    def extra_repr(self):
        return f"p={self.p}" + (f", mode={self.mode!r}" if self.mode != "inverted" else "")


class Dropout2d(Dropout):
    """Channel dropout: zero whole feature maps of (N, C, H, W) input."""

    _fn = staticmethod(dropout2d)


Dropout1d = Dropout3d = Dropout2d


class AlphaDropout(Module):
    """Dropout that keeps SELU's self-normalizing mean and variance."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return alpha_dropout(x, self.p, self.training)
