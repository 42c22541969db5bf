"""A small minibatch loop on host arrays, shared by the pretraining strategies (no callbacks, no progress bar)."""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import _wrap
from ...backend import device_of, to_device


def device_arrays(module_or_param, *arrays):
    """Host arrays as constant tensors on the device of ``module_or_param``'s (first) parameter."""
    p = module_or_param if not hasattr(module_or_param, "parameters") else next(iter(module_or_param.parameters()))
    dev = device_of(p._data)
    return tuple(_wrap(to_device(np.ascontiguousarray(a), dev)) for a in arrays)


def minibatch_fit(model, loss_fn, arrays, epochs=1, batch_size=32, optimizer=None, lr=0.1, seed=0, params=None):
    """Train ``model`` by minimising ``loss_fn(*batch)`` over shuffled minibatches of host ``arrays`` (same length).

    optimizer: an Optimizer (default SGD(lr) over ``params`` or the trainable parameters). Returns the mean loss of
    each epoch (a list of floats)."""
    from ...optim.sgd import SGD

    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"minibatch_fit: arrays must have the same length, got {[len(a) for a in arrays]}")
    if optimizer is None:
        ps = [p for p in (params if params is not None else model.parameters()) if p.requires_grad]
        optimizer = SGD(ps, lr=lr)
    rng = np.random.default_rng(seed)
    data = device_arrays(model, *arrays)
    losses = []
    model.train()
    for _ in range(int(epochs)):
        order = rng.permutation(n)
        total, count = 0.0, 0
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            bidx = to_device(idx, device_of(data[0]._data))
            batch = [_wrap(d._data[bidx]) for d in data]
            optimizer.zero_grad()
            loss = loss_fn(*batch)
            loss.backward()
            optimizer.step()
            total += float(loss.item()) * len(idx)
            count += len(idx)
        losses.append(total / max(count, 1))
    return losses


def accuracy(model, x, y, batch_size=512):
    """Classification accuracy of ``model`` (logits) on host arrays x, y (evaluation mode, no graph)."""
    from ...autograd.grad_mode import no_grad

    was = model.training
    model.eval()
    correct = 0
    with no_grad():
        for s in range(0, len(x), batch_size):
            (xb,) = device_arrays(model, x[s:s + batch_size])
            pred = _host(model(xb).argmax(-1)._data)
            correct += int((pred == y[s:s + batch_size]).sum())
    model.train(was)
    return correct / len(x)


def _host(arr):
    from ...backend import to_host

    return to_host(arr)


def activation_layer(activation):
    """A layer Module for an activation given by name ('relu', 'sigmoid', 'tanh', ...) or callable."""
    from ...nn.containers import Lambda
    from ...nn.functional.activation import get_activation
    from ...nn.layers import activation as activation_layers

    named = {"relu": activation_layers.ReLU, "sigmoid": activation_layers.Sigmoid, "tanh": activation_layers.Tanh}
    if isinstance(activation, str) and activation.lower() in named:
        return named[activation.lower()]()
    return Lambda(get_activation(activation), name=str(activation))
