"""Per-layer learning rates scaled by 1/sqrt(fan-in) (text 002 §2.7, Collobert: "the learning rate of each
weight is the global rate divided by the square root of the number of inputs to its unit").

    fan_in_param_groups(model, lr) -> [{"params": [...], "lr": lr / sqrt(n_in)}, ...]
n_in of a layer = prod(weight.shape[1:]) (in_features; in_channels * kernel area for convolutions); the layer's
bias shares its rate. Parameters of layers without a >= 2-d ``weight`` (norm layers, ...) keep ``lr``.
"""
from __future__ import annotations

import math

__all__ = ["fan_in_param_groups"]


def fan_in_param_groups(model, lr, **options):
    """Parameter groups for any optimizer: one group per layer with lr / sqrt(fan_in); ``options`` go in each."""
    if not lr > 0:
        raise ValueError(f"fan_in_param_groups: lr must be > 0, got {lr!r}")
    groups, seen = [], set()
    for _, mod in model.named_modules():
        own = [p for _, p in mod.named_parameters(recurse=False)] if hasattr(mod, "named_parameters") else []
        own = [p for p in own if id(p) not in seen]
        if not own:
            continue
        w = getattr(mod, "weight", None)
        fan = math.prod(w.shape[1:]) if w is not None and len(w.shape) >= 2 else None
        for p in own:
            seen.add(id(p))
        groups.append(dict(options, params=own, lr=lr / math.sqrt(fan) if fan else lr, fan_in=fan))
    if not groups:
        raise ValueError("fan_in_param_groups: the model has no parameters")
    return groups
