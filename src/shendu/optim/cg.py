"""Conjugate gradients (Textbook 8.6.2, Algorithm 8.9).

``conjugate_gradient(A, b)``: linear CG for A x = b with A symmetric positive definite (a matrix or a
matvec callable, e.g. a Hessian-vector product); exact arithmetic converges in at most n iterations.

``NonlinearCG``: d_t = -g_t + beta_t d_{t-1} (the book's (8.29) has the sign of g flipped) with
Fletcher-Reeves beta = g_t.g_t / g_{t-1}.g_{t-1} (8.30), Polak-Ribiere beta = (g_t - g_{t-1}).g_t / g_{t-1}.g_{t-1}
(8.31), or "PR+" = max(0, PR) (default); beta_1 = 0 (the book's 0/0), restart (beta = 0) every `restart`
iterations (default: number of parameters) and whenever d is not a descent direction.
Line search: "strong_wolfe" (c2 = 0.1 by default, as CG needs) or "exact" (one secant step on the directional
derivative: eps* = -g.d / d^T H d with d^T H d = g(x + d).d - g.d, exact on quadratics).
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import namespace_of
from ._flat import FullBatchOptimizer
from .line_search import strong_wolfe

__all__ = ["conjugate_gradient", "NonlinearCG"]


def linear_cg_iterations(mv, x, r, stop, max_iter, callback=None):
    """The linear CG loop (Algorithm 8.9 on a quadratic): from x with residual r = b - A x (both updated in
    place), while ||r|| > stop and fewer than max_iter iterations:
        a = r.r / d.Ad;  x <- x + a d;  r <- r - a Ad;  d <- r + (r_new.r_new / r.r) d     (d_0 = r_0)
    Returns (x, iterations, curvature): curvature is None, or the value d.Ad <= 0 met (A not positive definite
    along d), x then being the iterate before it. Used by ``conjugate_gradient`` and Newton-CG."""
    d = r.copy()
    rr = float(r @ r)
    k = 0
    while k < max_iter and math.sqrt(rr) > stop:
        Ad = mv(d)
        dAd = float(d @ Ad)
        if dAd <= 0:
            return x, k, dAd
        a = rr / dAd
        x += a * d
        r -= a * Ad
        rr_new = float(r @ r)
        d = r + (rr_new / rr) * d
        rr = rr_new
        k += 1
        if callback is not None:
            callback(x)
    return x, k, None


def conjugate_gradient(A, b, x0=None, tol=1e-10, max_iter=None, callback=None):
    """Solve A x = b (A SPD, (n, n) array or callable v -> A v) by linear CG; returns (x, iterations).
    Stops when ||r|| <= tol * ||b|` or after max_iter (default n) iterations; callback(x) after each."""
    xp = namespace_of(b) if callable(A) else namespace_of(b, A)  # b (and a matrix A) on the host or a device
    b = xp.asarray(b)
    b = b.astype(np.result_type(b.dtype, np.float32), copy=False)
    if b.ndim != 1:
        raise ValueError(f"conjugate_gradient: b must be a vector, got shape {b.shape}")
    if not callable(A):
        A = xp.asarray(A)
        if A.shape != (b.size, b.size):
            raise ValueError(f"conjugate_gradient: A has shape {A.shape}, expected ({b.size}, {b.size})")
    mv = A if callable(A) else (lambda v, A=A: A @ v)
    x = xp.zeros_like(b) if x0 is None else xp.array(x0, dtype=b.dtype)
    stop = tol * max(float(xp.linalg.norm(b)), np.finfo(b.dtype).tiny)
    x, k, dAd = linear_cg_iterations(mv, x, b - mv(x), stop, b.size if max_iter is None else max_iter, callback)
    if dAd is not None:
        raise ValueError(f"conjugate_gradient: A is not positive definite (d^T A d = {dAd:.3g})")
    return x, k


class NonlinearCG(FullBatchOptimizer):
    """NonlinearCG(params, lr=1, beta="PR+" | "PR" | "FR", restart=None, max_iter=20, line_search="strong_wolfe"
    | "exact", c2=0.1, tolerance_grad=1e-7, tolerance_change=1e-9). step(closure) runs up to max_iter iterations."""

    def __init__(self, params, lr=1.0, beta="PR+", restart=None, max_iter=20, line_search="strong_wolfe", c2=0.1,
                 tolerance_grad=1e-7, tolerance_change=1e-9, max_ls=25):
        if beta not in ("PR+", "PR", "FR"):
            raise ValueError(f"NonlinearCG: beta must be 'PR+', 'PR' or 'FR', got {beta!r}")
        if line_search not in ("strong_wolfe", "exact"):
            raise ValueError(f"NonlinearCG: line_search must be 'strong_wolfe' or 'exact', got {line_search!r}")
        super().__init__(params, dict(lr=lr, beta=beta, restart=restart, max_iter=max_iter, line_search=line_search,
                                      c2=c2, tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                                      max_ls=max_ls))

    def step(self, closure):
        """Up to max_iter CG iterations (Algorithm 8.9); returns the loss at the start."""
        fp, group, st = self._start(closure)
        st.setdefault("n_iter", 0)
        restart = group["restart"] or fp.n
        orig, loss, g = self._loss_and_grad(closure)
        xp = fp.xp

        def obj(x, t, d):
            return fp.directional_evaluate(closure, x, t, d)

        for _ in range(group["max_iter"]):
            if float(xp.max(xp.abs(g))) <= group["tolerance_grad"]:
                break
            d_prev, g_prev = st.get("d"), st.get("prev_flat_grad")
            if d_prev is None or st["n_iter"] % restart == 0:
                beta = 0.0
            else:
                gg = float(g_prev @ g_prev)
                beta = float(g @ g) / gg if group["beta"] == "FR" else float((g - g_prev) @ g) / gg
                if group["beta"] == "PR+":
                    beta = max(beta, 0.0)
            d = -g if beta == 0.0 else -g + beta * d_prev
            gtd = float(g @ d)
            if not gtd < 0:
                d, gtd = -g, -float(g @ g)
            st["n_iter"] += 1
            x0 = fp.clone()
            if group["line_search"] == "exact":
                _, g1 = obj(x0, 1.0, d)
                curv = float(g1 @ d) - gtd
                t = -gtd / curv if curv > 0 else group["lr"]
                fp.add_(t, d)
                f_new, g_new = fp.evaluate(closure)
            else:
                t0 = group["lr"] * (min(1.0, 1.0 / float(xp.abs(g).sum())) if d_prev is None else 1.0)
                if d_prev is not None and st.get("t") is not None:  # t0 = t_prev g_prev.d_prev / g.d (N&W 3.60)
                    t0 = max(st["t"] * float(g_prev @ d_prev) / gtd, 1e-12)
                f_new, g_new, t, _ = strong_wolfe(obj, x0, t0, d, loss, g, gtd, c2=group["c2"],
                                                  max_ls=group["max_ls"])
                fp.add_(t, d)
            st.update(d=d, prev_flat_grad=g.copy(), t=t)
            tol = group["tolerance_change"]
            done = abs(f_new - loss) < tol or float(xp.max(xp.abs(t * d))) <= tol
            loss, g = f_new, g_new
            if done:
                break
        return orig
