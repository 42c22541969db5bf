"""The quadratic analysis of parameter-norm penalties (textbook 7.1.1-7.1.2, 7.3, 7.8): closed forms to check
training against, all differentiable tensor code on any device (built on ``sd.linalg``).

Convention for ridge (the text's 7.15 and 7.17 disagree by a factor of 2): ``ridge`` minimises
||X w - y||^2 + alpha ||w||^2 (equivalently 1/2 ||X w - y||^2 + alpha/2 ||w||^2), whose minimiser is (7.17).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.tensor import Tensor, as_tensor
from ..linalg import eigh, solve
from ..ops import eye

__all__ = ["ShrinkageResult", "dropout_ridge", "early_stopping_factors", "eigen_shrinkage", "equivalent_weight_decay",
           "gradient_descent_path", "l1_optimum", "l2_factors", "l2_optimum", "ridge", "ridge_operator",
           "separable_logistic_path"]

ShrinkageResult = namedtuple("ShrinkageResult", ["eigenvalues", "eigenvectors", "factors", "w"])


def _t(x, like=None):
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return as_tensor(np.asarray(x, dtype=like.dtype), device=like.device)
    return as_tensor(x)


def _eye(n, like):
    return eye(n, dtype=like.dtype, device=like.device)


def _check_alpha(name, alpha):
    if not isinstance(alpha, Tensor) and (not np.isscalar(alpha) or alpha < 0):
        raise ValueError(f"{name}: alpha must be a number >= 0 (or a Tensor), got {alpha!r}")


def _square(name, H):
    if H.ndim < 2 or H.shape[-1] != H.shape[-2]:
        raise ValueError(f"{name}: H must be a symmetric matrix (*, n, n), got shape {tuple(H.shape)}")


def ridge(X, y, alpha):
    """Ridge regression's closed form w = (X^T X + alpha I)^{-1} X^T y (textbook 7.17).

    X (m, n), y (m,) or (m, k) -> w (n,) or (n, k); minimises ||X w - y||^2 + alpha ||w||^2. alpha = 0 gives the
    normal equations (7.16) and needs X^T X invertible; alpha > 0 always works (7.2.5)."""
    X = _t(X)
    y = _t(y, X)
    _check_alpha("ridge", alpha)
    if X.ndim != 2 or y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"ridge: expected X (m, n) and y (m,) or (m, k), got {tuple(X.shape)} and {tuple(y.shape)}")
    return solve(X.mT @ X + alpha * _eye(X.shape[1], X), X.mT @ y)


def ridge_operator(X, alpha):
    """The matrix (X^T X + alpha I)^{-1} X^T (n, m) of textbook 7.29; it tends to pinv(X) as alpha -> 0 (W7.5)."""
    X = _t(X)
    _check_alpha("ridge_operator", alpha)
    if X.ndim != 2:
        raise ValueError(f"ridge_operator: expected X (m, n), got shape {tuple(X.shape)}")
    return solve(X.mT @ X + alpha * _eye(X.shape[1], X), X.mT)


def l2_optimum(H, w_star, alpha):
    """The minimiser of J(w*) + 1/2 (w - w*)^T H (w - w*) + alpha/2 ||w||^2: w~ = (H + alpha I)^{-1} H w*
    (textbook 7.10). H (n, n) positive semi-definite, w* (n,) or (n, k)."""
    H = _t(H)
    w_star = _t(w_star, H)
    _square("l2_optimum", H)
    _check_alpha("l2_optimum", alpha)
    return solve(H + alpha * _eye(H.shape[-1], H), H @ w_star)


def eigen_shrinkage(H, alpha, w_star=None):
    """Weight decay in the eigenbasis of H = Q diag(lambda) Q^T (textbook 7.11-7.13): each component of w* along
    eigenvector q_i is scaled by lambda_i / (lambda_i + alpha).

    Returns ShrinkageResult(eigenvalues (ascending), eigenvectors Q, factors, w), with
    w = Q (Lambda + alpha I)^{-1} Lambda Q^T w* when ``w_star`` is given (else None)."""
    H = _t(H)
    _square("eigen_shrinkage", H)
    _check_alpha("eigen_shrinkage", alpha)
    lam, Q = eigh(H)
    f = l2_factors(lam, alpha)
    w = None
    if w_star is not None:
        w_star = _t(w_star, H)
        c = Q.mT @ w_star
        w = Q @ (f * c if c.ndim == f.ndim else f.unsqueeze(-1) * c)
    return ShrinkageResult(lam, Q, f, w)


def l2_factors(eigenvalues, alpha):
    """lambda / (lambda + alpha): the fraction of w* that L2 keeps along each eigendirection (textbook 7.13)."""
    lam = _t(eigenvalues)
    return lam / (lam + alpha)


def l1_optimum(h_diag, w_star, alpha):
    """The L1-penalised optimum for a diagonal Hessian: w_i = sign(w*_i) max(|w*_i| - alpha / H_ii, 0)
    (textbook 7.22-7.23). h_diag (n,) positive, w* (n,)."""
    from .proximal import soft_threshold

    h = _t(h_diag)
    w_star = _t(w_star, h)
    if h.shape != w_star.shape:
        raise ValueError(f"l1_optimum: h_diag {tuple(h.shape)} and w_star {tuple(w_star.shape)} must have one shape")
    return soft_threshold(w_star, alpha / h)


def early_stopping_factors(eigenvalues, lr, steps):
    """1 - (1 - lr lambda)^steps: the fraction of w* that ``steps`` steps of gradient descent from w = 0 reach
    along each eigendirection of the quadratic (textbook 7.8, Bishop 1995; compare ``l2_factors``)."""
    lam = _t(eigenvalues)
    return 1.0 - (1.0 - lr * lam) ** int(steps)


def equivalent_weight_decay(lr, steps):
    """alpha ~ 1 / (lr * steps): the weight decay that early stopping after ``steps`` steps imitates (textbook 7.8)."""
    if lr <= 0 or steps <= 0:
        raise ValueError(f"equivalent_weight_decay: lr and steps must be > 0, got {lr!r} and {steps!r}")
    return 1.0 / (lr * steps)


def gradient_descent_path(H, w_star, lr, steps, w0=None):
    """Run ``steps`` steps of w <- w - lr H (w - w*) (gradient descent on the quadratic 7.6) from w0 (default 0);
    returns the list of iterates w_0 ... w_steps (tensors)."""
    H = _t(H)
    w_star = _t(w_star, H)
    _square("gradient_descent_path", H)
    w = w_star * 0.0 if w0 is None else _t(w0, H)
    path = [w]
    for _ in range(int(steps)):
        w = w - lr * (H @ (w - w_star))
        path.append(w)
    return path


def dropout_ridge(X, y, keep_prob):
    """The minimiser of linear regression's expected loss under inverted input dropout (keep probability p):
    E_m ||y - (m * X / p) w||^2 = ||y - X w||^2 + ((1-p)/p) sum_i w_i^2 sum_n x_ni^2 (textbook 7.12, Wager et
    al. 2013), i.e. ridge with a per-feature coefficient: w = (X^T X + ((1-p)/p) diag(X^T X))^{-1} X^T y."""
    X = _t(X)
    y = _t(y, X)
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"dropout_ridge: keep_prob must be in (0, 1], got {keep_prob!r}")
    if X.ndim != 2 or y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"dropout_ridge: expected X (m, n) and y (m,) or (m, k), got {tuple(X.shape)} and {tuple(y.shape)}"
        )
    G = X.mT @ X
    c = (X * X).sum(dim=0) * ((1.0 - keep_prob) / keep_prob)
    return solve(G + c.unsqueeze(-1) * _eye(X.shape[1], X), X.mT @ y)


def separable_logistic_path(x, y, weight_decay=0.0, lr=0.5, steps=2000, record_every=100):
    """Logistic regression p(y=1|x) = sigmoid(w^T x + b) trained by full-batch SGD with L2 weight decay on w only
    (not on b, textbook 7.1). On separable data ||w|| grows without bound when weight_decay = 0 (textbook 7.2.5,
    line 773) and stops where the likelihood's slope equals the decay. x (m, n), y (m,) in {0, 1}.

    Returns (norms, w, b): ||w|| every ``record_every`` steps (a NumPy array, host) and the final parameters."""
    from .. import nn, optim
    from ..nn import functional as F

    x = _t(x)
    y = _t(y, x)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(
            f"separable_logistic_path: expected x (m, n) and y (m,), got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    w = nn.Parameter(x.new_zeros((x.shape[1],)))
    b = nn.Parameter(x.new_zeros(()))
    opt = optim.SGD([{"params": [w], "weight_decay": weight_decay}, {"params": [b], "weight_decay": 0.0}], lr=lr)
    norms = []
    for step in range(1, int(steps) + 1):
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x @ w + b, y)
        loss.backward()
        opt.step()
        if step % record_every == 0:
            norms.append(float(w.detach().norm().item()))
    return np.asarray(norms), w.detach(), b.detach()
