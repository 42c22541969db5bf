"""`MLP`: a multilayer perceptron builder (textbook 6.1) with the dropout of textbook 7.12 on its inputs and hidden
layers; ``MLP.book(sizes)`` uses the book's default inclusion probabilities, 0.8 for input units and 0.5 for hidden
units (Dropout's p is the *drop* probability: 0.2 and 0.5)."""
from __future__ import annotations

from .. import nn

__all__ = ["MLP"]

_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU", "elu": "ELU",
                "leaky_relu": "LeakyReLU", "softplus": "Softplus"}


def _activation(who, act):
    if isinstance(act, str):
        if act.lower() not in _ACTIVATIONS:
            raise ValueError(f"{who}: unknown activation {act!r}; expected one of {sorted(_ACTIVATIONS)} or a "
                             f"callable returning a Module")
        return getattr(nn, _ACTIVATIONS[act.lower()])()
    if callable(act):
        return act()
    raise TypeError(f"{who}: activation must be a name or a callable returning a Module, got {type(act).__name__}")


class MLP(nn.Sequential):
    """sizes = (d_in, h_1, ..., h_k, d_out): [Dropout(input_dropout)] Linear act [Dropout(hidden_dropout)] ... Linear.

    input_dropout / hidden_dropout: drop probabilities p (keep 1 - p) of the input units and of each hidden layer's
    units; 0 leaves the layer out. keep_prob=(p_input, p_hidden): the same given as the book's inclusion
    probabilities (textbook 7.12: 0.8 and 0.5, ``MLP.book``). x: (N, d_in) -> logits (N, d_out)."""

    def __init__(self, sizes, activation="relu", input_dropout=0.0, hidden_dropout=0.0, keep_prob=None, bias=True):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP: sizes must be (d_in, ..., d_out) with at least two sizes >= 1, got {sizes}")
        if keep_prob is not None:
            if input_dropout or hidden_dropout:
                raise ValueError("MLP: give keep_prob (inclusion probabilities) or input_dropout/hidden_dropout "
                                 "(drop probabilities), not both")
            kin, khid = (float(k) for k in keep_prob)
            input_dropout, hidden_dropout = round(1.0 - kin, 12), round(1.0 - khid, 12)
        for name, p in (("input_dropout", input_dropout), ("hidden_dropout", hidden_dropout)):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"MLP: {name} must be a drop probability in [0, 1), got {p}")
        layers = []
        if input_dropout:
            layers.append(nn.Dropout(input_dropout))
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b, bias=bias))
            if i < len(sizes) - 2:
                layers.append(_activation("MLP", activation))
                if hidden_dropout:
                    layers.append(nn.Dropout(hidden_dropout))
        super().__init__(*layers)
        self.sizes, self.input_dropout, self.hidden_dropout = tuple(sizes), float(input_dropout), float(hidden_dropout)

    @classmethod
    def book(cls, sizes, activation="relu", **kwargs):
        """The textbook's defaults (7.12): input units kept with probability 0.8, hidden units with 0.5."""
        return cls(sizes, activation, keep_prob=(0.8, 0.5), **kwargs)
