"""Loss-landscape visualisation (Textbook 8.2.7, Fig 8.2): train a small MLP on digits, then plot the loss
(1) on the straight line from the initial to the final parameters and (2) on the plane of the first two PCA
directions of the training trajectory, with the trajectory projected on it.

    python examples/ch6_8/loss_landscape.py [--out loss_landscape.png] [--epochs 3]
"""
from __future__ import annotations

import argparse

import numpy as np

import shendu as sd
from shendu import nn, optim
from shendu.data.datasets import load_digits
from shendu.optim import landscape as LS


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="loss_landscape.png")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--grid", type=int, default=15)
    args = ap.parse_args(argv)
    (X, y), _ = load_digits()  # (N, 64) float32 in [0, 1], int64 labels
    sd.manual_seed(0)
    model = nn.Sequential(nn.Linear(X.shape[1], 32), nn.ReLU(), nn.Linear(32, 10))
    Xt, yt = sd.tensor(X), sd.tensor(y)
    loss_fn = lambda: nn.functional.cross_entropy(model(Xt), yt)  # noqa: E731
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    traj = [LS.snapshot(model)]
    rng = np.random.default_rng(0)
    for _ in range(args.epochs):
        for idx in np.array_split(rng.permutation(len(X)), len(X) // 64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(sd.tensor(X[idx])), sd.tensor(y[idx])).backward()
            opt.step()
            traj.append(LS.snapshot(model))
    alphas = np.linspace(-0.25, 1.25, 31)
    line = LS.loss_along(model, loss_fn, LS.interpolation_direction(traj[0], traj[-1]), alphas, origin=traj[0])
    U, frac = LS.pca_directions(traj, k=2)
    centre = traj[-1]
    coords = (np.stack(traj) - centre) @ U.T
    span = 1.2 * np.abs(coords).max(axis=0)
    a = np.linspace(-span[0], span[0], args.grid)
    b = np.linspace(-span[1], span[1], args.grid)
    surf = LS.loss_surface(model, loss_fn, U[0], U[1], a, b, origin=centre)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].plot(alphas, line)
    ax[0].set(xlabel="alpha (0 = init, 1 = trained)", ylabel="loss", title="linear interpolation (Fig 8.2)")
    cs = ax[1].contour(a, b, surf.T, levels=20)
    ax[1].clabel(cs, fontsize=6)
    ax[1].plot(coords[:, 0], coords[:, 1], ".-", ms=2, color="k")
    ax[1].set(xlabel=f"PC1 ({frac[0]:.0%})", ylabel=f"PC2 ({frac[1]:.0%})", title="PCA plane of the trajectory")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"loss init {line[np.argmin(np.abs(alphas))]:.3f} -> trained {line[np.argmin(np.abs(alphas - 1))]:.3f}; "
          f"PCA variance {frac.round(3).tolist()}; wrote {args.out}")
    return line, surf


if __name__ == "__main__":
    main()
