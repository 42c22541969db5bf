"""Adversarial examples and adversarial training (textbook 7.13; Goodfellow et al. 2014b, Madry et al. 2018):
FGSM x' = x + eps sign(grad_x J), iterated projected gradient attacks (PGD, L-inf or L2 ball), the adversarial
objective alpha J(x) + (1 - alpha) J(x + eta), a training loop for it, and accuracy under attack.
Also tangent propagation (Simard et al. 1992; original book 7.14): the penalty sum_i ((d f/d x) v_i)^2."""
from __future__ import annotations

import numbers

from ..autograd.engine import grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor, _wrap
from ..backend import generator_for, namespace_of

__all__ = ["linear_perturbation_bound", "fgsm", "pgd", "adversarial_loss", "adversarial_fit", "robust_accuracy",
           "input_jvp", "tangent_prop_penalty", "translation_tangent"]


def _loss(loss_fn):
    from ..train.resolve import get_loss

    return get_loss(loss_fn)


def _check_eps(who, eps):
    if not isinstance(eps, numbers.Real) or eps < 0:
        raise ValueError(f"{who}: eps must be a real number >= 0, got {eps!r}")


def _input_grad(model, loss_fn, x, y):
    """dJ/dx at x (a detached leaf copy); parameter .grad fields are not touched."""
    xa = x.detach()
    xa.requires_grad = True
    with enable_grad():  # also inside a no_grad block (evaluation, gradcheck)
        loss = loss_fn(model(xa), y)
        if loss.ndim:
            loss = loss.sum()
        (g,) = grad(loss, [xa])
    return g.detach()


def _clip(x, clip):
    if clip is None:
        return x
    lo, hi = clip
    return x.clamp(min=lo, max=hi)


def _per_example_norm(t):
    """||t_n||_2 for each example, shaped (N, 1, ..., 1) to broadcast against t."""
    n = t.shape[0]
    sq = (t * t).reshape(n, -1).sum(dim=1).sqrt()
    return sq.reshape((n,) + (1,) * (t.ndim - 1))


def linear_perturbation_bound(w, eps: float):
    """The largest change of a linear function w^T x under ||eta||_inf <= eps: eps ||w||_1, reached at
    eta = eps sign(w) (textbook 7.13, W7.16; d = 1000, |w_i| = 0.1, eps = 0.01 -> 1.0)."""
    _check_eps("linear_perturbation_bound", eps)
    return w.abs().sum() * eps


def fgsm(model, loss_fn, x: Tensor, y, eps: float, clip=None) -> Tensor:
    """Fast gradient sign method (Goodfellow et al. 2014b; textbook 7.13): x' = x + eps sign(grad_x J(x, y)).

    loss_fn: (output, target) -> loss (or a name such as 'cross_entropy'); clip: optional (lo, hi) data range.
    The model is used in its current mode. Returns a detached tensor shaped like x."""
    _check_eps("fgsm", eps)
    g = _input_grad(model, _loss(loss_fn), x, y)
    with no_grad():
        return _clip(x.detach() + g.sign() * eps, clip)


