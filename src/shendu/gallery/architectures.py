"""Gallery: architectures: a CNN vs an MLP of the same size on images (textbook 9.2: sparse interactions, shared
parameters, equivariance to translation), and an LSTM vs a plain RNN on a long dependency (textbook 10.7, 10.10)."""
from __future__ import annotations

import numpy as np

from ._core import digits, experiment, new_figure, tensor


def _shifted(x):
    """The test images moved one pixel left, right, up and down (4 copies), (4N, 8, 8)."""
    x = x.reshape(-1, 8, 8)
    return np.concatenate([np.roll(x, s, axis=a) for a, s in ((2, 1), (2, -1), (1, 1), (1, -1))])


@experiment("cnn_vs_mlp", title="A CNN vs an MLP of the same size on images",
            claim="Convolution's sparse interactions and shared parameters build in that nearby pixels matter and "
                  "that a feature means the same anywhere: with the same number of parameters a small CNN "
                  "generalizes at least as well as an MLP from few images, and much better to images moved by a "
                  "pixel.",
            section="textbook 9.2 (motivation), 9.3 (pooling); 8x8 digits",
            criterion="CNN test accuracy >= MLP's - 0.01, and on 1-pixel-shifted test images CNN > MLP + 0.05, with at "
                      "most 1.1x the MLP's parameters",
            judge=lambda n: n["test_acc_cnn"] >= n["test_acc_mlp"] - 0.01
            and n["shifted_acc_cnn"] > n["shifted_acc_mlp"] + 0.05
            and n["params_cnn"] <= 1.1 * n["params_mlp"])
def cnn_vs_mlp(quick=True, seed=0):
    from .. import manual_seed, nn, optim
    from ..nn.functional import cross_entropy
    from ..train.strategies._loop import accuracy, minibatch_fit

    (xtr, ytr), (xte, yte) = digits()
    n_train, epochs = (300, 30) if quick else (len(xtr), 40)
    xs, ys = _shifted(xte), np.tile(yte, 4)
    models = {"cnn": lambda: nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                           nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                           nn.Flatten(), nn.Linear(128, 10)),
              "mlp": lambda: nn.Sequential(nn.Linear(64, 80), nn.ReLU(), nn.Linear(80, 10))}
    n, curves = {}, {}
    for name, make in models.items():
        shape = (-1, 1, 8, 8) if name == "cnn" else (-1, 64)
        manual_seed(seed)
        model = make()
        opt = optim.Adam(model.parameters(), lr=3e-3)
        curves[name] = minibatch_fit(model, lambda a, b, m=model: cross_entropy(m(a), b),
                                     (xtr[:n_train].reshape(shape), ytr[:n_train]), epochs, 32, optimizer=opt,
                                     seed=seed)
        n[f"params_{name}"] = int(sum(p.numel() for p in model.parameters()))
        n[f"test_acc_{name}"] = accuracy(model, xte.reshape(shape), yte)
        n[f"shifted_acc_{name}"] = accuracy(model, xs.reshape(shape), ys)
    n["n_train"] = n_train
    fig, ax = new_figure()
    w = 0.35
    for i, name in enumerate(("cnn", "mlp")):
        ax.bar(np.arange(2) + (i - 0.5) * w, [n[f"test_acc_{name}"], n[f"shifted_acc_{name}"]], w,
               label=f"{name.upper()} ({n[f'params_{name}']} parameters)")
    ax.set_xticks([0, 1])
    ax.set_xticklabels(["test images", "shifted by 1 pixel"])
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(f"trained on {n_train} digits")
    ax.legend(fontsize=8, loc="lower left")
    return n, [fig]


def _memory_batch(n, T, rng):
    """Class = sign of the first input; then T-1 steps of N(0, 1) distractors. Channel 1 marks the first step."""
    x = np.zeros((n, T, 2), np.float32)
    x[:, :, 0] = rng.standard_normal((n, T))
    y = rng.integers(0, 2, n)
    x[:, 0, 0] = np.where(y == 1, 1.0, -1.0)
    x[:, 0, 1] = 1.0
    return x, y


@experiment("lstm_vs_rnn", title="LSTM vs plain RNN on a long dependency",
            claim="A plain tanh RNN's gradient through many steps vanishes, so it cannot learn to remember an input "
                  "for long; the LSTM's self-loop, gated by a forget gate that starts near 1 (bias 3), carries the "
                  "information and its gradient across the whole sequence.",
            section="textbook 10.7 (long-term dependencies), 10.10.1 (LSTM)",
            criterion="remember the first of 40 inputs: LSTM test accuracy > 0.9 and plain RNN < 0.7 after the same "
                      "training",
            judge=lambda n: n["test_acc_lstm"] > 0.9 and n["test_acc_rnn"] < 0.7)
def lstm_vs_rnn(quick=True, seed=0):
    from .. import manual_seed, nn, no_grad, optim
    from ..nn.functional import cross_entropy
    from ..nn.utils import clip_grad_norm_

    T, steps = 40, (200 if quick else 500)

    class Net(nn.Module):
        def __init__(self, cell, **kw):
            super().__init__()
            self.rnn = cell(2, 16, batch_first=True, **kw)
            self.out = nn.Linear(16, 2)

        def forward(self, x):
            return self.out(self.rnn(x)[0][:, -1])

    n, curves = {}, {}
    for name, cell, kw in (("rnn", nn.RNN, {}), ("lstm", nn.LSTM, {"forget_bias": 3.0})):
        manual_seed(seed)
        rng = np.random.default_rng(seed)
        model = Net(cell, **kw)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(steps):
            x, y = _memory_batch(32, T, rng)
            loss = cross_entropy(model(tensor(x)), tensor(y))
            opt.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), 1.0)  # the usual guard against recurrent gradient spikes (10.11.1)
            opt.step()
            losses.append(float(loss.item()))
        x, y = _memory_batch(1000, T, np.random.default_rng(seed + 1))
        with no_grad():
            n[f"test_acc_{name}"] = float((model(tensor(x)).argmax(-1) == tensor(y)).float().mean().item())
        curves[name] = np.convolve(losses, np.ones(10) / 10, mode="valid")
    n["sequence_length"] = T
    n["steps"] = steps
    fig, ax = new_figure()
    for name, c in curves.items():
        ax.plot(c, label=f"{name.upper()}: test accuracy {n[f'test_acc_{name}']:.2f}")
    ax.axhline(np.log(2), color="gray", lw=0.8, label="chance (log 2)")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (moving average)")
    ax.set_title(f"remember the first of {T} inputs")
    ax.legend(fontsize=8)
    return n, [fig]
