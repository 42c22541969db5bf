"""Newton's method (Textbook 8.6.1, Algorithm 8.8) with regularized (Levenberg-Marquardt) damping (8.28).

    theta <- theta - lr [H + alpha I]^{-1} g
H comes from double back-propagation. solver="direct" forms H (n Hessian-vector products; for models with up to
a few thousand parameters) and solves with Cholesky (no explicit inverse); if H + alpha I is not positive
definite (a saddle or a non-convex point) alpha is raised to 1.1 |lambda_min(H)| + max(alpha, 1e-8 max|H|) for
that step, so the step always descends (``ensure_descent=False`` turns that off: the pure, undamped Newton step
of 8.27, which jumps to any critical point, saddles included, textbook 8.2.3). solver="cg" (Newton-CG,
Hessian-free) solves the system by linear CG with Hessian-vector products only (stops at negative curvature).
``step(closure)``: the closure returns the loss *without* calling backward (Newton differentiates it twice itself).
"""
from __future__ import annotations

import numpy as np

from ..autograd.engine import grad as _grad
from ..autograd.grad_mode import enable_grad
from ..autograd.tensor import _wrap
from ..backend import device_of, namespace_of, to_device, to_host
from ._flat import FullBatchOptimizer
from .cg import linear_cg_iterations

__all__ = ["Newton"]


class Newton(FullBatchOptimizer):
    """Newton(params, lr=1, damping=0, solver="direct" | "cg", cg_max_iter=None, cg_tol=1e-10, ensure_descent=True)."""

    _closure_does = "returns the loss (without calling backward)"

    def __init__(self, params, lr=1.0, damping=0.0, solver="direct", cg_max_iter=None, cg_tol=1e-10,
                 ensure_descent=True):
        if damping < 0:
            raise ValueError(f"Newton: damping must be >= 0, got {damping}")
        if solver not in ("direct", "cg"):
            raise ValueError(f"Newton: solver must be 'direct' or 'cg', got {solver!r}")
        if not ensure_descent and solver != "direct":
            raise ValueError("Newton: ensure_descent=False needs solver='direct'")
        super().__init__(params, dict(lr=lr, damping=damping, solver=solver, cg_max_iter=cg_max_iter,
                                      cg_tol=cg_tol, ensure_descent=bool(ensure_descent)))

    def _grad_graph(self, closure):
        ps = self._flat.params
        with enable_grad():
            loss = closure()
            if not getattr(loss, "requires_grad", False):
                raise ValueError("Newton.step: the closure must return the loss Tensor with its graph "
                                 "(do not call backward or detach it)")
            try:
                gs = _grad(loss, ps, create_graph=True, allow_unused=True)
            except RuntimeError as e:
                if "second time" not in str(e):
                    raise
                raise ValueError("Newton.step: the closure called backward(), which freed the graph; Newton "
                                 "needs a closure that only returns the loss (it differentiates it twice)") from e
        return loss, gs


    def _flat_grad(self, closure):
        """(loss, per-parameter gradient graphs, the gradient as one flat array); also leaves it in p.grad."""
        fp = self._flat
        loss, gs = self._grad_graph(closure)
        xp = fp.xp
        g = xp.concatenate([xp.zeros(s, dtype=fp.dtype) if x is None else x._data.reshape(-1)
                            for x, s in zip(gs, fp.sizes)])
        for p, x in zip(fp.params, gs):
            p.grad = None if x is None else _wrap(x._data.copy())
        return loss, gs, g
    def _hvp(self, gs, v):
        ps, sizes = self._flat.params, self._flat.sizes
        with enable_grad():
            dot, o = None, 0
            for g, p, s in zip(gs, ps, sizes):
                if g is not None:
                    term = (g * _wrap(v[o:o + s].reshape(p.shape).astype(p._data.dtype))).sum()
                    dot = term if dot is None else dot + term
                o += s
            xp = namespace_of(v)
            if dot is None or not dot.requires_grad:
                return xp.zeros(self._flat.n, dtype=self._flat.dtype)
            hs = _grad(dot, ps, retain_graph=True, allow_unused=True)
        return xp.concatenate([xp.zeros(s) if h is None else h._data.reshape(-1) for h, s in zip(hs, sizes)])

    def hessian(self, gs):
        """The full Hessian (n x n) from the gradient graph `gs` (n Hessian-vector products with unit vectors)."""
        n, xp = self._flat.n, self._flat.xp
        H = xp.empty((n, n), dtype=self._flat.dtype)
        e = xp.zeros(n, dtype=self._flat.dtype)
        for i in range(n):
            e[i] = 1.0
            H[i] = self._hvp(gs, e)
            e[i] = 0.0
        return (H + H.T) / 2

    def step(self, closure):
        """One damped Newton step; returns the loss before it. Also leaves the gradient in p.grad."""
        fp, group, st = self._start(closure)
        loss, gs, g = self._flat_grad(closure)
        st["n_iter"] = st.get("n_iter", 0) + 1
        alpha = group["damping"]
        if group["solver"] == "direct":
            H = self.hessian(gs)
            d, used = _damped_solve(H, g, alpha, group.get("ensure_descent", True))
        else:
            d, used = _newton_cg(lambda v: self._hvp(gs, v) + alpha * v, g, group["cg_max_iter"] or fp.n,
                                 group["cg_tol"]), alpha
        st["damping_used"] = used
        fp.add_(group["lr"], d)
        return loss


def _damped_solve(H, g, alpha, ensure_descent=True):
    """Solve (H + alpha I) d = -g by Cholesky, raising alpha where H + alpha I is not positive definite.

    On the host, also for device arrays (copied over and the step copied back): the fallback needs
    Cholesky to report a matrix that is not positive definite, which CuPy's cholesky does not do by
    default (it returns NaNs), and the eigenvalue it then needs is one more LAPACK call. H is formed
    from n Hessian-vector products anyway, so the O(n^2) copy is small next to that."""
    dev = device_of(H)
    if dev.type != "cpu":
        d, alpha = _damped_solve(to_host(H), to_host(g), alpha, ensure_descent)
        return to_device(d, dev), alpha
    n = H.shape[0]
    I = np.eye(n, dtype=H.dtype)
    if not ensure_descent:  # the plain Newton step, whatever the curvature's sign (singular H: least squares)
        return np.linalg.lstsq(H + alpha * I, -g, rcond=None)[0], alpha
    try:
        L = np.linalg.cholesky(H + alpha * I)
    except np.linalg.LinAlgError:
        lam_min = float(np.linalg.eigvalsh(H)[0])
        alpha = 1.1 * abs(min(lam_min, 0.0)) + max(alpha, 1e-8 * max(1.0, float(np.max(np.abs(H)))))
        L = np.linalg.cholesky(H + alpha * I)
    y = np.linalg.solve(L, -g)
    return np.linalg.solve(L.T, y), alpha


def _newton_cg(mv, g, max_iter, tol):
    """Truncated CG on H d = -g from d = 0; stops at negative curvature (returns -g on the first iteration)."""
    r = -g
    stop = tol * max(float(np.sqrt(float(r @ r))), 1e-300)
    x, k, curvature = linear_cg_iterations(mv, namespace_of(g).zeros_like(g), r, stop, max_iter)
    return -g if curvature is not None and k == 0 else x
