"""Debugging checks of textbook 11.5: fit a tiny data set, look at the worst mistakes, and the per-layer gradient
norms of a deep net (vanishing or exploding gradients)."""
from __future__ import annotations

import copy
import math

import numpy as np

from ..backend import to_host

__all__ = ["overfit_tiny_batch", "OverfitReport", "worst_mistakes", "gradient_report", "GradientReport",
           "deep_sigmoid_net"]


class OverfitReport(dict):
    """{size: final training loss}; ``ok`` (all below tol) and ``message``."""

    ok = True
    message = ""


def overfit_tiny_batch(model, x, y, *, loss="cross_entropy", sizes=(1, 8), steps=300, lr=1e-2, optimizer="adam",
                       tol=0.05, raise_on_failure=False):
    """Acceptance test of textbook 11.5 ("fit a tiny data set"): a fresh copy of ``model`` is trained full-batch for
    ``steps`` steps on the first 1, then k examples (``sizes``); each must reach training loss < ``tol``. A model
    that cannot is likely to have a bug (a classifier fits one example by its output biases alone).
    Returns an OverfitReport {size: loss} with .ok and .message (raises AssertionError if raise_on_failure)."""
    from ..train import fit

    x, y = np.asarray(x), np.asarray(y)
    rep = OverfitReport()
    fails = []
    for k in sizes:
        if k > len(x):
            raise ValueError(f"overfit_tiny_batch: size {k} exceeds the {len(x)} examples given")
        m = copy.deepcopy(model)
        h = fit(m, (x[:k], y[:k]), loss=loss, optimizer=optimizer, lr=lr, epochs=steps, batch_size=k, verbose=0,
                shuffle=False)
        v = float(h.history["loss"][-1])
        rep[k] = v
        if not (v < tol):
            fails.append(f"{k} example{'s' if k > 1 else ''}: loss {v:.4g} after {steps} steps")
    rep.ok = not fails
    rep.message = ("fits " + ", ".join(f"{k} (loss {v:.2g})" for k, v in rep.items()) if rep.ok else
                   f"overfit_tiny_batch: cannot fit a tiny data set ({'; '.join(fails)}; tol {tol}): look for a "
                   "bug (wrong loss or gradient, frozen parameters, an optimizer that does not update) or a lr "
                   "far off")
    if fails and raise_on_failure:
        raise AssertionError(rep.message)
    return rep


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def worst_mistakes(model, x, y, k=16, *, logits=True, image_shape=None, path=None, class_names=None,
                   batch_size=256):
    """The k most confident mistakes (textbook 11.5 "visualise the worst mistakes"): examples whose predicted class
    is wrong, sorted by the model's probability of that class, highest first. logits: outputs are scores
    (softmax applied) or probabilities. path: an image grid PNG (images from x, or x reshaped to image_shape),
    titled 'pred p / true'. Returns {'index', 'predicted', 'true', 'confidence', 'true_prob'} (arrays)."""
    from ..train.loop import predict

    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    out = np.asarray(to_host(predict(model, x, batch_size=batch_size)), dtype=np.float64)
    if out.ndim != 2 or out.shape[0] != len(y):
        raise ValueError(f"worst_mistakes: expected outputs (N, K) for N={len(y)} examples, got {out.shape}")
    p = _softmax(out) if logits else out
    pred = p.argmax(axis=1)
    conf = p[np.arange(len(y)), pred]
    wrong = np.flatnonzero(pred != y)
    order = wrong[np.argsort(-conf[wrong], kind="stable")][:k]
    res = {"index": order, "predicted": pred[order], "true": y[order], "confidence": conf[order],
           "true_prob": p[order, y[order]]}
    if path is not None:
        _grid(x[order], res, path, image_shape, class_names)
    return res


def _grid(images, res, path, image_shape, names):
    from ._plot import pyplot

    plt = pyplot()
    n = max(1, len(images))
    cols = min(8, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows), squeeze=False)
    lab = (lambda c: str(names[c])) if names is not None else str
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        im = images[i]
        if image_shape is not None:
            im = im.reshape(image_shape)
        elif im.ndim == 1:
            s = int(math.isqrt(im.size))
            im = im.reshape(s, s) if s * s == im.size else im.reshape(1, -1)
        if im.ndim == 3:  # (C, H, W) -> (H, W, C)
            im = np.moveaxis(im, 0, -1) if im.shape[0] in (1, 3) else im
            if im.shape[-1] == 1:
                im = im[..., 0]
            else:
                im = (im - im.min()) / (np.ptp(im) + 1e-12)
        ax.imshow(im, cmap="gray" if im.ndim == 2 else None)
        ax.set_title(f"{lab(res['predicted'][i])} {res['confidence'][i]:.2f} / {lab(res['true'][i])}", fontsize=7)
    fig.suptitle("most confident mistakes: predicted p / true", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


class GradientReport(list):
    """[(layer, weight-gradient norm), ...] from the input side to the output side; ``ratio`` = first / last,
    ``vanishing`` (ratio < 1e-2) and ``exploding`` (ratio > 1e2)."""

    ratio = float("nan")
    vanishing = exploding = False

    def __str__(self):
        lines = [f"{name:<24} {norm:.3e}" for name, norm in self]
        verdict = "vanishing" if self.vanishing else ("exploding" if self.exploding else "balanced")
        lines.append(f"first/last gradient norm ratio {self.ratio:.3e}: {verdict}")
        return "\n".join(lines)


def gradient_report(model, x, y, *, loss="cross_entropy", vanish=1e-2, explode=1e2):
    """Per-layer gradient norms of the loss on (x, y) (textbook 8.2.5, 10.7; 11.5 "rapid growth or vanishing of
    back-propagated gradients"): the norm of each layer's weight gradient (parameters named ...weight, else
    every parameter), in forward order. Returns a GradientReport (printable)."""
    from ..train.loop import _as_tensors, _to_device, model_device
    from ..train.resolve import get_loss

    loss_fn = get_loss(loss)
    xs, ys = _to_device(_as_tensors((np.asarray(x, dtype=np.float32) if np.asarray(x).dtype == np.float64 else
                                     np.asarray(x), np.asarray(y))), model_device(model))
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    weights = [(n, p) for n, p in params if n.endswith("weight")] or params
    model.zero_grad()
    loss_fn(model(xs), ys).backward()
    rep = GradientReport()
    for n, p in weights:
        g = 0.0 if p.grad is None else float(np.sqrt((np.asarray(to_host(p.grad._data), np.float64) ** 2).sum()))
        rep.append((n.rsplit(".", 1)[0] if "." in n else n, g))
    model.zero_grad()
    if rep and rep[-1][1] > 0:
        rep.ratio = rep[0][1] / rep[-1][1]
        rep.vanishing = rep.ratio < vanish
        rep.exploding = rep.ratio > explode
    return rep


def deep_sigmoid_net(depth=10, width=32, in_features=64, out_features=10):
    """The classic deep sigmoid MLP whose gradients vanish towards the input (textbook 8.2.5, 6.3.2)."""
    from .. import nn

    layers, d = [], in_features
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.Sigmoid()]
        d = width
    layers.append(nn.Linear(d, out_features))
    return nn.Sequential(*layers)
