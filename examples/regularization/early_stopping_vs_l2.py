"""Early stopping acts like L2 weight decay with alpha ~ 1/(eps tau) (textbook 7.8, Fig 7.4; Bishop 1995).

    python examples/regularization/early_stopping_vs_l2.py [--quick] [--out early_stopping_vs_l2.png]

1. Fig 7.4: gradient descent (shendu's SGD, learning rate eps) from w = 0 on the quadratic
   J(w) = 1/2 (w - w*)^T H (w - w*) for tau steps, against the L2 solution (H + alpha I)^-1 H w* with
   alpha = 1/(eps tau). Prints both points and, per eigendirection of H, the fraction of w* each one reaches:
   1 - (1 - eps lambda)^tau against lambda / (lambda + alpha).
2. Linear regression on ill-conditioned data: the early-stopped weights after tau steps against ridge with
   alpha = 1/(eps tau), for a range of tau: the relative gap stays small along the whole path.
With --out, writes a two-panel PNG (trajectory with contours; the gap along the path).
"""
from __future__ import annotations

import argparse

import numpy as np

import shendu as sd
from shendu.regularize import early_stopping_factors, equivalent_weight_decay, l2_factors, l2_optimum


def gd_steps(H, w_star, lr, steps, record=False):
    """Run `steps` steps of sd.optim.SGD on J = 1/2 (w - w*)^T H (w - w*) from w = 0; float64."""
    Ht, ws = sd.tensor(H), sd.tensor(w_star)
    w = sd.nn.Parameter(sd.zeros(len(w_star), dtype=sd.float64))
    opt = sd.optim.SGD([w], lr=lr)
    path = [w.numpy().copy()]
    for _ in range(steps):
        d = w - ws
        loss = 0.5 * (d @ (Ht @ d))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if record:
            path.append(w.numpy().copy())
    return w.numpy().copy(), np.array(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short run (CI)")
    ap.add_argument("--out", default=None, help="PNG path")
    a = ap.parse_args(argv)
    res = {}

    # 1. Fig 7.4: an elongated 2-D quadratic, eigenvalues 1 and 0.05, axes turned by 30 degrees
    th = np.deg2rad(30.0)
    Q = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    lam = np.array([1.0, 0.05])
    H = Q @ np.diag(lam) @ Q.T
    w_star = np.array([1.0, 1.0])
    lr, tau = 0.1, 40
    alpha = equivalent_weight_decay(lr, tau)
    w_tau, path = gd_steps(H, w_star, lr, tau, record=True)
    w_l2 = l2_optimum(sd.tensor(H), sd.tensor(w_star), alpha).numpy()
    print(f"Fig 7.4  eigenvalues {lam}, w* = {w_star}, eps = {lr}, tau = {tau}, alpha = 1/(eps tau) = {alpha:g}")
    print(f"  early-stopped w_tau = {np.round(w_tau, 4)}   L2 solution w~ = {np.round(w_l2, 4)}   "
          f"||w_tau - w~|| / ||w*|| = {np.linalg.norm(w_tau - w_l2) / np.linalg.norm(w_star):.4f}")
    reach = (Q.T @ w_tau) / (Q.T @ w_star)
    es = early_stopping_factors(sd.tensor(lam), lr, tau).numpy()
    l2 = l2_factors(sd.tensor(lam), alpha).numpy()
    for li, r, e, f in zip(lam, reach, es, l2):
        print(f"  eigenvalue {li:5.2f} (eps tau lambda = {lr * tau * li:5.2f}): trained reaches {r:.4f} of w*, "
              f"1 - (1 - eps lambda)^tau = {e:.4f}, L2 lambda/(lambda+alpha) = {f:.4f}")
    res.update(w_tau=w_tau, w_l2=w_l2, reach=reach, es_factors=es, l2_factors=l2, path=path)

    # 2. linear regression, J = 1/(2m) ||X w - y||^2: GD path vs ridge along the regularisation path
    rng = np.random.default_rng(0)
    m, n = 200, 6
    X = rng.standard_normal((m, n)) * np.geomspace(1.0, 0.02, n)
    y = X @ rng.standard_normal(n) + 0.05 * rng.standard_normal(m)
    Hx = X.T @ X / m
    w_ols = np.linalg.solve(Hx, X.T @ y / m)
    lr2 = 0.5
    taus = [5, 20, 80, 320] if a.quick else [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560]
    gaps = []
    print(f"linear regression (eigenvalues of X^T X / m from {np.linalg.eigvalsh(Hx).min():.1e} to "
          f"{np.linalg.eigvalsh(Hx).max():.2f}), eps = {lr2}")
    for t in taus:
        w_gd, _ = gd_steps(Hx, w_ols, lr2, t)  # same gradient as the least-squares loss: H (w - w_ols)
        al = equivalent_weight_decay(lr2, t)
        w_r = np.linalg.solve(Hx + al * np.eye(n), X.T @ y / m)
        gap = np.linalg.norm(w_gd - w_r) / np.linalg.norm(w_r)
        gaps.append(gap)
        print(f"  tau = {t:5d}  alpha = {al:.2e}  ||w_gd - w_ridge|| / ||w_ridge|| = {gap:.3f}  "
              f"||w_gd|| = {np.linalg.norm(w_gd):.3f}  ||w_ridge|| = {np.linalg.norm(w_r):.3f}")
    res.update(taus=taus, gaps=np.array(gaps))

    if a.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 2, figsize=(11, 4.5))
        g = np.linspace(-0.6, 2.2, 300)
        W1, W2 = np.meshgrid(g, g)
        D = np.stack([W1 - w_star[0], W2 - w_star[1]], -1)
        J = 0.5 * np.einsum("...i,ij,...j->...", D, H, D)
        ax[0].contour(W1, W2, J, levels=[0.002, 0.01, 0.03, 0.06, 0.1, 0.16, 0.25, 0.4], colors="0.7", linewidths=0.8)
        ax[0].plot(path[:, 0], path[:, 1], ".-", ms=3, label=f"gradient descent, {tau} steps")
        ax[0].plot(*w_star, "k*", ms=12, label="w*")
        ax[0].plot(*w_l2, "rs", mfc="none", ms=10, label=f"L2 solution, alpha = 1/(eps tau) = {alpha:g}")
        circle = np.linspace(0, 2 * np.pi, 200)
        r = np.linalg.norm(w_l2)
        ax[0].plot(r * np.cos(circle), r * np.sin(circle), "r:", lw=0.8)
        ax[0].set(xlabel="w1", ylabel="w2", title="early stopping vs L2 (Fig 7.4)", aspect="equal")
        ax[0].legend(fontsize=8, loc="lower right")
        ax[1].semilogx(taus, gaps, "o-")
        ax[1].set(xlabel="tau (steps)", ylabel="||w_gd - w_ridge(1/(eps tau))|| / ||w_ridge||",
                  title="linear regression: the two paths")
        fig.tight_layout()
        fig.savefig(a.out, dpi=100)
        print(f"wrote {a.out}")
    return res


if __name__ == "__main__":
    main()