def pgd(model, loss_fn, x: Tensor, y, eps: float, alpha: float, steps: int, norm="inf", random_start: bool = False,
        clip=None) -> Tensor:
    """Projected gradient ascent on J inside the eps-ball around x (Madry et al. 2018; iterated FGSM):
    x <- Proj_{||x - x0|| <= eps}(x + alpha * s), s = sign(g) for norm='inf', g/||g||_2 for norm=2.

    random_start: start from a uniform point of the L-inf box (norm='inf') or a random point of the L2 ball.
    clip: optional (lo, hi) data range. Returns a detached tensor shaped like x."""
    _check_eps("pgd", eps)
    if norm not in ("inf", 2):
        raise ValueError(f"pgd: norm must be 'inf' or 2, got {norm!r}")
    if not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"pgd: steps must be a positive int, got {steps!r}")
    fn = _loss(loss_fn)
    x0 = x.detach()
    if random_start:
        gen, arr = generator_for(x0._data), x0._data
        if norm == "inf":
            r = _wrap(gen.random(arr.shape, dtype=arr.dtype))
            delta = (r * 2.0 - 1.0) * eps
        else:
            z = _wrap(gen.standard_normal(arr.shape).astype(arr.dtype))
            u = _wrap(gen.random((arr.shape[0],), dtype=arr.dtype)).reshape((arr.shape[0],) + (1,) * (x0.ndim - 1))
            delta = z / _per_example_norm(z).clamp(min=1e-30) * u * eps
        xa = _clip(x0 + delta, clip)
    else:
        xa = x0
    for _ in range(int(steps)):
        g = _input_grad(model, fn, xa, y)
        with no_grad():
            if norm == "inf":
                xa = xa + g.sign() * alpha
                xa = x0 + (xa - x0).clamp(min=-eps, max=eps)
            else:
                xa = xa + g / _per_example_norm(g).clamp(min=1e-30) * alpha
                d = xa - x0
                nrm = _per_example_norm(d)
                xa = x0 + d * (eps / nrm.clamp(min=1e-30)).clamp(max=1.0)
            xa = _clip(xa, clip)
    return xa.detach()


