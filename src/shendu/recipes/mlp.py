"""Built-in recipes: digits-mlp (the default), xor (textbook 6.1), mnist-mlp, mnist-mlp-dropout.

The last two are the seeds' examples."""
from __future__ import annotations

import numpy as np

from .registry import Setup, register


def _nn():
    from .. import nn, optim

    return nn, optim


def shifted_copies(x, y, side=8):
    """Data set augmentation (textbook 7.4): x plus copies shifted one pixel left/right/up/down (zero fill)."""
    im = x.reshape(-1, side, side)
    out = [im]
    for axis, d in ((1, 1), (1, -1), (2, 1), (2, -1)):
        s = np.roll(im, d, axis=axis)
        edge = 0 if d == 1 else -1
        if axis == 1:
            s[:, edge, :] = 0
        else:
            s[:, :, edge] = 0
        out.append(s)
    return np.concatenate(out).reshape(len(out) * len(x), -1), np.tile(y, len(out))


def linear_decay(lr0, epochs, final=0.01):
    """Textbook 8.3.1: eps_k = (1 - a) eps_0 + a eps_tau, a = k / tau, eps_tau = final * eps_0 (per epoch)."""
    return lambda epoch, lr: lr0 * ((1 - epoch / epochs) + final * epoch / epochs)


@register("digits-mlp", description="MLP 64-512-10 (ReLU, Adam, shift augmentation, linear LR decay) on "
          "scikit-learn's 8x8 digits; 99.2% test accuracy after 2-6 s of training on 2 cores",
          epochs=20, batch_size=32, lr=1e-3, threads=1)
def digits_mlp(cfg):
    """99.2% test accuracy (seed 0, 20 epochs). Measured with `.venv/bin/shendu train` on a 2-core x86 machine:
    2.0-2.3 s of training, 3.3-3.6 s for the whole command when the machine is idle; 5-6.5 s and 9-10 s under
    a load average of 5 (other jobs)."""
    from ..data.datasets import load_digits
    from ..data.preprocessing import StandardScaler
    from ..train import LearningRateScheduler

    nn, optim = _nn()
    (x, y), (xt, yt) = load_digits(seed=0)
    scaler = StandardScaler().fit(x)  # fitted on the training split only
    xa, ya = shifted_copies(x, y)
    train = (scaler.transform(xa).astype(np.float32), ya)
    test = (scaler.transform(xt).astype(np.float32), yt)
    hidden = int(cfg.get("hidden", 512))  # tunable: shendu tune digits-mlp --param hidden=int:50:2000:log
    model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    return Setup(model, "cross_entropy", optim.Adam(model.parameters(), lr=cfg["lr"]), train, test,
                 callbacks=[LearningRateScheduler(linear_decay(cfg["lr"], cfg["epochs"]))])


digits_mlp.tunable = ("hidden",)  # extra cfg keys `shendu tune` may set (besides epochs, batch_size, lr, seed)


@register("xor", description="XOR with a 2-8-2 tanh MLP, full batch (textbook 6.1, learning XOR)",
          epochs=300, batch_size=4, lr=0.05, threads=1)
def xor(cfg):
    nn, optim = _nn()
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0], np.int64)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    return Setup(model, "cross_entropy", optim.Adam(model.parameters(), lr=cfg["lr"]), (x, y), (x, y))


def _mnist(cfg):
    from ._data import recipe_mnist

    return recipe_mnist(cfg, flatten=True)


@register("mnist-mlp", description="MLP 784-100-BatchNorm-ReLU-10, Adam, batch 100 on MNIST (the seeds' example)",
          epochs=20, batch_size=100, lr=1e-3, threads=1)
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
