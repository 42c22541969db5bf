"""Freezing, transfer of the first k layers, greedy supervised pretraining (textbook 8.7.4, Fig. 8.7).

- ``freeze(module)`` / ``unfreeze(module)``: stop / resume gradients of every parameter (fine-tuning control).
- ``transfer_layers(source, target, k, freeze=False)``: copy the first k parameterised layers (Yosinski et al. 2014;
  VGG 11 -> 19 initialisation), optionally frozen; the upper layers keep their random init.
- ``greedy_supervised_pretraining``: Fig. 8.7 (a)-(d): train a one-hidden-layer MLP, keep input -> hidden, discard
  hidden -> output, add a new hidden layer and a new output trained on the same targets, repeat; optionally
  fine-tune everything jointly at the end.
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...nn.containers import Sequential
from ...nn.functional.loss import cross_entropy
from ...nn.layers.linear import Linear
from ...nn.module import Module
from ._loop import accuracy, activation_layer, minibatch_fit

__all__ = ["freeze", "unfreeze", "parameterised_layers", "transfer_layers", "greedy_supervised_pretraining"]


def freeze(module: Module) -> Module:
    """requires_grad = False on every parameter of ``module`` (and its gradients cleared); returns it."""
    for p in module.parameters():
        p.requires_grad_(False)
        p.grad = None
    return module


def unfreeze(module: Module) -> Module:
    """requires_grad = True on every parameter of ``module``; returns it."""
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def parameterised_layers(module: Module) -> list:
    """The leaf-most modules that own parameters directly, in definition order."""
    return [m for m in module.modules() if any(p is not None for p in m._parameters.values())]


def transfer_layers(source: Module, target: Module, k: int, freeze_transferred: bool = False) -> list:
    """Copy the parameters of the first ``k`` parameterised layers of ``source`` into ``target`` (shapes must match);
    with ``freeze_transferred`` they are frozen in ``target``. Returns the target layers copied into."""
    src, dst = parameterised_layers(source), parameterised_layers(target)
    if not 0 <= int(k) <= min(len(src), len(dst)):
        raise ValueError(f"transfer_layers: k={k} must be in [0, {min(len(src), len(dst))}] (source has {len(src)}, "
                         f"target {len(dst)} parameterised layers)")
    for i, (a, b) in enumerate(zip(src[:k], dst[:k])):
        for name, p in a._parameters.items():
            q = b._parameters.get(name)
            if p is None or q is None or tuple(p.shape) != tuple(q.shape):
                raise ValueError(f"transfer_layers: layer {i} ({type(a).__name__} -> {type(b).__name__}) parameter "
                                 f"{name!r}: shapes {None if p is None else tuple(p.shape)} and "
                                 f"{None if q is None else tuple(q.shape)} differ")
            with no_grad():
                q._data = p._data.copy()
        if freeze_transferred:
            freeze(b)
    return dst[:k]


def greedy_supervised_pretraining(sizes, n_classes, x, y, epochs_per_stage=5, fine_tune_epochs=0, lr=0.1,
                                  batch_size=32, activation="relu", freeze_previous=True, seed=0, dtype=None):
    """Fig. 8.7: grow an MLP sizes[0] -> sizes[1] -> ... one hidden layer at a time on targets y (int classes).

    Stage i trains [kept hidden layers] -> new hidden layer -> new output layer (earlier layers frozen when
    ``freeze_previous``) for ``epochs_per_stage`` epochs; the output layer of each stage is discarded except the last.
    Then ``fine_tune_epochs`` epochs of joint training. x: (N, sizes[0]) float, y: (N,) int.
    Returns (model, stage_accuracies): a Sequential [Linear, act] * L + [Linear], the training accuracy per stage."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"greedy_supervised_pretraining: sizes needs the input and >= 1 hidden width, got {sizes}")
    hidden: list = []
    stage_acc = []
    head = None
    for i in range(1, len(sizes)):
        hidden.append(Linear(sizes[i - 1], sizes[i], dtype=dtype))
        head = Linear(sizes[i], n_classes, dtype=dtype)
        layers = []
        for j, lin in enumerate(hidden):
            if freeze_previous and j < len(hidden) - 1:
                freeze(lin)
            layers += [lin, activation_layer(activation)]
        model = Sequential(*layers, head)
        minibatch_fit(model, lambda xb, yb, m=model: cross_entropy(m(xb), yb), (x, y), epochs_per_stage,
                      batch_size, lr=lr, seed=seed + i)
        stage_acc.append(accuracy(model, x, y))
    unfreeze(model)
    if fine_tune_epochs:
        minibatch_fit(model, lambda xb, yb: cross_entropy(model(xb), yb), (x, y), fine_tune_epochs, batch_size,
                      lr=lr, seed=seed)
    return model, stage_acc
