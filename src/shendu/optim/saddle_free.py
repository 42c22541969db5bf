"""Saddle-free Newton (Textbook 8.2.3, Dauphin et al. 2014): Newton's step with |H| in place of H.

    H = Q diag(lambda) Q^T,   |H| = Q diag(|lambda|) Q^T,   theta <- theta - lr (|H| + damping I)^{-1} g
Along a direction of negative curvature the step goes downhill instead of toward the saddle (plain Newton
is attracted to any critical point, 8.2.3). H comes from double back-propagation as in ``Newton`` (n
Hessian-vector products: small models). The eigendecomposition runs on the host (one LAPACK call; H is
n x n and formed from n HVPs anyway), the step is copied back to the parameters' device.
"""
from __future__ import annotations

from ..backend import to_host
from .newton import Newton

__all__ = ["SaddleFreeNewton"]


class SaddleFreeNewton(Newton):
    """SaddleFreeNewton(params, lr=1, damping=1e-4): theta <- theta - lr (|H| + damping I)^{-1} g.
    ``step(closure)``: the closure returns the loss without calling backward."""

    def __init__(self, params, lr=1.0, damping=1e-4):
        if lr <= 0:
            raise ValueError(f"SaddleFreeNewton: lr must be > 0, got {lr}")
        if damping < 0:
            raise ValueError(f"SaddleFreeNewton: damping must be >= 0, got {damping}")
        super().__init__(params, lr=lr, damping=damping)

    def step(self, closure):
        """One saddle-free Newton step; returns the loss before it. Leaves the gradient in p.grad and the
        Hessian's eigenvalues in ``state[...]["eigenvalues"]``."""
        fp, group, st = self._start(closure)
        loss, gs, g = self._flat_grad(closure)
        xp = fp.xp
        H = self.hessian(gs).astype(xp.float64)
        lam, Q = xp.linalg.eigh(H)  # |H| = Q |Lambda| Q^T, on the parameters' device
        d = -(Q @ ((Q.T @ g.astype(xp.float64)) / (xp.abs(lam) + group["damping"])))
        st["n_iter"] = st.get("n_iter", 0) + 1
        st["eigenvalues"] = to_host(lam)
        fp.add_(group["lr"], d.astype(fp.dtype))
        return loss
