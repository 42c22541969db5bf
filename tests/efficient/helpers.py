"""Small shared helpers for the efficient-models tests: digits data and a short seeded training loop."""
import numpy as np

import shendu as sd
import shendu.nn.functional as F
from shendu.data.datasets import load_digits

_CACHE = {}


def digits():
    if "d" not in _CACHE:
        _CACHE["d"] = load_digits()
    return _CACHE["d"]


def mlp(hidden, seed=0, n_in=64, n_out=10):
    sd.manual_seed(seed)
    return sd.nn.Sequential(sd.nn.Linear(n_in, hidden), sd.nn.ReLU(), sd.nn.Linear(hidden, n_out))


def train(model, x, y, epochs=20, lr=0.01, batch=64, seed=0, loss_fn=None):
    """Adam minibatch training on host arrays x, y; loss_fn(model, xb, yb) -> loss (default cross-entropy)."""
    opt = sd.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    xs, ys = sd.tensor(x), sd.tensor(y)
    n = len(x)
    model.train()
    for _ in range(epochs):
        perm = rng.permutation(n)
        for i in range(0, n, batch):
            idx = sd.tensor(perm[i:i + batch])
            xb, yb = xs[idx], ys[idx]
            opt.zero_grad()
            loss = loss_fn(model, xb, yb) if loss_fn else F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
    model.eval()
    return model


def accuracy(model, x, y):
    with sd.no_grad():
        out = model(sd.tensor(x))
    return float((out.numpy().argmax(1) == np.asarray(y)).mean())
