"""Dynamic structure on the digits (textbook 12.1.5): a cascade with early rejection, soft vs hard mixtures of
experts, and conditional block dropout trained by REINFORCE.

    python examples/efficient/dynamic.py [--quick] [--epochs 30] [--aux 0.1]

1. Cascade: detect the digit 0 (10% of the examples). Stage 1 is a logistic regression (65 parameters) with a
   high-recall threshold; stage 2 an MLP (8,385 parameters) that sees only what stage 1 let through. Reports
   recall/precision of the cascade and of the MLP alone, and the compute saved (parameter-count cost model).
2. Mixture of 4 MLP experts on the 10 classes: soft gater (every expert runs on every example) vs top-1 (one
   expert per example, ``aux_loss`` load balancing): test accuracy and expert evaluations per example.
3. ``ConditionalBlockDropout``: 8 blocks of 8 hidden units with a REINFORCE-trained policy (target rate 0.5):
   test accuracy and fraction of blocks run, against the same network with every block on.
``main`` returns the figures as a dict.
"""
from __future__ import annotations

import argparse

import numpy as np

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.data.datasets import load_digits


def fit(model, x, y, epochs, loss_fn=None, lr=3e-3, batch=64, seed=0, extra=None):
    opt = sd.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    X, Y = sd.tensor(x), sd.tensor(y)
    for _ in range(epochs):
        model.train()
        perm = rng.permutation(len(x))
        for i in range(0, len(x), batch):
            idx = sd.tensor(perm[i:i + batch])
            out = model(X[idx])
            loss = loss_fn(out, Y[idx]) if loss_fn else F.cross_entropy(out, Y[idx])
            if extra is not None:
                loss = loss + extra(out, Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def pr(pred, y):
    tp = float((pred & (y == 1)).sum())
    return tp / max(float((y == 1).sum()), 1.0), tp / max(float(pred.sum()), 1.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--aux", type=float, default=0.1, help="weight of the top-1 MoE load-balancing loss")
    a = ap.parse_args(argv)
    epochs = a.epochs or (8 if a.quick else 30)
    (x, y), (xt, yt) = load_digits()
    res = {}

    # 1. cascade for the rare class "0"
    yb, ybt = (y == 0).astype(np.float32)[:, None], (yt == 0)
    bce = lambda out, t: F.binary_cross_entropy_with_logits(out, t)  # noqa: E731
    sd.manual_seed(0)
    cheap = fit(nn.Linear(64, 1), x, yb, epochs, bce)
    sd.manual_seed(1)
    big = fit(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 1)), x, yb, epochs, bce)
    thr = nn.recall_threshold(cheap, sd.tensor(x), yb.ravel().astype(np.int64), recall=1.0)
    cas = nn.Cascade([(cheap, thr), (big, 0.5)])
    with sd.no_grad():
        acc = cas(sd.tensor(xt)).numpy()
        alone = big(sd.tensor(xt)).sigmoid().numpy().ravel() >= 0.5
    res["cascade_recall"], res["cascade_precision"] = pr(acc, ybt.astype(int))
    res["mlp_alone_recall"], res["mlp_alone_precision"] = pr(alone, ybt.astype(int))
    res["cascade_stage2_fraction"] = cas.last_stats["evaluated"][1] / len(xt)
    res["cascade_compute_saved"] = cas.last_stats["compute_saved"]

    # 2. mixtures of experts
    for mode in ("soft", "top1"):
        sd.manual_seed(2)
        experts = [nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)) for _ in range(4)]
        moe = nn.MixtureOfExperts(experts, gater=mode, in_features=64)
        fit(moe, x, y, epochs, extra=(lambda o, t, m=moe: a.aux * m.aux_loss) if mode == "top1" else None)
        with sd.no_grad():
            out = moe(sd.tensor(xt))
        res[f"moe_{mode}_acc"] = float((out.numpy().argmax(1) == yt).mean())
        res[f"moe_{mode}_expert_evals_per_example"] = sum(moe.last_counts) / len(xt)
        res[f"moe_{mode}_load"] = [int(c) for c in moe.last_counts]

    # 3. conditional computation
    for name, rate in (("cbd", 0.5), ("all_blocks", None)):
        sd.manual_seed(3)
        cbd = nn.ConditionalBlockDropout(64, 64, 8, target_rate=rate or 1.0, sparsity_weight=10.0)
        head = nn.Linear(64, 10)
        if rate is None:
            cbd.policy.bias.data = sd.full((8,), 20.0)  # every block on (a plain ReLU layer)
        params = list(cbd.parameters()) + list(head.parameters())
        opt = sd.optim.Adam(params, lr=3e-3)
        rng = np.random.default_rng(0)
        X, Y = sd.tensor(x), sd.tensor(y)
        for _ in range(epochs):
            perm = rng.permutation(len(x))
            for i in range(0, len(x), 64):
                idx = sd.tensor(perm[i:i + 64])
                cbd.train()
                per = F.cross_entropy(head(cbd(X[idx])), Y[idx], reduction="none")
                loss = per.mean() + (cbd.reinforce_loss(-per.detach()) if rate else 0.0)
                opt.zero_grad()
                loss.backward()
                opt.step()
        cbd.eval()
        with sd.no_grad():
            out = head(cbd(sd.tensor(xt)))
        res[f"{name}_acc"] = float((out.numpy().argmax(1) == yt).mean())
        res[f"{name}_active_fraction"] = cbd.last_active
    for k, v in res.items():
        print(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}")
    return res


if __name__ == "__main__":
    main()
