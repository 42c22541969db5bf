"""Bagging on the digits (textbook 7.11): k MLPs, each trained on its own bootstrap resample, averaged.

    python examples/regularization/ensembles.py [--quick] [--k 5] [--epochs 20] [--out ensembles.png]

Prints each member's test error, their mean, and the test error of the arithmetic (7.52) and geometric (7.54)
averages; the book's claim is that the ensemble is on average at least as good as its members. Also checks the
error formula v/k + (k-1)c/k (7.50-7.51, W7.11) by Monte Carlo and the bootstrap's 1 - 1/e (W7.12).
With --out, plots test error against ensemble size.
"""
from __future__ import annotations

import argparse

import numpy as np

import shendu as sd
from shendu import nn
from shendu.data.datasets import load_digits
from shendu.regularize import Bagging, Ensemble, ensemble_mse, expected_unique_fraction, simulate_ensemble_mse


def error(model, x, y):
    """Test error (0-1 loss) of ``model`` on (x, y)."""
    model.eval()
    with sd.no_grad():
        dev = next(iter(model.parameters())).device
        pred = model(sd.tensor(x, device=dev)).argmax(dim=-1).numpy()
    return float((pred != y).mean())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short run (CI)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--hidden", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="PNG path for the error-vs-k plot")
    a = ap.parse_args(argv)
    epochs = a.epochs or (8 if a.quick else 30)
    hidden = a.hidden or (32 if a.quick else 128)
    sd.manual_seed(a.seed)
    (x, y), (xt, yt) = load_digits()

    print(f"W7.11 ensemble MSE, k=5 v=1 c=0.3: formula {ensemble_mse(1.0, 0.3, 5):.4f}, "
          f"Monte Carlo {simulate_ensemble_mse(1.0, 0.3, 5, generator=a.seed):.4f}")
    bag = Bagging(lambda: nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10)), k=a.k,
                  generator=a.seed)
    bag.fit(x, y, loss="cross_entropy", epochs=epochs, batch_size=32, lr=3e-3)
    uniq = np.mean([len(np.unique(i)) / len(i) for i in bag.indices])
    print(f"W7.12 unique fraction per resample: {uniq:.4f} (expected {expected_unique_fraction(len(x)):.4f})")
    member = [error(m, xt, yt) for m in bag.members]
    ens = {rule: error(Ensemble(list(bag.members), rule=rule), xt, yt) for rule in ("arithmetic", "geometric")}
    for i, e in enumerate(member):
        print(f"member {i}: test error {e:.4f}")
    print(f"mean member error: {np.mean(member):.4f}")
    print(f"bagged (arithmetic mean) error: {ens['arithmetic']:.4f}")
    print(f"bagged (geometric mean) error: {ens['geometric']:.4f}")
    curve = [error(Ensemble(list(bag.members)[:j]), xt, yt) for j in range(1, a.k + 1)]
    if a.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(range(1, a.k + 1), curve, "o-", label="bagged ensemble of the first k")
        ax.axhline(np.mean(member), color="gray", ls="--", label="mean member")
        ax.set_xlabel("k (members)")
        ax.set_ylabel("test error")
        ax.set_title("Bagging on digits (textbook 7.11)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(a.out, dpi=100)
        print(f"wrote {a.out}")
    return {"member_errors": member, "mean_member_error": float(np.mean(member)), "ensemble_error": ens["arithmetic"],
            "geometric_error": ens["geometric"], "curve": curve, "unique_fraction": float(uniq)}


if __name__ == "__main__":
    main()
