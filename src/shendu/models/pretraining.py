"""Unsupervised pretraining as initialisation (000 l.1505, l.3062) and the semi-supervised shared objective
(textbook 7.6).

- ``pretrain_stacked_autoencoders(sizes, data)``: greedy layer-wise autoencoders (optionally denoising); layer l
  learns to reconstruct the codes of layer l-1; the encoders initialise an MLP (plus an optional fresh output layer).
- ``SemiSupervisedAutoEncoder``: one encoder h = f(x) shared by a decoder and a classifier; the loss
  -log P(y | h) on labelled examples + lambda * ||x - g(h)||^2 on all examples (generative + discriminative
  criteria sharing parameters, textbook 7.6).
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..nn.containers import Sequential
from ..nn.functional.loss import cross_entropy, mse_loss
from ..nn.layers.linear import Linear
from ..nn.module import Module
from ..ops import cat
from ..train.strategies._loop import activation_layer, device_arrays, minibatch_fit
from .autoencoder import AutoEncoder

__all__ = ["pretrain_stacked_autoencoders", "SemiSupervisedAutoEncoder"]


def pretrain_stacked_autoencoders(sizes, data, epochs: int = 5, batch_size: int = 32, lr: float = 1e-2,
                                  activation: str = "sigmoid", noise=None, noise_level: float = 0.0,
                                  n_classes=None, optimizer="adam", seed: int = 0, dtype=None) -> Sequential:
    """Greedy stacked autoencoders sizes[0] -> ... -> sizes[-1]; returns Sequential [Linear, act] * L (+ Linear head).

    optimizer: "adam" (Adam(lr)), "sgd" (SGD(lr)) or a callable params -> Optimizer. The per-layer last-epoch
    reconstruction losses are kept in ``model.pretrain_losses``. data: (N, sizes[0]) host array."""
    import numpy as np

    from ..backend import to_host

    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ValueError(f"pretrain_stacked_autoencoders: sizes needs >= 2 widths, got {sizes}")
    x = np.asarray(data, dtype=np.float32 if dtype is None else dtype)
    if x.ndim != 2 or x.shape[1] != sizes[0]:
        raise ValueError(f"pretrain_stacked_autoencoders: expected data (N, {sizes[0]}), got {x.shape}")
    layers, losses = [], []
    for i in range(len(sizes) - 1):
        out_act = "sigmoid" if (i == 0 or activation == "sigmoid") else None
        ae = AutoEncoder([sizes[i], sizes[i + 1]], activation=activation, output_activation=out_act, noise=noise,
                         noise_level=noise_level, dtype=dtype)
        opt = _make_optimizer(optimizer, list(ae.parameters()), lr)
        hist = minibatch_fit(ae, lambda xb, m=ae: m.loss(xb), (x,), epochs, batch_size, optimizer=opt, lr=lr,
                             seed=seed + i)
        losses.append(hist[-1])
        enc = ae.encoder[0]
        with no_grad():
            (xt,) = device_arrays(ae, x)
            x = np.asarray(to_host(ae.act(enc(xt))._data))
        layers += [enc, activation_layer(activation)]
    if n_classes is not None:
        layers.append(Linear(sizes[-1], int(n_classes), dtype=dtype))
    model = Sequential(*layers)
    object.__setattr__(model, "pretrain_losses", losses)
    return model


def _make_optimizer(optimizer, params, lr):
    from ..optim import SGD, Adam

    if callable(optimizer):
        return optimizer(params)
    if optimizer in ("adam", "sgd"):
        return (Adam if optimizer == "adam" else SGD)(params, lr=lr)
    raise ValueError(f"pretrain_stacked_autoencoders: optimizer must be 'adam', 'sgd' or a callable, got {optimizer!r}")


class SemiSupervisedAutoEncoder(Module):
    """Shared encoder f, decoder g, classifier: loss = CE(classify(f(x_l)), y) + lam * MSE(g(f(x_all)), x_all)
    (textbook 7.6). sizes: encoder widths (input, ..., code). forward(x) -> class logits (N, n_classes)."""

    def __init__(self, sizes, n_classes: int, lam: float = 1.0, activation: str = "sigmoid", dtype=None):
        super().__init__()
        if lam < 0:
            raise ValueError(f"SemiSupervisedAutoEncoder: lam must be >= 0, got {lam}")
        self.autoencoder = AutoEncoder(sizes, activation=activation, output_activation="sigmoid", dtype=dtype)
        self.classifier = Linear(int(sizes[-1]), int(n_classes), dtype=dtype)
        self.lam = float(lam)

    def forward(self, x):
        return self.classifier(self.autoencoder.encode(x))

    def loss(self, x_labelled, y, x_unlabelled=None):
        """-log P(y | x_l) (mean) + lam * mean ||x - g(f(x))||^2 over x_l and x_unlabelled."""
        ce = cross_entropy(self(x_labelled), y)
        if self.lam == 0:
            return ce
        x_all = x_labelled if x_unlabelled is None else cat([x_labelled, x_unlabelled], 0)
        return ce + self.lam * mse_loss(self.autoencoder(x_all), x_all)
