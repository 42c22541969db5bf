"""Gallery: gradient flow: vanishing gradients in a deep sigmoid net and their cure (text 004, text 001 ch. 5,
textbook 8.2.5), initial weight scale std 1 vs 1/sqrt(n_in) (text 001 ch. 3, textbook 8.4), and gradient clipping
on a cliff (textbook 8.2.4, 10.11.1)."""
from __future__ import annotations

import math

import numpy as np

from ._core import digits, experiment, host, new_figure, tensor


def _mlp(sizes, act, init=None):
    from .. import nn

    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        if init is not None:
            init(lin)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _layer_grad_norms(model, x, y):
    from ..nn import functional as F

    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    lins = [m for m in model if hasattr(m, "weight")]
    return [float(host(m.bias.grad.norm()).item()) for m in lins[:-1]]   # ||delta^l|| = ||dC/db^l|| per hidden layer


def _train_acc(model, data, epochs, lr, seed):
    from ..nn.functional import cross_entropy
    from ..train.strategies._loop import accuracy, minibatch_fit

    (xtr, ytr), (xte, yte) = data
    minibatch_fit(model, lambda a, b: cross_entropy(model(a), b), (xtr, ytr), epochs, 32, lr=lr, seed=seed)
    return accuracy(model, xte, yte)


@experiment("vanishing_gradients", title="Vanishing gradients in a deep sigmoid net, and the cure",
            claim="In a deep sigmoid network the gradient shrinks layer by layer towards the input (sigma' <= 1/4), "
                  "so the first layers learn far more slowly than the last; ReLU units with He initialisation keep "
                  "the gradient's size through the depth and the deep net trains.",
            section="text 004 (vanishing gradients), text 001 ch. 5, textbook 8.2.5",
            criterion="sigmoid: ||grad first hidden|| / ||grad last hidden|| < 0.1; ReLU+He: that ratio > 0.3; and "
                      "ReLU+He test accuracy after the same SGD epochs > sigmoid's + 0.2",
            judge=lambda n: n["ratio_first_last_sigmoid"] < 0.1 and n["ratio_first_last_relu_he"] > 0.3
            and n["test_acc_relu_he"] > n["test_acc_sigmoid"] + 0.2)
def vanishing_gradients(quick=True, seed=0):
    from .. import manual_seed, nn

    data = digits()
    (xtr, ytr), _ = data
    x, y = tensor(xtr[:512]), tensor(ytr[:512])
    sizes = [64] + [32] * (6 if quick else 8) + [10]

    def he(lin):
        nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        nn.init.zeros_(lin.bias)

    n, curves = {}, {}
    epochs = 3 if quick else 8
    for name, act, init in (("sigmoid", nn.Sigmoid, None), ("relu_he", nn.ReLU, he)):
        manual_seed(seed)
        model = _mlp(sizes, act, init)
        g = _layer_grad_norms(model, x, y)
        curves[name] = g
        n[f"ratio_first_last_{name}"] = g[0] / g[-1]
        n[f"test_acc_{name}"] = _train_acc(model, data, epochs, 0.1, seed)
    n["hidden_layers"] = len(sizes) - 2
    n["sgd_epochs"] = epochs
    fig, ax = new_figure()
    for name, g in curves.items():
        ax.semilogy(range(1, len(g) + 1), g, "o-", label=name.replace("_", " + "))
    ax.set_xlabel("hidden layer (1 = next to the input)")
    ax.set_ylabel("||dC/db|| at initialisation")
    ax.set_title("gradient size per layer")
    ax.legend()
    return n, [fig]


@experiment("init_scale", title="Initial weights: std 1 vs 1/sqrt(n_in)",
            claim="Weights drawn with standard deviation 1 make z = sum w x very wide when a unit has many inputs, "
                  "so the sigmoid hidden units saturate and learning starts slowly; std 1/sqrt(n_in) keeps z of "
                  "order 1 and the same network learns faster.",
            section="text 001 ch. 3 (weight initialisation); textbook 8.4",
            criterion="fraction of saturated hidden units (sigma' < 0.01): std 1 > 0.3 and std 1/sqrt(n) < 0.05; "
                      "test accuracy after the first epoch higher with 1/sqrt(n) by > 0.05",
            judge=lambda n: n["saturated_std1"] > 0.3 and n["saturated_scaled"] < 0.05
            and n["test_acc_epoch1_scaled"] > n["test_acc_epoch1_std1"] + 0.05)
