"""Gallery: the feedforward basics: XOR needs a hidden layer (textbook 6.1), and cross-entropy avoids the
quadratic cost's learning slowdown of a saturated sigmoid neuron (text 001, chapter 3; textbook 6.2.2.3)."""
from __future__ import annotations

import numpy as np

from ._core import experiment, host, new_figure, tensor

_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
_Y = np.array([[0], [1], [1], [0]], np.float32)


def _fit(model, x, y, steps, lr):
    from .. import optim
    from ..nn import functional as F

    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(F.mse_loss(model(x), y).item())


@experiment("xor", title="XOR needs a hidden layer",
            claim="A linear model cannot represent XOR: its best mean squared error is 0.25 (w = 0, b = 1/2); a "
                  "network with one hidden layer fits it exactly (the book's hand-made ReLU solution has error 0).",
            section="textbook 6.1 (000 l.29)",
            criterion="linear MSE > 0.24 and trained MLP MSE < 0.01 and the book's ReLU solution MSE < 1e-12",
            judge=lambda n: n["linear_mse"] > 0.24 and n["mlp_mse"] < 0.01 and n["book_solution_mse"] < 1e-12)
def xor(quick=True, seed=0):
    from .. import nn

    x, y = tensor(_X), tensor(_Y)
    steps = 300 if quick else 1000
    linear = nn.Linear(2, 1)
    lin_mse = _fit(linear, x, y, steps, 0.05)
    mlp = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    mlp_mse = _fit(mlp, x, y, steps, 0.05)
    # the book's solution: W = [[1, 1], [1, 1]], c = [0, -1], w = [1, -2], b = 0 with ReLU
    W, c, w = tensor(np.ones((2, 2), np.float32)), tensor(np.array([0, -1], np.float32)), \
        tensor(np.array([[1], [-2]], np.float32))
    book = ((x @ W + c).relu() @ w - y).pow(2).mean()
    # decision surfaces
    g = np.linspace(-0.25, 1.25, 61, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)
    grid = tensor(np.stack([gx.ravel(), gy.ravel()], 1))
    fig, axes = new_figure(2)
    for ax, (name, m, mse) in zip(axes, (("linear model", linear, lin_mse), ("MLP, 8 tanh units", mlp, mlp_mse))):
        from ..autograd import no_grad

        with no_grad():
            z = host(m(grid)).reshape(gx.shape)
        cs = ax.contourf(gx, gy, z, levels=np.linspace(-0.5, 1.5, 21), cmap="RdBu_r")
        ax.scatter(_X[:, 0], _X[:, 1], c=_Y[:, 0], cmap="RdBu_r", edgecolors="k", s=80, vmin=0, vmax=1)
        ax.set_title(f"{name}: MSE {mse:.3g}")
        ax.figure.colorbar(cs, ax=ax)
    return {"linear_mse": lin_mse, "mlp_mse": mlp_mse, "book_solution_mse": float(book.item()),
            "steps": steps}, [fig]


def _neuron_path(cost, epochs, lr=0.15):
    """Nielsen's single neuron: input 1, target 0, w = b = 2, plain gradient descent on one example."""
    from .. import nn, ops

    w = nn.Parameter(tensor(np.array(2.0, np.float32)))
    b = nn.Parameter(tensor(np.array(2.0, np.float32)))
    outs, grads = [], []
    for _ in range(epochs):
        a = ops.sigmoid(w * 1.0 + b)
        loss = 0.5 * a * a if cost == "quadratic" else -ops.log(1.0 - a)
        w.grad = b.grad = None
        loss.backward()
        outs.append(float(a.item()))
        grads.append(abs(float(w.grad.item())))
        with __import__("shendu").no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return np.array(outs), np.array(grads)


def _first_below(a, level):
    idx = np.nonzero(a < level)[0]
    return int(idx[0]) if len(idx) else len(a)


@experiment("cross_entropy", title="Cross-entropy avoids the learning slowdown",
            claim="With a saturated sigmoid output (a = 0.98 for target 0) the quadratic cost's gradient carries "
                  "sigma'(z) and learning starts very slowly; the cross-entropy cost's gradient is (a - y) x and "
                  "learning is fast from the start.",
            section="text 001 chapter 3 (cross-entropy); textbook 6.2.2.3",
            criterion="epochs for the output to fall below 0.2: cross-entropy at least 3x fewer than quadratic, and "
                      "the first gradient at least 10x larger",
            judge=lambda n: n["epochs_to_0.2_cross_entropy"] * 3 <= n["epochs_to_0.2_quadratic"]
            and n["first_grad_cross_entropy"] >= 10 * n["first_grad_quadratic"])
def cross_entropy(quick=True, seed=0):
    epochs = 400 if quick else 600
    res = {c: _neuron_path(c, epochs) for c in ("quadratic", "cross_entropy")}
    fig, ax = new_figure()
    for c, (outs, _) in res.items():
        ax.plot(outs, label=c.replace("_", "-"))
    ax.axhline(0.2, color="gray", lw=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("output a (target 0)")
    ax.set_title("one sigmoid neuron, w = b = 2, lr 0.15")
    ax.legend()
    n = {}
    for c, (outs, grads) in res.items():
        n[f"epochs_to_0.2_{c}"] = _first_below(outs, 0.2)
        n[f"first_grad_{c}"] = grads[0]
        n[f"final_output_{c}"] = outs[-1]
    return n, [fig]
