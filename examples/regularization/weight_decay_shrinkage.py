"""Weight decay in the eigenbasis of the Hessian (textbook 7.1.1, Fig 7.1), its pseudo-inverse limit (7.29), its
early-stopping equivalent (7.8) and the separable logistic regression it tames (7.2.5).

    python examples/regularization/weight_decay_shrinkage.py [--quick] [--out weight_decay_shrinkage.png]

Prints, for H = diag(2, 1), w* = (1, 0.3), alpha = 0.5 (W7.2), the factor lambda/(lambda + alpha) kept along each
eigendirection and the regularized optimum (direct 7.10 and eigen form 7.13, and L1's 7.23 for contrast); ridge
on an ill-conditioned regression, direction by direction; the error of (X^T X + alpha I)^{-1} X^T against pinv(X)
as alpha -> 0 (W7.5); early stopping against L2 with alpha = 1/(lr steps) (W7.9); and ||w|| of logistic
regression on separable data with and without weight decay. With --out, writes a three-panel PNG.
"""
from __future__ import annotations

import argparse

import numpy as np

import shendu as sd
from shendu.regularize import (
    early_stopping_factors, eigen_shrinkage, equivalent_weight_decay, l1_optimum, l2_factors, l2_optimum, ridge,
    ridge_operator, separable_logistic_path,
)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short run (CI)")
    ap.add_argument("--out", default=None, help="PNG path")
    a = ap.parse_args(argv)
    res = {}
    f64 = sd.float64

    # W7.2: the worked quadratic
    H, w_star, alpha = sd.tensor(np.diag([2.0, 1.0])), sd.tensor([1.0, 0.3], dtype=f64), 0.5
    sh = eigen_shrinkage(H, alpha, w_star)
    print("W7.2  H = diag(2, 1), w* = (1, 0.3), alpha = 0.5")
    for lam, f in zip(sh.eigenvalues.numpy(), sh.factors.numpy()):
        print(f"  eigenvalue {lam:4.1f}: kept fraction lambda/(lambda+alpha) = {f:.4f}")
    direct = l2_optimum(H, w_star, alpha).numpy()
    l1 = l1_optimum(sd.tensor([2.0, 1.0], dtype=f64), w_star, alpha).numpy()
    print(f"  L2 optimum (H + aI)^-1 H w* = {np.round(direct, 6)}   eigen form = {np.round(sh.w.numpy(), 6)}")
    print(f"  L1 optimum (soft threshold)  = {np.round(l1, 6)}")
    res["w2_l2"], res["w2_l1"], res["w2_factors"] = direct, l1, sh.factors.numpy()

    # ridge on an ill-conditioned regression: the shrinkage per eigendirection of X^T X
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)) * np.array([3.0, 1.0, 0.3, 0.1, 0.03])
    y = X @ np.ones(5) + 0.1 * rng.standard_normal(200)
    Xt, yt = sd.tensor(X), sd.tensor(y)
    w_ols, w_ridge = ridge(Xt, yt, 0.0), ridge(Xt, yt, 1.0)
    G = Xt.mT @ Xt
    sh = eigen_shrinkage(G, 1.0, w_ols)
    print("ridge, alpha = 1: eigenvalues of X^T X and the fraction kept")
    for lam, f in zip(sh.eigenvalues.numpy(), sh.factors.numpy()):
        print(f"  {lam:10.3f}  {f:.4f}")
    print(f"  ridge 7.17 = {np.round(w_ridge.numpy(), 4)}   eigen-shrunk OLS = {np.round(sh.w.numpy(), 4)}")
    res["ridge_vs_eigen"] = float(np.abs(w_ridge.numpy() - sh.w.numpy()).max())

    # W7.5: the pseudo-inverse as the alpha -> 0 limit of ridge (X is 3 x 5: X^T X is singular)
    Xs = sd.tensor(np.random.default_rng(1).standard_normal((3, 5)))
    P = sd.linalg.pinv(Xs).numpy()
    alphas = [10.0 ** -k for k in range(0, 9)]
    errs = [float(np.abs(ridge_operator(Xs, al).numpy() - P).max()) for al in alphas]
    print("W7.5  max |(X^T X + alpha I)^-1 X^T - pinv(X)| for a 3 x 5 X")
    for al, e in zip(alphas, errs):
        print(f"  alpha = {al:7.0e}: {e:.2e}")
    res["pinv_errors"] = dict(zip(alphas, errs))

    # W7.9: early stopping after tau steps of lr vs L2 with alpha = 1/(lr tau)
    lr, tau = 0.1, 100
    lam = sd.tensor([1.0, 0.01], dtype=f64)
    al = equivalent_weight_decay(lr, tau)
    es, l2 = early_stopping_factors(lam, lr, tau).numpy(), l2_factors(lam, al).numpy()
    print(f"W7.9  lr = {lr}, tau = {tau}, alpha = 1/(lr tau) = {al:g}")
    for li, e, r in zip(lam.numpy(), es, l2):
        print(f"  eigenvalue {li:5.2f}: early stopping keeps {e:.5f}, L2 keeps {r:.4f}")
    res["w9_early"], res["w9_l2"] = es, l2

    # 7.2.5: logistic regression on separable data
    steps = 800 if a.quick else 6000
    x = sd.tensor([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    t = sd.tensor([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    free, _, _ = separable_logistic_path(x, t, 0.0, lr=0.5, steps=steps, record_every=50)
    decayed, _, _ = separable_logistic_path(x, t, 0.01, lr=0.5, steps=steps, record_every=50)
    print(f"separable logistic regression, ||w|| after {steps} steps: no decay {free[-1]:.3f} (still growing: "
          f"+{free[-1] - free[len(free) // 2]:.3f} over the second half), weight decay 0.01 {decayed[-1]:.3f} "
          f"(+{decayed[-1] - decayed[len(decayed) // 2]:.1e})")
    res["logistic_free"], res["logistic_decayed"] = free, decayed

    if a.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
        grid = np.geomspace(1e-3, 1e2, 200)
        for k, alpha_k in enumerate([0.01, 0.1, 1.0]):
            (ln,) = ax[0].semilogx(grid, l2_factors(sd.tensor(grid), alpha_k).numpy(), label=f"L2, alpha = {alpha_k}")
            lr_k = min(0.5 / grid.max(), 0.005)
            tau_k = int(round(1 / (lr_k * alpha_k)))
            ax[0].semilogx(grid, early_stopping_factors(sd.tensor(grid), lr_k, tau_k).numpy(), "--", color=ln.get_color(),
                           label="early stopping, lr tau = 1/alpha" if k == 0 else None)
        ax[0].set(xlabel="eigenvalue lambda of H", ylabel="fraction of w* kept", title="weight decay per eigendirection (7.13)")
        ax[0].legend(fontsize=8)
        ax[1].loglog(alphas, errs, "o-")
        ax[1].set(xlabel="alpha", ylabel="max |ridge operator - pinv|", title="pseudo-inverse limit (7.29)")
        steps_axis = 50 * np.arange(1, len(free) + 1)
        ax[2].plot(steps_axis, free, label="no weight decay")
        ax[2].plot(steps_axis, decayed, label="weight decay 0.01")
        ax[2].set(xlabel="step", ylabel="||w||", title="separable logistic regression (7.2.5)")
        ax[2].legend()
        fig.tight_layout()
        fig.savefig(a.out, dpi=100)
        print(f"wrote {a.out}")
    return res


if __name__ == "__main__":
    main()
