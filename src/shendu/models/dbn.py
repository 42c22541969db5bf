"""Deep belief network: a stack of RBMs trained greedily layer by layer, then fine-tuned as an MLP (texts 004/001).

Layer l is an RBM on the mean-field hidden activations p(h^(l-1) = 1 | ...) of the layer below, trained by CD-k
(Hinton et al. 2006); ``to_mlp`` turns the stack into sigmoid Linear layers with W_l^T and the hidden biases c_l as
the initialisation (unsupervised pretraining as initialisation, 000 l.1505), plus a fresh output layer.
sizes = (n_visible, h1, ..., hL); data (N, sizes[0]) in [0, 1] (binary units) or real-valued (visible="gaussian").
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import _wrap
from ..backend import device_of, to_device
from ..nn.containers import ModuleList, Sequential
from ..nn.layers.activation import Sigmoid
from ..nn.layers.linear import Linear
from ..nn.module import Module
from .rbm import RBM

__all__ = ["DBN"]


class DBN(Module):
    """``DBN(sizes, visible="binary")``: RBMs sizes[0]-sizes[1], sizes[1]-sizes[2], ...

    ``pretrain`` then ``to_mlp``."""

    def __init__(self, sizes, visible: str = "binary", weight_std: float = 0.01, dtype=None):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) <= 0:
            raise ValueError(f"DBN: sizes must list >= 2 positive widths (visible, hidden...), got {sizes}")
        self.sizes = sizes
        self.rbms = ModuleList([RBM(a, b, visible=visible if i == 0 else "binary", weight_std=weight_std, dtype=dtype)
                                for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))])

    def _data(self, x):
        if hasattr(x, "_data"):
            return x.detach()
        dev = device_of(self.rbms[0].W._data)
        return _wrap(to_device(np.ascontiguousarray(x, dtype=self.rbms[0].W.dtype), dev))

    def pretrain(self, data, epochs: int = 5, batch_size: int = 32, lr: float = 0.1, k: int = 1,
                 persistent: bool = False, momentum: float = 0.0, weight_decay: float = 0.0, seed: int = 0,
                 layers=None) -> list:
        """Greedy layer-wise CD-k training: each RBM ``epochs`` epochs of minibatch ``cd_step`` on the layer below's
        mean-field activations. Returns the last-epoch mean reconstruction error of each layer trained."""
        x = self._data(data)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"DBN.pretrain: expected data (N, {self.sizes[0]}), got {tuple(x.shape)}")
        rng = np.random.default_rng(seed)
        errors = []
        todo = range(len(self.rbms)) if layers is None else layers
        for i, rbm in enumerate(self.rbms):
            if i in todo:
                err = 0.0
                for _ in range(int(epochs)):
                    order = rng.permutation(x.shape[0])
                    errs = []
                    for s in range(0, len(order), batch_size):
                        idx = to_device(order[s:s + batch_size], device_of(x._data))
                        errs.append(rbm.cd_step(_wrap(x._data[idx]), k=k, lr=lr, persistent=persistent,
                                                momentum=momentum, weight_decay=weight_decay))
                    err = float(np.mean(errs))
                errors.append(err)
            with no_grad():
                x = rbm.hidden_probs(x).detach()
        return errors

    def transform(self, x):
        """Mean-field top-layer activations p(h^L = 1 | x), (N, sizes[-1])."""
        with no_grad():
            h = self._data(x)
            for rbm in self.rbms:
                h = rbm.hidden_probs(h)
        return h

    def to_mlp(self, n_classes=None) -> Sequential:
        """Sequential [Linear(W_l^T, c_l), Sigmoid] * L (+ a freshly initialised Linear(sizes[-1], n_classes))."""
        layers = []
        for rbm in self.rbms:
            lin = Linear(rbm.n_visible, rbm.n_hidden, dtype=rbm.W.dtype)
            with no_grad():
                lin.weight._data = rbm.W._data.T.copy()
                lin.bias._data = rbm.c._data.copy()
            layers += [lin, Sigmoid()]
        if n_classes is not None:
            head = Linear(self.sizes[-1], int(n_classes), dtype=self.rbms[-1].W.dtype)
            layers.append(head)
        model = Sequential(*layers)
        return model.to(device_of(self.rbms[0].W._data))

    def extra_repr(self):
        return f"sizes={self.sizes}"