def adversarial_loss(model, loss_fn, x: Tensor, y, eps: float, alpha: float = 0.5, attack=None, attack_kwargs=None):
    """Adversarial training objective (Goodfellow et al. 2014b; textbook 7.13):
    J~(theta; x, y) = alpha J(theta; x, y) + (1 - alpha) J(theta; x + eta, y), eta = eps sign(grad_x J) (FGSM)
    by default, or ``attack(model, loss_fn, x, y, eps, **attack_kwargs)`` (e.g. ``pgd`` with
    attack_kwargs={'alpha': 0.02, 'steps': 10}). eta is a constant for the gradient in theta (as in the paper).
    Returns a scalar Tensor to call .backward() on."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"adversarial_loss: alpha must be in [0, 1], got {alpha!r}")
    fn = _loss(loss_fn)
    x_adv = (attack or fgsm)(model, fn, x, y, eps, **(attack_kwargs or {}))
    if alpha == 0.0:
        return fn(model(x_adv), y)
    if alpha == 1.0:
        return fn(model(x), y)
    return fn(model(x), y) * alpha + fn(model(x_adv), y) * (1.0 - alpha)


def adversarial_fit(model, x, y, *, loss="cross_entropy", optimizer="adam", lr=None, epochs=1, batch_size=32,
                    eps=0.1, alpha=0.5, attack=None, attack_kwargs=None, shuffle=True, seed=None):
    """Train ``model`` on (x, y) minimizing ``adversarial_loss`` for ``epochs`` epochs (minibatch, optimizer by
    name or instance as in ``shendu.train.fit``); returns the list of mean training losses per epoch."""
    from ..train.loop import _as_tensors, _to_device, make_loader, model_device
    from ..train.resolve import get_optimizer

    fn = _loss(loss)
    opt = get_optimizer(optimizer, model.parameters(), lr=lr)
    loader = make_loader((x, y), batch_size, shuffle=shuffle, seed=seed, who="adversarial_fit")
    dev = model_device(model)
    history = []
    for _ in range(int(epochs)):
        model.train()
        total, count = 0.0, 0
        for batch in loader:
            if type(batch[-1]) is not Tensor:
                batch = _as_tensors(batch)
            xb, yb = _to_device(batch, dev)
            lv = adversarial_loss(model, fn, xb, yb, eps, alpha, attack, attack_kwargs)
            opt.zero_grad()
            lv.backward()
            opt.step()
            total += float(lv._data) * xb.shape[0]
            count += xb.shape[0]
        history.append(total / max(count, 1))
    model.eval()
    return history


def robust_accuracy(model, x, y, eps: float, loss="cross_entropy", attack=None, batch_size=256, **attack_kwargs):
    """Accuracy of ``model`` (eval mode) on attacked inputs attack(model, loss, x, y, eps) (FGSM by default);
    eps = 0 gives the clean accuracy. Returns a float."""
    from ..train.loop import _as_tensors, _to_device, make_loader, model_device

    fn = _loss(loss)
    was = getattr(model, "training", False)
    model.eval()
    dev = model_device(model)
    correct, n = 0, 0
    try:
        for batch in make_loader((x, y), batch_size, who="robust_accuracy"):
            if type(batch[-1]) is not Tensor:
                batch = _as_tensors(batch)
            xb, yb = _to_device(batch, dev)
            xa = xb if eps == 0 else (attack or fgsm)(model, fn, xb, yb, eps, **attack_kwargs)
            with no_grad():
                pred = model(xa).argmax(dim=-1)
            correct += int((pred == yb).sum().item())
            n += yb.shape[0]
    finally:
        model.train(was)
    return correct / max(n, 1)


def input_jvp(model, x: Tensor, v: Tensor, create_graph: bool = True) -> Tensor:
    """Directional derivative J_f(x) v of the model's output along input direction v (one v per example), by the
    double-backward trick: g(u) = J^T u, then J v = d(g(u) . v)/du. Differentiable in the parameters. Shape of f(x)."""
    if tuple(v.shape) != tuple(x.shape):
        raise ValueError(f"input_jvp: the tangent must have the input's shape {tuple(x.shape)}, got {tuple(v.shape)}")
    xa = x.detach()
    xa.requires_grad = True
    with enable_grad():
        out = model(xa)
        u = _wrap(namespace_of(out._data).zeros(out.shape, dtype=out._data.dtype))
        u.requires_grad = True
        (g,) = grad(out, [xa], grad_outputs=u, create_graph=True)
        (jv,) = grad(g, [u], grad_outputs=v, create_graph=create_graph)
    return jv


def tangent_prop_penalty(model, x: Tensor, tangents, transform=None) -> Tensor:
    """Tangent propagation (Simard et al. 1992; original book 7.14): Omega = mean_n sum_i ||J_f(x_n) v_n^(i)||^2,
    small when f is locally invariant along the known tangent directions v^(i) of the data manifold (e.g. the
    image's derivative under translation, ``translation_tangent``). tangents: one tensor shaped like x, or a
    list of them; transform: optional map of outputs (e.g. softmax) applied before differentiating."""
    ts = list(tangents) if isinstance(tangents, (list, tuple)) else [tangents]
    if not ts:
        raise ValueError("tangent_prop_penalty: expected at least one tangent")
    f = model if transform is None else (lambda z: transform(model(z)))
    total = None
    for v in ts:
        jv = input_jvp(f, x, v)
        term = (jv * jv).reshape(jv.shape[0], -1).sum(dim=1).mean()
        total = term if total is None else total + term
    return total


def translation_tangent(images: Tensor, dim: int = -1) -> Tensor:
    """Tangent vector of horizontal (dim=-1) or vertical (dim=-2) translation of images (..., H, W): the central
    difference (x[j+1] - x[j-1]) / 2 with zero padding, i.e. -d/dt x(j - t) at t = 0. Same shape as images."""
    from ..ops.shape import pad

    if images.ndim < 2 or dim not in (-1, -2):
        raise ValueError(f"translation_tangent: expected images (..., H, W) and dim -1 or -2, "
                         f"got shape {tuple(images.shape)}, dim={dim}")
    if dim == -1:
        p = pad(images.detach(), (1, 1))
        return (p[..., 2:] - p[..., :-2]) * 0.5
    p = pad(images.detach(), (0, 0, 1, 1))
    return (p[..., 2:, :] - p[..., :-2, :]) * 0.5
