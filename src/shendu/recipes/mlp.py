"""Built-in recipes: digits-mlp (the default), xor (textbook 6.1), mnist-mlp, mnist-mlp-dropout (the seeds' examples)."""
from __future__ import annotations

import numpy as np

from .registry import Setup, register


def _nn():
    from .. import nn, optim

    return nn, optim


@register("digits-mlp", description="MLP 64-256-10 (ReLU, Adam) on scikit-learn's 8x8 digits; >= 97% test accuracy",
          epochs=30, batch_size=32, lr=1e-3)
def digits_mlp(cfg):
    from ..data.datasets import load_digits

    nn, optim = _nn()
    (x, y), test = load_digits(seed=0)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    return Setup(model, "cross_entropy", optim.Adam(model.parameters(), lr=cfg["lr"]), (x, y), test)


@register("xor", description="XOR with a 2-8-2 tanh MLP, full batch (textbook 6.1, learning XOR)",
          epochs=300, batch_size=4, lr=0.05)
def xor(cfg):
    nn, optim = _nn()
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0], np.int64)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    return Setup(model, "cross_entropy", optim.Adam(model.parameters(), lr=cfg["lr"]), (x, y), (x, y))


def _mnist(cfg):
    from ..data.datasets import load_mnist

    return load_mnist(root=cfg.get("data_dir"), download=cfg.get("download", True), flatten=True)


@register("mnist-mlp", description="MLP 784-100-BatchNorm-ReLU-10, Adam, batch 100 on MNIST (the seeds' example)",
          epochs=10, batch_size=100, lr=1e-3)
def mnist_mlp(cfg):
    nn, optim = _nn()
    train, test = _mnist(cfg)
    model = nn.Sequential(nn.Linear(784, 100), nn.BatchNorm1d(100), nn.ReLU(), nn.Linear(100, 10))
    return Setup(model, "cross_entropy", optim.Adam(model.parameters(), lr=cfg["lr"]), train, test)


@register("mnist-mlp-dropout", description="MLP 784-800-800-10 with dropout keep 0.8/0.5/0.5, Adam 1e-4, batch 256 "
          "(the seeds' example; textbook 7.12)", epochs=20, batch_size=256, lr=1e-4)
def mnist_mlp_dropout(cfg):
    nn, optim = _nn()
    train, test = _mnist(cfg)
    model = nn.Sequential(nn.Dropout(0.2), nn.Linear(784, 800), nn.ReLU(), nn.Dropout(0.5), nn.Linear(800, 800),
                          nn.ReLU(), nn.Dropout(0.5), nn.Linear(800, 10))
    return Setup(model, "cross_entropy", optim.Adam(model.parameters(), lr=cfg["lr"]), train, test)
