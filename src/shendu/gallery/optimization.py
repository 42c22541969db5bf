"""Gallery: optimization: the optimizer race on an ill-conditioned quadratic (textbook 8.3-8.6; the problem and
learning rates of examples/optimizers_race.py), batch normalization speeds training (textbook 8.7.1), and pure
Newton's method is attracted to a saddle point (textbook 8.2.3)."""
from __future__ import annotations

import numpy as np

from ._core import digits, experiment, host, new_figure, tensor

# examples/optimizers_race.py: its quadratic problem and hand-picked learning rates (first-order methods)
_RACE_LRS = {"SGD": 0.019, "SGD momentum": 0.01, "SGD Nesterov": 0.01, "RMSProp": 0.01, "Adam": 0.1}


def _quadratic(n=20, cond=100.0, seed=0):
    """f(x) = 0.5 (x - x*)^T A (x - x*), eigenvalues spread geometrically over [1, cond]; minimum 0."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    A = tensor(Q @ np.diag(np.geomspace(1.0, cond, n)) @ Q.T)
    xstar = tensor(rng.standard_normal(n))

    def loss_fn(ps):
        d = ps[0] - xstar
        return 0.5 * (d * (A @ d)).sum()

    return n, loss_fn


def _race(steps, tol):
    from .. import float64, nn, no_grad, optim, zeros

    n, loss_fn = _quadratic()
    makers = {"SGD": lambda p, lr: optim.SGD(p, lr=lr),
              "SGD momentum": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9),
              "SGD Nesterov": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
              "RMSProp": lambda p, lr: optim.RMSprop(p, lr=lr, alpha=0.9),
              "Adam": lambda p, lr: optim.Adam(p, lr=lr),
              "CG (PR+)": lambda p, lr: optim.NonlinearCG(p, max_iter=1, tolerance_change=0, tolerance_grad=0),
              "L-BFGS": lambda p, lr: optim.LBFGS(p, max_iter=1, max_eval=25, history_size=10,
                                                 line_search_fn="strong_wolfe", tolerance_change=0,
                                                 tolerance_grad=0),
              "Newton": lambda p, lr: optim.Newton(p)}
    curves, hits = {}, {}
    for name, make in makers.items():
        ps = [nn.Parameter(zeros(n, dtype=float64))]
        opt = make(ps, _RACE_LRS.get(name))

        def closure():
            for p in ps:
                p.grad = None
            loss = loss_fn(ps)
            loss.backward()
            return loss

        losses = []
        for _ in range(steps if name != "Newton" else 3):
            if name == "Newton":
                opt.step(lambda: loss_fn(ps))
            elif isinstance(opt, (optim.LBFGS, optim.NonlinearCG)):
                opt.step(closure)
            else:
                closure()
                opt.step()
            with no_grad():
                losses.append(float(loss_fn(ps).item()))
        curves[name] = losses
        below = [i for i, f in enumerate(losses) if f < tol]
        hits[name] = below[0] + 1 if below else steps + 1
    return curves, hits


@experiment("optimizer_race", title="The optimizer race on an ill-conditioned quadratic",
            claim="On a quadratic with condition number 100, plain gradient descent crawls along the low-curvature "
                  "directions; momentum accelerates it, second-order information (conjugate gradients, L-BFGS) "
                  "does better still, and Newton's method solves a quadratic in one step.",
            section="textbook 8.3.2 (momentum), 8.6 (Newton, CG, BFGS); examples/optimizers_race.py",
            criterion="steps to loss < 1e-8: momentum < SGD, L-BFGS and CG < momentum, Newton = 1",
            judge=lambda n: n["steps_SGD momentum"] < n["steps_SGD"] and n["steps_L-BFGS"] < n["steps_SGD momentum"]
            and n["steps_CG (PR+)"] < n["steps_SGD momentum"] and n["steps_Newton"] == 1)
def optimizer_race(quick=True, seed=0):
    steps, tol = (400 if quick else 1000), 1e-8
    curves, hits = _race(steps, tol)
    fig, ax = new_figure(width=6.5, height=4)
    for name, c in curves.items():
        ax.semilogy(range(1, len(c) + 1), np.maximum(c, 1e-16), "--" if name in ("CG (PR+)", "L-BFGS", "Newton")
                    else "-", marker="o" if name == "Newton" else None, label=name)
    ax.axhline(tol, color="gray", lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("quadratic, condition number 100 (steps > %d: not reached)" % steps)
    ax.legend(fontsize=8, ncol=2)
    n = {f"steps_{k}": int(v) for k, v in hits.items()}
    n["max_steps"] = steps
    return n, [fig]


def _deep_net(bn, depth=6, width=64):
    from .. import nn

    layers, a = [], 64
    for _ in range(depth):
        layers.append(nn.Linear(a, width))
        if bn:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Sigmoid())
        a = width
    layers.append(nn.Linear(a, 10))
    return nn.Sequential(*layers)


@experiment("batch_norm", title="Batch normalization speeds training",
            claim="Normalizing each layer's pre-activations over the minibatch (then a learned scale and shift) "
                  "removes the harmful coordination between layers' updates; a deep sigmoid net with batch norm "
                  "trains much faster at the same learning rate.",
            section="textbook 8.7.1; text 004 (batch normalization)",
            criterion="after the same SGD steps: training loss with BN < 0.5 x without, and test accuracy higher",
            judge=lambda n: n["train_loss_bn"] < 0.5 * n["train_loss_plain"] and n["test_acc_bn"] > n["test_acc_plain"])
def batch_norm(quick=True, seed=0):
    from .. import manual_seed
    from ..nn.functional import cross_entropy
    from ..train.strategies._loop import accuracy, minibatch_fit

    (xtr, ytr), (xte, yte) = digits()
    epochs = 3 if quick else 10
    n, curves = {}, {}
    for name, bn in (("plain", False), ("bn", True)):
        manual_seed(seed)
        model = _deep_net(bn)
        curves[name] = minibatch_fit(model, lambda a, b, m=model: cross_entropy(m(a), b), (xtr, ytr), epochs, 32,
                                     lr=0.1, seed=seed)
        n[f"train_loss_{name}"] = curves[name][-1]
        n[f"test_acc_{name}"] = accuracy(model, xte, yte)
    n["epochs"] = epochs
    fig, ax = new_figure()
    for name, c in curves.items():
        ax.plot(range(1, epochs + 1), c, "o-", label="with batch norm" if name == "bn" else "without")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss")
    ax.set_title("6 sigmoid layers of 64, SGD lr 0.1")
    ax.legend()
    return n, [fig]


def _saddle_f(p):
    """f(x, y) = x^2 - y^2 + y^4 / 4: a saddle at 0, minima f = -1 at (0, +-sqrt 2)."""
    x, y = p[0], p[1]
    return x * x - y * y + 0.25 * y ** 4


@experiment("newton_saddle", title="Newton's method is attracted to a saddle point",
            claim="The pure Newton step -H^{-1} g jumps to the nearest critical point whatever its kind, so near "
                  "a saddle it converges to the saddle; gradient descent and Newton with the Hessian regularized "
                  "to be positive definite escape along the negative-curvature direction to the minimum.",
            section="textbook 8.2.3 (saddle points), 8.6.1 (regularized Newton)",
            criterion="undamped Newton ends within 1e-6 of the saddle with a negative Hessian eigenvalue there; "
                      "regularized Newton and gradient descent reach f < -0.99 (minimum -1)",
            judge=lambda n: n["dist_to_saddle_newton_undamped"] < 1e-6 and n["min_eig_newton_undamped"] < 0
            and n["final_f_newton_regularized"] < -0.99 and n["final_f_gradient_descent"] < -0.99)
def newton_saddle(quick=True, seed=0):
    from .. import nn, optim

    start = np.array([0.8, 0.3])
    steps = 15 if quick else 30
    paths = {}
    for name in ("newton_undamped", "newton_regularized", "gradient_descent"):
        p = nn.Parameter(tensor(start.copy()))
        path = [start.copy()]
        if name == "gradient_descent":
            opt = optim.SGD([p], lr=0.1)
            k = steps * 10
        else:
            opt = optim.Newton([p], ensure_descent=(name == "newton_regularized"), damping=0.0)
            k = steps
        for _ in range(k):
            if name == "gradient_descent":
                opt.zero_grad()
                _saddle_f(p).backward()
                opt.step()
            else:
                opt.step(lambda: _saddle_f(p))
            path.append(host(p).copy())
        paths[name] = np.array(path)
    n = {}
    for name, path in paths.items():
        x, y = path[-1]
        n[f"final_f_{name}"] = float(x * x - y * y + 0.25 * y ** 4)
    x, y = paths["newton_undamped"][-1]
    n["dist_to_saddle_newton_undamped"] = float(np.hypot(x, y))
    n["min_eig_newton_undamped"] = float(min(2.0, -2.0 + 3.0 * y * y))   # Hessian diag(2, -2 + 3 y^2)
    g = np.linspace(-1.0, 1.0, 101)
    gx, gy = np.meshgrid(g, np.linspace(-1.8, 1.8, 121))
    fig, ax = new_figure(width=5.5, height=4.2)
    cs = ax.contour(gx, gy, gx ** 2 - gy ** 2 + 0.25 * gy ** 4, levels=20, cmap="viridis")
    ax.clabel(cs, fontsize=6)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], "o-", ms=3, label=name.replace("_", " "))
    ax.plot([0], [0], "kx", ms=10, label="saddle")
    ax.set_title("f = x^2 - y^2 + y^4/4")
    ax.legend(fontsize=8)
    return n, [fig]
