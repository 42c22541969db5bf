"""BFGS (Textbook 8.6.3): quasi-Newton with a dense inverse-Hessian estimate M and a line search.

d = -M g (the book's rho_t = M_t g_t lacks the minus sign); x <- x + eps* d with eps* from a strong-Wolfe search;
with s = x_{k+1} - x_k, y = g_{k+1} - g_k, rho = 1 / (y.s) (update skipped unless y.s > 1e-10):
    M <- (I - rho s y^T) M (I - rho y s^T) + rho s s^T,    M_0 = (y.s / y.y) I before the first update.
O(n^2) memory: for models with up to a few thousand parameters. ``step(closure)`` runs up to max_iter iterations.
line_search_fn="exact": the exact minimiser along d for a quadratic, t* = -g.d / d^T H d with H d measured by the
gradient difference g(x + d) - g(x) (one extra evaluation); with it BFGS converges in <= n steps on an n-dim
quadratic and M_n = H^{-1} (Textbook 8.6.3, W8.14). On other losses it is a one-step secant estimate.
"""
from __future__ import annotations

from ._flat import FullBatchOptimizer
from .line_search import backtracking, strong_wolfe

__all__ = ["BFGS"]


class BFGS(FullBatchOptimizer):
    """BFGS(params, lr=1, max_iter=20, tolerance_grad=1e-7, tolerance_change=1e-9,
    line_search_fn="strong_wolfe" | "backtracking" | None, max_ls=25)."""

    def __init__(self, params, lr=1.0, max_iter=20, tolerance_grad=1e-7, tolerance_change=1e-9,
                 line_search_fn="strong_wolfe", max_ls=25):
        if lr <= 0:
            raise ValueError(f"BFGS: invalid learning rate {lr} (expected > 0)")
        if line_search_fn not in (None, "strong_wolfe", "backtracking", "exact"):
            raise ValueError(f"BFGS: line_search_fn must be None, 'strong_wolfe', 'backtracking' or 'exact', "
                             f"got {line_search_fn!r}")
        super().__init__(params, dict(lr=lr, max_iter=max_iter, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, line_search_fn=line_search_fn,
                                      max_ls=max_ls))

    def step(self, closure):
        """Up to max_iter BFGS iterations; returns the loss at the start."""
        fp, group, st = self._start(closure)
        st.setdefault("n_iter", 0)
        st.setdefault("func_evals", 0)
        xp = fp.xp
        if "M" not in st:
            st["M"] = xp.eye(fp.n, dtype=fp.dtype)
            st["updated"] = False
        M = st["M"]
        orig, loss, g = self._loss_and_grad(closure)
        st["func_evals"] += 1
        ls = group["line_search_fn"]

        def obj(x, t, d):
            return fp.directional_evaluate(closure, x, t, d)

        for _ in range(group["max_iter"]):
            if float(xp.max(xp.abs(g))) <= group["tolerance_grad"]:
                break
            d = -(M @ g)
            gtd = float(g @ d)
            if not gtd < 0:  # lost positive definiteness (rounding): restart from steepest descent
                M[...] = xp.eye(fp.n)
                st["updated"] = False
                d = -g
                gtd = float(g @ d)
            t = group["lr"] * (min(1.0, 1.0 / float(xp.abs(g).sum())) if st["n_iter"] == 0 else 1.0)
            st["n_iter"] += 1
            if ls == "strong_wolfe":
                f_new, g_new, t, ev = strong_wolfe(obj, fp.clone(), t, d, loss, g, gtd, max_ls=group["max_ls"])
            elif ls == "exact":
                _, g_one = obj(fp.clone(), 1.0, d)
                dHd = float((g_one - g) @ d)
                if not dHd > 0:
                    break  # no positive curvature along d: the quadratic model has no minimiser
                t = -gtd / dHd
                f_new, g_new = obj(fp.clone(), t, d)
                ev = 2
            elif ls == "backtracking":
                f_new, g_new, t, ev = backtracking(obj, fp.clone(), t, d, loss, g, gtd, max_ls=group["max_ls"])
            else:
                f_new, g_new = obj(fp.clone(), t, d)
                ev = 1
            st["func_evals"] += ev
            if t == 0:
                break
            fp.add_(t, d)
            s, y = t * d, g_new - g
            ys = float(y @ s)
            if ys > 1e-10:
                if not st["updated"]:
                    M[...] = xp.eye(fp.n) * (ys / float(y @ y))
                    st["updated"] = True
                rho = 1.0 / ys
                My = M @ y
                M += rho * ((1.0 + rho * float(y @ My)) * xp.outer(s, s) - xp.outer(My, s) - xp.outer(s, My))
            tol = group["tolerance_change"]
            done = abs(f_new - loss) < tol or float(xp.max(xp.abs(s))) <= tol
            loss, g = f_new, g_new
            if done:
                break
        st["loss"] = loss
        return orig
