"""Scaled conjugate gradient (Textbook 8.6.2, named only; Møller 1993): conjugate directions without a line
search. The step length along p comes from the curvature p^T H p, estimated by a finite difference of
gradients s = (g(w + sigma p) - g(w)) / sigma, made positive by a Levenberg-Marquardt scale lambda that is
raised or lowered from the ratio Delta of actual to predicted decrease (Møller's algorithm, steps 1-9):

    delta = p.s + lambda |p|^2 (if <= 0: lambda <- 2 (lambda - delta/|p|^2), delta = -delta + lambda |p|^2)
    mu = -p.g,  alpha = mu / delta,   Delta = 2 delta (E(w) - E(w + alpha p)) / mu^2
    Delta >= 0: accept w <- w + alpha p; r = -g_new; beta = (|r|^2 - r.r_old) / mu (restart every n steps)
    Delta >= 0.75: lambda <- lambda / 4;   Delta < 0.25: lambda <- lambda + delta (1 - Delta) / |p|^2
On a quadratic with lambda -> 0 it is linear CG (exact steps): n iterations for n parameters.
"""
from __future__ import annotations

from ._flat import FullBatchOptimizer

__all__ = ["ScaledConjugateGradient"]


class ScaledConjugateGradient(FullBatchOptimizer):
    """ScaledConjugateGradient(params, sigma0=1e-4, lambda0=1e-6, max_iter=20, tolerance_grad=1e-7).
    ``step(closure)`` runs up to max_iter iterations; the closure zeroes grads, computes the loss, calls backward."""

    _closure_does = "computes the loss and calls backward"

    def __init__(self, params, sigma0=1e-4, lambda0=1e-6, max_iter=20, tolerance_grad=1e-7):
        if sigma0 <= 0 or lambda0 <= 0:
            raise ValueError(f"ScaledConjugateGradient: sigma0 and lambda0 must be > 0, got {sigma0}, {lambda0}")
        super().__init__(params, dict(sigma0=sigma0, lambda0=lambda0, max_iter=max_iter,
                                      tolerance_grad=tolerance_grad))

    def step(self, closure):
        fp, group, st = self._start(closure)
        f, g = fp.evaluate(closure)
        orig = f
        if "p" not in st:
            st.update(p=-g, lam=group["lambda0"], lam_bar=0.0, success=True, k=0, n_iter=0)
        p, lam, lam_bar, success = st["p"], st["lam"], st["lam_bar"], st["success"]
        r = -g
        n = fp.n
        delta = st.get("delta", 0.0)
        for _ in range(group["max_iter"]):
            if float(abs(r).max()) <= group["tolerance_grad"]:
                break
            pp = float(p @ p)
            if success:
                sigma = group["sigma0"] / pp ** 0.5
                _, g_s = fp.directional_evaluate(closure, fp.clone(), sigma, p)
                delta = float(p @ (g_s + r)) / sigma  # p^T H p  (g_s - g = g_s + r)
            delta += (lam - lam_bar) * pp
            if delta <= 0:
                lam_bar = 2 * (lam - delta / pp)
                delta = -delta + lam * pp
                lam = lam_bar
            mu = float(p @ r)
            alpha = mu / delta
            f_new, g_new = fp.directional_evaluate(closure, fp.clone(), alpha, p)
            Delta = 2 * delta * (f - f_new) / mu ** 2
            st["n_iter"] += 1
            if Delta >= 0:
                fp.add_(alpha, p)
                r_new = -g_new
                f = f_new
                lam_bar, success = 0.0, True
                st["k"] += 1
                if st["k"] % n == 0:
                    p = r_new.copy()
                else:
                    beta = (float(r_new @ r_new) - float(r_new @ r)) / mu
                    p = r_new + beta * p
                r = r_new
                if Delta >= 0.75:
                    lam = lam / 4
            else:
                lam_bar, success = lam, False
            if Delta < 0.25:
                lam = lam + delta * (1 - Delta) / pp
        fp.evaluate(closure)  # leave the final gradient in p.grad
        st.update(p=p, lam=lam, lam_bar=lam_bar, success=success, delta=delta, loss=f)
        return orig