def init_scale(quick=True, seed=0):
    """Nielsen's setting: 576-30-10 sigmoid network (the digits upsampled 3x to 24x24, so a hidden unit has about
    as many inputs as on MNIST), cross-entropy, SGD lr 0.1, minibatches of 10, biases N(0, 1)."""
    from .. import manual_seed, nn, no_grad
    from ..nn.functional import cross_entropy
    from ..train.strategies._loop import accuracy, minibatch_fit

    (xtr, ytr), (xte, yte) = digits()
    up = lambda x: np.kron(x.reshape(-1, 8, 8), np.ones((1, 3, 3), np.float32)).reshape(len(x), -1)  # noqa: E731
    xtr, xte = up(xtr), up(xte)
    epochs = 2 if quick else 4
    n, hists, curves = {}, {}, {}
    for name, std in (("std1", lambda fan_in: 1.0), ("scaled", lambda fan_in: 1.0 / math.sqrt(fan_in))):
        manual_seed(seed)

        def init(lin, std=std):
            nn.init.normal_(lin.weight, 0.0, std(lin.in_features))
            nn.init.normal_(lin.bias, 0.0, 1.0)

        model = _mlp([xtr.shape[1], 30, 10], nn.Sigmoid, init)
        with no_grad():
            z = host(model[0](tensor(xtr)))
        a = 1.0 / (1.0 + np.exp(-z))
        n[f"saturated_{name}"] = float((a * (1 - a) < 0.01).mean())
        hists[name] = z.ravel()
        curves[name] = []
        for ep in range(epochs):
            minibatch_fit(model, lambda u, v, m=model: cross_entropy(m(u), v), (xtr, ytr), 1, 10, lr=0.1,
                          seed=seed + ep)
            curves[name].append(accuracy(model, xte, yte))
        n[f"test_acc_epoch1_{name}"] = curves[name][0]
        n[f"test_acc_final_{name}"] = curves[name][-1]
    n["epochs"] = epochs
    fig, axes = new_figure(2)
    for name, z in hists.items():
        axes[0].hist(z, bins=60, alpha=0.6, density=True, label=f"{name}: std(z) = {z.std():.2f}")
        axes[1].plot(range(1, epochs + 1), curves[name], "o-", label=name)
    axes[0].set_xlabel("hidden pre-activation z at initialisation")
    axes[0].legend()
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("test accuracy")
    axes[1].legend()
    return n, [fig]


def _cliff_run(clip, steps, lr=0.005, w0=1.1, target=0.5, T=20):
    from .. import nn, no_grad
    from ..nn.utils import clip_grad_norm_

    w = nn.Parameter(tensor(np.array(w0, np.float32)))
    path = [w0]
    for _ in range(steps):
        h = w * 1.0
        for _ in range(T - 1):                     # h_t = w h_{t-1}, h_0 = 1: a linear recurrence
            h = h * w
        loss = (h - target) ** 2
        w.grad = None
        loss.backward()
        if clip:
            clip_grad_norm_([w], clip)
        with no_grad():
            w -= lr * w.grad
        v = float(w.item())
        path.append(v)
        if not math.isfinite(v) or abs(v) > 1e6:
            break
    v = path[-1]
    final = (v ** T - target) ** 2 if math.isfinite(v) and abs(v) < 1e6 else math.inf
    return np.array(path), final


@experiment("clipping_cliff", title="Gradient clipping on a cliff",
            claim="The loss of a recurrence h_T = w^T h_0 has a cliff: on its face the gradient is huge and one "
                  "gradient step throws the parameters far away (the loss explodes); clipping the gradient's norm "
                  "keeps the step small and training converges.",
            section="textbook 8.2.4 (cliffs), 10.11.1 (clipping)",
            criterion="unclipped final loss > 1e3 (or infinite) and clipped (max norm 1) final loss < 1e-4",
            judge=lambda n: n["final_loss_unclipped"] > 1e3 and n["final_loss_clipped"] < 1e-4)
def clipping_cliff(quick=True, seed=0):
    steps = 300 if quick else 1000
    p0, f0 = _cliff_run(None, steps)
    p1, f1 = _cliff_run(1.0, steps)
    ws = np.linspace(0.0, 1.12, 400)
    fig, axes = new_figure(2)
    axes[0].semilogy(ws, (ws ** 20 - 0.5) ** 2 + 1e-12, color="k")
    for p, name in ((p0, "no clipping"), (p1, "clipped, max norm 1")):
        q = p[np.isfinite(p) & (np.abs(p) <= 1.12)][:40]
        axes[0].plot(q, (q ** 20 - 0.5) ** 2 + 1e-12, "o-", ms=3, label=name)
    axes[0].set_xlabel("w")
    axes[0].set_ylabel("loss (w^20 - 0.5)^2")
    axes[0].set_title("the cliff, first steps")
    axes[0].legend()
    for p, name in ((p0, "no clipping"), (p1, "clipped")):
        axes[1].semilogy(np.abs(np.where(np.isfinite(p), p, np.nan)) + 1e-12, label=name)
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("|w|")
    axes[1].legend()
    return {"final_loss_unclipped": f0, "final_loss_clipped": f1,
            "max_abs_w_unclipped": float(np.nanmax(np.abs(np.where(np.isfinite(p0), p0, np.inf)))),
            "max_abs_w_clipped": float(np.abs(p1).max()), "steps": steps}, [fig]
