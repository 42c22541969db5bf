"""Shared pieces of the regularization gallery (textbook 7): loss/accuracy in eval mode, the digits MLP,
and one regularizer trial (none / L2 / dropout) with its early-stopping point.
"""
from __future__ import annotations

import math

import numpy as np

from .._core import digits, tensor


def _loss_acc(model, x, y):
    from ... import no_grad
    from ...nn.functional import cross_entropy

    was = model.training
    model.eval()
    with no_grad():
        out = model(x)
        loss = float(cross_entropy(out, y).item())
        acc = float((out.argmax(-1) == y).float().mean().item())
    model.train(was)
    return loss, acc


def _mlp(dropout=0.0, hidden=256, input_dropout=0.0):
    from ... import nn

    layers = [nn.Dropout(input_dropout)] if input_dropout else []
    layers += [nn.Linear(64, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(hidden, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, 10))
    return nn.Sequential(*layers)


_REG_RUNS = {"none": {}, "l2": {"weight_decay": 1e-2}, "dropout": {"dropout": 0.6, "input_dropout": 0.2}}


def _regularizer_trial(seed, epochs, lr, n_train=100):
    """One repetition: a fresh subset of n_train training digits; the unregularized, L2 and dropout nets trained
    with Adam; early stopping = the unregularized run at its best validation epoch. Returns
    {variant: (train loss, test loss)} and the per-epoch (train, test) curves and the early-stopping epoch."""
    from ... import manual_seed, optim
    from ...nn.functional import cross_entropy

    (xtr, ytr), (xte, yte) = digits()
    idx = np.random.default_rng(seed).permutation(len(xtr))
    tr, va = idx[:n_train], idx[n_train:n_train + 300]
    x, y = tensor(xtr[tr]), tensor(ytr[tr])
    xv, yv = tensor(xtr[va]), tensor(ytr[va])
    xt, yt = tensor(xte), tensor(yte)
    out, curves, stop = {}, {}, None
    for name, kw in _REG_RUNS.items():
        manual_seed(seed)
        model = _mlp(kw.get("dropout", 0.0), hidden=128, input_dropout=kw.get("input_dropout", 0.0))
        opt = optim.Adam(model.parameters(), lr=lr, weight_decay=kw.get("weight_decay", 0.0))
        hist, best = [], (math.inf, None, None)
        r = np.random.default_rng(seed)
        for ep in range(epochs):
            order = r.permutation(n_train)
            for s in range(0, n_train, 32):
                b = tensor(order[s:s + 32])
                opt.zero_grad()
                cross_entropy(model(x[b]), y[b]).backward()
                opt.step()
            tl, _ = _loss_acc(model, x, y)
            tel, _ = _loss_acc(model, xt, yt)
            hist.append((tl, tel))
            if name == "none":
                vl, _ = _loss_acc(model, xv, yv)
                if vl < best[0]:
                    best = (vl, ep, (tl, tel))
        curves[name] = np.array(hist)
        out[name] = hist[-1]
        if name == "none":
            out["early_stopping"], stop = best[2], best[1] + 1
    return out, curves, stop
