"""L-BFGS (Textbook 8.6.3, limited-memory BFGS): two-loop recursion over the last `history_size` pairs
s = x_{k+1} - x_k, y = g_{k+1} - g_k, with H_0 = (s.y / y.y) I; optional strong-Wolfe line search.

Same algorithm and options as ``torch.optim.LBFGS`` (its trajectories agree): ``step(closure)`` runs up to
``max_iter`` iterations; the closure zeroes the gradients, computes the loss, calls backward, returns the loss.
"""
from __future__ import annotations

from ._flat import FullBatchOptimizer
from .line_search import strong_wolfe

__all__ = ["LBFGS"]


class LBFGS(FullBatchOptimizer):
    """LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
    history_size=100, line_search_fn=None or "strong_wolfe")."""

    _groups_word = "per-parameter options (parameter groups)"

    def __init__(self, params, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if lr < 0:
            raise ValueError(f"LBFGS: invalid learning rate {lr} (expected >= 0)")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))

    def step(self, closure):
        """Up to max_iter L-BFGS iterations; returns the loss at the start."""
        fp, group, state = self._start(closure)
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        ls_fn, hist = group["line_search_fn"], group["history_size"]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss, loss, g = self._loss_and_grad(closure)
        evals = 1
        state["func_evals"] += 1
        xp = fp.xp
        if float(xp.max(xp.abs(g))) <= tol_grad:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_g, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                old_dirs, old_stps, ro, H_diag = [], [], [], 1.0
            else:
                y = g - prev_g
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    if len(old_dirs) == hist:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)
                k = len(old_dirs)
                al = [0.0] * k
                q = -g
                for i in range(k - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                r = q * H_diag
                for i in range(k):
                    be = float(old_dirs[i] @ r) * ro[i]
                    r = r + (al[i] - be) * old_stps[i]
                d = r
            prev_g = g.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(xp.abs(g).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(g @ d)
            if gtd > -tol_change:
                break
            ls_evals = 0
            if ls_fn is not None:
                x0 = fp.clone()
                loss, g, t, ls_evals = strong_wolfe(lambda x, tt, dd: fp.directional_evaluate(closure, x, tt, dd),
                                                    x0, t, d, loss, g, gtd, max_ls=max_eval - evals)
                fp.add_(t, d)
                opt_cond = float(xp.max(xp.abs(g))) <= tol_grad
            else:
                fp.add_(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss, g = fp.evaluate(closure)
                    opt_cond = float(xp.max(xp.abs(g))) <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if float(xp.max(xp.abs(d * t))) <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag, prev_flat_grad=prev_g,
                     prev_loss=prev_loss)
        return orig_loss
