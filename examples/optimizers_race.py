"""Race of shendu.optim's optimizers (Textbook chapter 8) on an ill-conditioned quadratic and a small network.

    python examples/optimizers_race.py [--out optimizers_race.png] [--steps 300]

Writes one PNG (loss against step, one panel per problem, log scale) and prints a table of the number of
steps each optimizer needs to bring the loss below a tolerance. For the full-batch methods one "step" is one
iteration (max_iter=1 per step() call); their line searches cost extra function evaluations, shown in the table.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import shendu as sd
from shendu import optim


def quadratic_problem(n=20, cond=100.0, seed=0):
    """f(x) = 0.5 (x - x*)^T A (x - x*) with eigenvalues spread over [1, cond]; minimum 0."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    A = sd.tensor(Q @ np.diag(np.geomspace(1.0, cond, n)) @ Q.T)
    xstar = sd.tensor(rng.standard_normal(n))

    def make_params():
        return [sd.nn.Parameter(sd.zeros(n, dtype=sd.float64))]

    def loss_fn(ps):
        d = ps[0] - xstar
        return 0.5 * (d * (A @ d)).sum()

    return make_params, loss_fn, 1e-8


def network_problem(seed=0, n=128):
    """A 2-16-1 tanh network regressing sin(3 x1) cos(2 x2) on 128 fixed points (full batch, MSE)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    y = (np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]))[:, None]
    Xt, yt = sd.tensor(X), sd.tensor(y)
    init = [rng.standard_normal((2, 16)) * 0.8, np.zeros(16), rng.standard_normal((16, 1)) * 0.25, np.zeros(1)]

    def make_params():
        return [sd.nn.Parameter(sd.tensor(w.copy())) for w in init]

    def loss_fn(ps):
        h = sd.tanh(Xt @ ps[0] + ps[1])
        return ((h @ ps[2] + ps[3] - yt) ** 2).mean()

    return make_params, loss_fn, 2e-3


OPTIMIZERS = {
    "SGD": lambda p, lr: optim.SGD(p, lr=lr),
    "SGD momentum": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9),
    "SGD Nesterov": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
    "AdaGrad": lambda p, lr: optim.Adagrad(p, lr=lr),
    "RMSProp": lambda p, lr: optim.RMSprop(p, lr=lr, alpha=0.9),
    "RMSProp Nesterov": lambda p, lr: optim.RMSprop(p, lr=lr, alpha=0.9, momentum=0.9, nesterov=True),
    "Adam": lambda p, lr: optim.Adam(p, lr=lr),
    "AdamW": lambda p, lr: optim.AdamW(p, lr=lr, weight_decay=1e-4),
    "CG (PR+)": lambda p, lr: optim.NonlinearCG(p, max_iter=1, tolerance_change=0, tolerance_grad=0),
    "BFGS": lambda p, lr: optim.BFGS(p, max_iter=1, tolerance_change=0, tolerance_grad=0),
    "L-BFGS": lambda p, lr: optim.LBFGS(p, max_iter=1, max_eval=25, history_size=10, line_search_fn="strong_wolfe",
                                      tolerance_change=0, tolerance_grad=0),
    "Newton": "newton",
}
# learning rates picked by hand from a small grid per problem (first-order methods only)
LRS = {
    "quadratic": {"SGD": 0.019, "SGD momentum": 0.01, "SGD Nesterov": 0.01, "AdaGrad": 1.0, "RMSProp": 0.01,
                  "RMSProp Nesterov": 0.003, "Adam": 0.1, "AdamW": 0.1},
    "network": {"SGD": 0.2, "SGD momentum": 0.1, "SGD Nesterov": 0.1, "AdaGrad": 0.1, "RMSProp": 0.003,
                "RMSProp Nesterov": 0.001, "Adam": 0.02, "AdamW": 0.02},
}
MAX_STEPS = {"Newton": 40}  # each Newton step forms the full Hessian (one backward per parameter)


def race(problem, steps, lrs):
    make_params, loss_fn, tol = problem
    curves, table = {}, {}
    for name, make in OPTIMIZERS.items():
        ps = make_params()
        evals = [0]

        def closure():
            evals[0] += 1
            for p in ps:
                p.grad = None
            loss = loss_fn(ps)
            loss.backward()
            return loss

        if make == "newton":
            opt = optim.Newton(ps)

            def newton_closure():
                evals[0] += 1
                return loss_fn(ps)
        else:
            opt = make(ps, lrs.get(name))
        losses, hit = [], None
        t0 = time.perf_counter()
        for k in range(min(steps, MAX_STEPS.get(name, steps))):
            if make == "newton":
                opt.step(newton_closure)
            elif isinstance(opt, (optim.LBFGS, optim.BFGS, optim.NonlinearCG)):
                opt.step(closure)
            else:
                closure()
                opt.step()
            with sd.no_grad():
                f = float(loss_fn(ps))
            losses.append(f if np.isfinite(f) else np.nan)
            if hit is None and f < tol:
                hit = k + 1
        curves[name] = losses
        table[name] = (hit, evals[0], losses[-1], time.perf_counter() - t0)
    return curves, table, tol


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="optimizers_race.png")
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = {"quadratic": quadratic_problem(), "network": network_problem()}
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, (pname, prob) in zip(axes, problems.items()):
        curves, table, tol = race(prob, args.steps, LRS[pname])
        print(f"\n{pname}: steps to loss < {tol:g} (of {args.steps}); function evaluations; final loss; seconds")
        print(f"{'optimizer':18s} {'steps':>6s} {'evals':>6s} {'final loss':>12s} {'time s':>7s}")
        for name, (hit, ev, last, sec) in table.items():
            print(f"{name:18s} {hit if hit else '-':>6} {ev:6d} {last:12.3e} {sec:7.2f}")
            curves[name] += [np.nan] * (args.steps - len(curves[name]))
            ax.semilogy(np.arange(1, len(curves[name]) + 1), np.maximum(curves[name], 1e-16), label=name,
                        linestyle="--" if name in ("CG (PR+)", "BFGS", "L-BFGS", "Newton") else "-")
        ax.axhline(tol, color="gray", linewidth=0.8)
        ax.set_title(f"{pname} (tolerance {tol:g})")
        ax.set_xlabel("step (iteration)")
        ax.set_ylabel("loss")
    axes[1].legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
