"""Semi-supervised learning (textbook 7.6, 7.13): pseudo-labelling / self-training (Lee 2013), virtual adversarial
training (Miyato et al. 2015: KL between p(y|x) and p(y|x + r_adv), r_adv found by power iteration) and the shared
generative + discriminative objective -log P(y|x) + lambda * (reconstruction of x) on a shared encoder."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd.engine import grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor, _wrap
from ..backend import device_of, generator_for, to_device, to_host
from ..nn.functional import cross_entropy, log_softmax, mse_loss
from ..ops.reduce import amax
from ..ops.shape import cat

__all__ = ["pseudo_label", "self_training", "kl_logits", "vat_loss", "generative_discriminative_loss"]


def _as_model_input(model, x):
    from ..train.loop import model_device

    return x if isinstance(x, Tensor) else Tensor(x, device=model_device(model))


def _take(a, idx):
    if isinstance(a, Tensor):
        return a[_wrap(to_device(idx, device_of(a._data)))]
    return a[idx]


def pseudo_label(model, x_unlabeled, threshold: float = 0.95, batch_size: int = 1024):
    """Pseudo-labels (Lee 2013): the model's argmax class for each unlabelled example whose top softmax
    probability is >= threshold (model in eval mode, no graph).

    Returns (x_selected, labels, index): the confident rows of x_unlabeled (same kind: array or Tensor), their
    labels (int64; a NumPy array for array input, else a Tensor on x's device) and their host indices."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"pseudo_label: threshold must be in [0, 1], got {threshold!r}")
    was = getattr(model, "training", False)
    model.eval()
    confs, labels = [], []
    try:
        with no_grad():
            for s in range(0, len(x_unlabeled), batch_size):
                xb = _as_model_input(model, x_unlabeled[s:s + batch_size])
                p = log_softmax(model(xb), dim=-1).exp()
                confs.append(to_host(amax(p, dim=-1)._data))
                labels.append(to_host(p.argmax(dim=-1)._data))
    finally:
        model.train(was)
    conf = np.concatenate(confs) if confs else np.zeros(0)
    lab = np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64)
    index = np.nonzero(conf >= threshold)[0].astype(np.int64)
    y = lab[index]
    if isinstance(x_unlabeled, Tensor):
        y = _wrap(to_device(y, device_of(x_unlabeled._data)))
    return _take(x_unlabeled, index), y, index


def _concat(a, b):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if not isinstance(a, Tensor):
            a = _wrap(to_device(np.asarray(a), device_of(b._data)))
        if not isinstance(b, Tensor):
            b = _wrap(to_device(np.asarray(b), device_of(a._data)))
        return cat([a, b], dim=0)
    return np.concatenate([a, b], axis=0)


def self_training(model, x_labeled, y_labeled, x_unlabeled, *, threshold: float = 0.95, rounds: int = 3,
                  loss="cross_entropy", optimizer="adam", lr=None, epochs: int = 10, batch_size: int = 32, verbose=0):
    """Self-training with pseudo-labels: fit on the labelled set, then ``rounds`` times pseudo-label the unlabelled
    set (confidence >= threshold) and fit on labelled + pseudo-labelled examples (``shendu.train.fit`` each time).
    Returns the number of pseudo-labelled examples used in each round."""
    from ..train import fit

    if not isinstance(rounds, numbers.Integral) or rounds < 0:
        raise ValueError(f"self_training: rounds must be an int >= 0, got {rounds!r}")
    fit(model, (x_labeled, y_labeled), loss=loss, optimizer=optimizer, lr=lr, epochs=epochs, batch_size=batch_size,
        verbose=verbose)
    used = []
    for _ in range(int(rounds)):
        xs, ys, idx = pseudo_label(model, x_unlabeled, threshold)
        used.append(len(idx))
        fit(model, (_concat(x_labeled, xs), _concat(y_labeled, ys)), loss=loss, optimizer=optimizer, lr=lr,
            epochs=epochs, batch_size=batch_size, verbose=verbose)
    return used


def kl_logits(p_logits: Tensor, q_logits: Tensor) -> Tensor:
    """Batch mean of KL(p || q) = sum_y p(y) (log p(y) - log q(y)) between softmax(p_logits) and softmax(q_logits)."""
    lp, lq = log_softmax(p_logits, dim=-1), log_softmax(q_logits, dim=-1)
    return (lp.exp() * (lp - lq)).sum(dim=-1).mean()


def _unit(t):
    n = t.shape[0]
    nrm = (t * t).reshape(n, -1).sum(dim=1).sqrt().reshape((n,) + (1,) * (t.ndim - 1))
    return t / nrm.clamp(min=1e-30)


def vat_loss(model, x: Tensor, xi: float = 1e-6, eps: float = 2.0, n_power: int = 1, logits: Tensor | None = None,
             return_perturbation: bool = False):
    """Virtual adversarial training loss (Miyato et al. 2015; textbook 7.13 "virtual adversarial examples"):
    LDS = KL(p(y|x) || p(y|x + r_adv)), r_adv = eps * d/||d|| where d is the top eigenvector of the KL's Hessian
    in the input, found by n_power power iterations d <- grad_r KL(p(x) || p(x + xi d)) from a random d.

    p(y|x) is the model's own prediction, held constant (no labels needed). x: (N, ...); logits: model(x) if
    already computed. Returns a differentiable scalar (and r_adv if return_perturbation). xi = 1e-6 as in the
    paper; if float32 rounding makes the direction noisy, a larger xi (1e-3 of the input scale) is safe."""
    if not isinstance(n_power, numbers.Integral) or n_power < 1:
        raise ValueError(f"vat_loss: n_power must be a positive int, got {n_power!r}")
    if xi <= 0 or eps < 0:
        raise ValueError(f"vat_loss: need xi > 0 and eps >= 0, got xi={xi}, eps={eps}")
    x = _as_model_input(model, x).detach()
    with no_grad():
        p_logits = (model(x) if logits is None else logits).detach()
    gen, arr = generator_for(x._data), x._data
    d = _unit(_wrap(gen.standard_normal(arr.shape).astype(arr.dtype)))
    for _ in range(int(n_power)):
        r = (d * xi).detach()
        r.requires_grad = True
        with enable_grad():
            (g,) = grad(kl_logits(p_logits, model(x + r)), [r])
        d = _unit(g.detach())
    r_adv = (d * eps).detach()
    loss = kl_logits(p_logits, model(x + r_adv))
    return (loss, r_adv) if return_perturbation else loss


def generative_discriminative_loss(encoder, head, decoder, x_labeled, y_labeled, x_unlabeled=None, lam: float = 1.0):
    """Shared generative + discriminative objective (textbook 7.6; Lasserre et al. 2006):
    L = -log P(y|x) on the labelled set + lam * ||decoder(encoder(x)) - x||^2 (mean) on all inputs (labelled and
    unlabelled), so the unlabelled data shape the shared encoder h = f(x). The reconstruction error stands in
    for -log P(x) (a Gaussian decoder). Returns a scalar Tensor."""
    if lam < 0:
        raise ValueError(f"generative_discriminative_loss: lam must be >= 0, got {lam!r}")
    sup = cross_entropy(head(encoder(x_labeled)), y_labeled)
    xa = x_labeled if x_unlabeled is None else _concat(x_labeled, x_unlabeled)
    if lam == 0:
        return sup
    return sup + mse_loss(decoder(encoder(xa)), xa) * lam
