"""L1 sparsity against alpha (textbook 7.1.2, eq. 7.23; LASSO): the proximal L1 step gives exact zeros, L2 never.

    python examples/regularization/l1_sparsity.py [--quick] [--out l1_sparsity.png]

A linear model on synthetic regression data (40 features, 6 informative) is trained full batch with SGD on
J = 0.5*MSE and a ``ProximalL1(alpha)`` step after each step (ISTA), for a range of alpha. Prints per alpha the
fraction of exactly-zero weights, the test MSE and, where scikit-learn is installed, the largest difference from
``sklearn.linear_model.Lasso`` (same objective: (1/2n)||y - Xw||^2 + alpha||w||_1). Then, at one alpha, the same
with the L1 subgradient penalty and with L2: neither gives exact zeros (the book's line 734). Writes a PNG.
"""
from __future__ import annotations

import argparse

import numpy as np

import shendu as sd
from shendu import nn, optim
from shendu import regularize as R

ALPHAS = [0.0, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]


def make_data(n=200, d=40, informative=6, seed=0):
    rng = np.random.default_rng(seed)
    w = np.zeros(d)
    w[:informative] = rng.choice([-1, 1], informative) * rng.uniform(0.5, 2.0, informative)
    x = rng.standard_normal((2 * n, d))
    y = x @ w + 0.5 * rng.standard_normal(2 * n)
    f = np.float32
    return (x[:n].astype(f), y[:n, None].astype(f)), (x[n:].astype(f), y[n:, None].astype(f)), w


def train(data, alpha, steps, kind="prox"):
    """Full-batch SGD with lr = 1/L on 0.5*MSE plus the chosen L1/L2 form; returns the weight vector."""
    (x, y), _, _ = data
    sd.manual_seed(0)
    model = nn.Linear(x.shape[1], 1)
    lr = float(1.0 / np.linalg.eigvalsh(x.T @ x / len(x)).max())
    opt = optim.SGD(model.parameters(), lr=lr)
    xs, ys = sd.tensor(x), sd.tensor(y)
    pen = None
    if kind == "prox" and alpha > 0:
        R.ProximalL1(alpha).attach(opt, model)
    elif kind == "subgradient" and alpha > 0:
        pen = R.L1(alpha)
    elif kind == "l2" and alpha > 0:
        pen = R.L2(alpha)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xs), ys) * 0.5
        if pen is not None:
            loss = loss + pen(model)
        loss.backward()
        opt.step()
    return model


def test_mse(model, data):
    _, (x, y), _ = data
    with sd.no_grad():
        return float(((model(sd.tensor(x)).numpy() - y) ** 2).mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps (the CI mode)")
    ap.add_argument("--out", default="l1_sparsity.png")
    args = ap.parse_args(argv)
    steps = 150 if args.quick else 1500
    data = make_data()
    try:
        from sklearn.linear_model import Lasso
    except ImportError:  # pragma: no cover - optional check
        Lasso = None
    zeros, mses = [], []
    print(f"{'':6}{'alpha':>8}  {'':5} {'zero fraction':>13}  {'test MSE':>8}  max|w - sklearn Lasso|  ({steps} steps)")
    for a in ALPHAS:
        model = train(data, a, steps)
        w = model.weight.numpy()[0]
        z, mse = float((w == 0).mean()), test_mse(model, data)
        zeros.append(z)
        mses.append(mse)
        gap = ""
        if Lasso is not None and a > 0:
            (x, y), _, _ = data
            sk = Lasso(alpha=a, max_iter=100000, tol=1e-10).fit(x.astype(np.float64), y[:, 0].astype(np.float64))
            gap = f"{np.abs(sk.coef_ - w).max():.2e}"
        print(f"alpha {a:8.3f} zeros {z:13.3f}  {mse:8.4f}  {gap}")
    a = 0.1
    compare = {}
    for kind in ("prox", "subgradient", "l2"):
        w = train(data, a, steps, kind).weight.numpy()[0]
        compare[kind] = w
        print(f"compare alpha={a}: {kind:<12} exact zeros {int((w == 0).sum()):3d}/{w.size}, "
              f"|w| < 1e-3: {int((np.abs(w) < 1e-3).sum()):3d}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    xs = [max(a, 1e-4) for a in ALPHAS]
    ax1.semilogx(xs, zeros, "o-", color="C0")
    ax1.set_ylabel("fraction of zero weights", color="C0")
    ax1b = ax1.twinx()
    ax1b.loglog(xs, mses, "s--", color="C1")
    ax1b.set_ylabel("test MSE", color="C1")
    ax1.set_xlabel("alpha (0 drawn at 1e-4)")
    ax1.set_title("Proximal L1 (ISTA): sparsity vs alpha")
    true_w = data[2]
    idx = np.arange(true_w.size)
    for off, (kind, w) in zip((-0.25, 0.0, 0.25), compare.items()):
        ax2.bar(idx + off, w, width=0.25, label=kind)
    ax2.plot(idx, true_w, "k.", label="true w")
    ax2.set_title(f"weights at alpha={a}")
    ax2.set_xlabel("feature")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
