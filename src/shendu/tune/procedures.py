"""The chapter's procedures (textbook 11.2-11.4): default baselines by data type, k-fold cross-validation, learning
curves over training-set size, and the learning-rate sweep (the U-curve of Fig 11.1)."""
from __future__ import annotations

import copy
import math

import numpy as np

__all__ = ["cross_val_score", "learning_curve", "lr_range_test", "baseline", "geometric_sizes"]


def _seed(seed):
    import shendu as sd

    sd.manual_seed(int(seed))


def _is_classification(y):
    y = np.asarray(y)
    return y.ndim == 1 and y.dtype.kind in "iub"


def _compiled(model, loss, optimizer, lr, metrics):
    if model.__dict__.get("_trainer") is None:
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics, lr=lr)
    return model


def _score(logs, metric):
    if metric == "error":
        if "accuracy" not in logs:
            raise ValueError(f"metric 'error' needs the 'accuracy' metric; the evaluation gave {sorted(logs)}")
        return 1.0 - logs["accuracy"]
    if metric not in logs:
        raise ValueError(f"metric {metric!r} is not in the evaluation logs {sorted(logs)}")
    return float(logs[metric])


def cross_val_score(make_model, X, y, k=5, *, epochs=10, batch_size=32, loss="cross_entropy", optimizer="adam",
                    lr=None, metric="accuracy", shuffle=True, seed=0):
    """k-fold cross-validation (textbook 5.3.1, 11.3): trains ``make_model()`` k times, each on k-1 folds, scores it
    on the held-out fold. make_model: returns a Module (compiled here with loss/optimizer/lr unless it is already
    compiled). The global seed is set to seed + fold before each model is built. metric: an evaluation key
    ('accuracy', 'loss', ...) or 'error' (1 - accuracy). Returns {'scores': [k floats], 'mean', 'std'}."""
    from ..data.split import KFold

    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"cross_val_score: X has {len(X)} examples but y has {len(y)}")
    metrics = ["accuracy"] if metric in ("accuracy", "error") else []
    scores = []
    for fold, (tr, va) in enumerate(KFold(k, shuffle=shuffle, seed=seed).split(len(X))):
        _seed(seed + fold)
        model = _compiled(make_model(), loss, optimizer, lr, metrics)
        model.fit(X[tr], y[tr], epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
        scores.append(_score(model.evaluate(X[va], y[va]), metric))
    s = np.asarray(scores, dtype=np.float64)
    return {"scores": scores, "mean": float(s.mean()), "std": float(s.std())}


def geometric_sizes(n, smallest=None, factor=2.0):
    """Training-set sizes doubling (``factor``) up to n (textbook 11.3: vary the size on a log scale)."""
    smallest = smallest or max(8, n // 64)
    sizes = []
    s = float(smallest)
    while s < n:
        sizes.append(int(round(s)))
        s *= factor
    sizes.append(int(n))
    return sorted(set(sizes))


def learning_curve(make_model, train, val, *, sizes=None, epochs=10, batch_size=32, loss="cross_entropy",
                   optimizer="adam", lr=None, metric="error", seed=0, path=None):
    """Error against training-set size on a log scale (textbook 11.3, "how much data to gather"): for each size
    (default: doubling from ~n/64 to n), a fresh model trained on the first ``size`` examples of a seeded
    permutation of ``train``; training and validation error recorded. path: also draw the curve (PNG, log x).
    Returns {'sizes', 'train', 'val'} (lists)."""
    X, y = (np.asarray(a) for a in train)
    Xv, yv = (np.asarray(a) for a in val)
    perm = np.random.default_rng(seed).permutation(len(X))
    sizes = geometric_sizes(len(X)) if sizes is None else sorted(int(s) for s in sizes)
    if sizes[0] < 1 or sizes[-1] > len(X):
        raise ValueError(f"learning_curve: sizes must lie in [1, {len(X)}], got {sizes}")
    metrics = ["accuracy"] if metric in ("accuracy", "error") else []
    tr_err, va_err = [], []
    for s in sizes:
        idx = perm[:s]
        _seed(seed)
        model = _compiled(make_model(), loss, optimizer, lr, metrics)
        steps = max(1, math.ceil(s / batch_size))
        ep = max(epochs, math.ceil(epochs * 4 / steps)) if s < len(X) else epochs  # small sets: enough steps
        model.fit(X[idx], y[idx], epochs=ep, batch_size=batch_size, verbose=0)
        tr_err.append(_score(model.evaluate(X[idx], y[idx]), metric))
        va_err.append(_score(model.evaluate(Xv, yv), metric))
    if path is not None:
        from .results import _plt

        plt = _plt()
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(sizes, tr_err, "o-", label="training")
        ax.plot(sizes, va_err, "o-", label="validation")
        ax.set_xscale("log")
        ax.set_xlabel("training-set size")
        ax.set_ylabel(metric)
        ax.legend()
        ax.set_title("learning curve")
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)
    return {"sizes": sizes, "train": tr_err, "val": va_err}


def lr_range_test(model, data, *, loss, lrs=None, min_lr=1e-5, max_lr=10.0, num=13, steps=50, batch_size=32,
                  optimizer="sgd", path=None):
    """Training loss after a fixed number of steps against the learning rate (textbook 11.4.1, Fig 11.1: the
    U-curve). Each lr restarts from the model's initial weights (a deep copy), trains ``steps`` optimizer steps
    with ``optimizer`` ('sgd', 'adam', ... or a factory (params, lr) -> optimizer) and records the last epoch's mean
    training loss; a run whose loss becomes non-finite or ends above the initial loss (training made it worse) is
    marked diverged. On the quadratic 1/2 a w^2 plain SGD diverges for lr > 2/a.
    Returns {'lrs', 'loss', 'diverged', 'best_lr', 'initial_loss'}."""
    from ..train import evaluate, fit

    lrs = list(np.geomspace(min_lr, max_lr, num)) if lrs is None else [float(v) for v in lrs]
    init = copy.deepcopy(model)
    initial = float(evaluate(copy.deepcopy(init), data, loss=loss, batch_size=batch_size)["loss"])
    losses, diverged = [], []
    for lr in lrs:
        m = copy.deepcopy(init)
        opt = optimizer(m.parameters(), lr) if callable(optimizer) else optimizer
        with np.errstate(all="ignore"):
            try:
                h = fit(m, data, loss=loss, optimizer=opt, lr=None if callable(optimizer) else lr, epochs=10 ** 9,
                        max_steps=steps, batch_size=batch_size, verbose=0, shuffle=False)
                v = float(h.history["loss"][-1])
            except (FloatingPointError, OverflowError):
                v = float("inf")
        bad = not math.isfinite(v) or v > initial
        losses.append(v if math.isfinite(v) else float("inf"))
        diverged.append(bad)
    finite = [(v, lr) for v, lr, d in zip(losses, lrs, diverged) if not d]
    best = min(finite)[1] if finite else None
    if path is not None:
        from .results import _plt

        plt = _plt()
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ok = [i for i, d in enumerate(diverged) if not d]
        ax.plot([lrs[i] for i in ok], [losses[i] for i in ok], "o-")
        for i, d in enumerate(diverged):
            if d:
                ax.axvline(lrs[i], color="C3", alpha=0.3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel(f"training loss after {steps} steps")
        ax.set_title("learning-rate U-curve (red: diverged)")
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)
    return {"lrs": lrs, "loss": losses, "diverged": diverged, "best_lr": best, "initial_loss": initial}


def _rnn_model(nn, features, hidden, out):
    class GatedRNNClassifier(nn.Module):
        """LSTM over (batch, time, features), a linear layer on the last hidden state."""

        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(features, hidden, batch_first=True)
            self.head = nn.Linear(hidden, out)

        def forward(self, x):
            seq, _ = self.rnn(x)
            return self.head(seq[:, -1])

    return GatedRNNClassifier()


def baseline(X, y, kind="auto", *, hidden=128, lr=None, optimizer="adam"):
    """A default baseline model for the data (textbook 11.2), compiled so that ``model.fit(X, y)`` trains it.

    kind: 'logistic' (a linear layer: logistic/softmax regression; linear regression for float targets), 'mlp'
    (fixed-size vectors: 2 ReLU layers of ``hidden`` units), 'cnn' (images (N, C, H, W): 2 conv-ReLU-maxpool
    blocks), 'rnn' (sequences (N, T, F): a gated RNN, LSTM) or 'auto' (by X's rank: 4 -> cnn, 3 -> rnn,
    2 -> mlp). Integer y: classification (cross-entropy, accuracy, classes = max(y)+1); float y: regression (MSE).
    Optimizer: Adam (the book's alternative to SGD with momentum and a decaying rate)."""
    from .. import nn

    X = np.asarray(X)
    y = np.asarray(y)
    kinds = ("auto", "logistic", "mlp", "cnn", "rnn")
    if kind not in kinds:
        raise ValueError(f"baseline: kind must be one of {kinds}, got {kind!r}")
    if kind == "auto":
        kind = {4: "cnn", 3: "rnn", 2: "mlp"}.get(X.ndim)
        if kind is None:
            raise ValueError(f"baseline: cannot choose a model for X of shape {X.shape}; expected (N, F) vectors, "
                             "(N, T, F) sequences or (N, C, H, W) images")
    need = {"logistic": 2, "mlp": 2, "cnn": 4, "rnn": 3}[kind]
    if X.ndim != need:
        raise ValueError(f"baseline({kind!r}): expected X of rank {need}, got shape {X.shape}")
    cls = _is_classification(y)
    out = int(y.max()) + 1 if cls else (1 if y.ndim == 1 else y.shape[1])
    if kind == "logistic":
        model = nn.Sequential(nn.Linear(X.shape[1], out))
    elif kind == "mlp":
        model = nn.Sequential(nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                              nn.Linear(hidden, out))
    elif kind == "cnn":
        c, h, w = X.shape[1:]
        h4, w4 = h // 4, w // 4
        if h4 < 1 or w4 < 1:
            raise ValueError(f"baseline('cnn'): images of {h}x{w} are too small for two 2x2 poolings")
        model = nn.Sequential(nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(32 * h4 * w4, hidden), nn.ReLU(), nn.Linear(hidden, out))
    else:
        model = _rnn_model(nn, X.shape[2], hidden, out)
    if cls:
        model.compile(optimizer=optimizer, loss="cross_entropy", metrics=["accuracy"], lr=lr)
    else:
        model.compile(optimizer=optimizer, loss="mse", lr=lr)
    model.baseline_kind = kind
    return model
