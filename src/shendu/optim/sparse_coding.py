"""Sparse coding by alternating (block coordinate) minimisation (Textbook 8.7.2, eq. 8.38):

    J(H, W) = lam sum_ij |H_ij| + sum_ij (X - H W)_ij^2        X (N, d), codes H (N, k), dictionary W (k, d)
(the book writes X - W^T H with examples as columns). J is not jointly convex but convex in H for fixed W and in
W for fixed H, so the blocks are minimised in turn:
    H-step: ISTA, H <- soft_threshold(H - (1/L) 2 (H W - X) W^T, lam / L), L = 2 ||W W^T||_2 (monotone)
    W-step: least squares W = (H^T H + ridge I)^{-1} H^T X, or with ``max_norm`` (rows of W kept in the ball
            ||W_i|| <= max_norm, the usual guard against tiny H and huge W) projected gradient steps with 1/L.
Runs on the device of X (array namespace); returns (H, W, history of J after each block).
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, _wrap
from ..backend import device_of, generator_for, namespace_of, to_device

__all__ = ["sparse_coding", "sparse_coding_objective"]


def sparse_coding_objective(X, H, W, lam):
    """J(H, W) = lam ||H||_1 + ||X - H W||_F^2 (Textbook 8.38), a float."""
    X, H, W = (a._data if isinstance(a, Tensor) else a for a in (X, H, W))
    xp = namespace_of(X)
    R = X - H @ W
    return float(lam * xp.abs(H).sum() + (R * R).sum())


def _spectral_sq(A, xp, iters=30):
    """||A A^T||_2 = sigma_max(A)^2 by power iteration (an upper estimate: times 1.01)."""
    v = xp.ones(A.shape[0], dtype=A.dtype) / np.sqrt(A.shape[0])
    s = 0.0
    for _ in range(iters):
        u = A @ (A.T @ v)
        s = float(xp.sqrt((u * u).sum()))
        if s == 0:
            return 0.0
        v = u / s
    return 1.01 * s


def sparse_coding(X, n_atoms: int, lam: float = 0.1, n_iter: int = 30, h_steps: int = 20, w_steps: int = 20,
                  max_norm: float | None = 1.0, ridge: float = 1e-8, W0=None, seed=None):
    """Alternating minimisation of J(H, W) (Textbook 8.38). X: (N, d) Tensor/array; returns Tensors
    H (N, n_atoms), W (n_atoms, d) and the list of J values (two per outer iteration: after H, after W)."""
    Xa = X._data if isinstance(X, Tensor) else X
    if not hasattr(Xa, "ndim") or Xa.ndim != 2:
        raise ValueError(f"sparse_coding: X must be 2-d (N, d), got {getattr(Xa, 'shape', type(X).__name__)}")
    if not (isinstance(n_atoms, int) and n_atoms >= 1) or lam < 0:
        raise ValueError(f"sparse_coding: need n_atoms >= 1 and lam >= 0, got n_atoms={n_atoms!r}, lam={lam!r}")
    xp = namespace_of(Xa)
    dt = Xa.dtype if Xa.dtype.kind == "f" else np.float64
    Xa = Xa.astype(dt, copy=False)
    N, d = Xa.shape
    if W0 is None:
        if seed is not None:
            W = to_device(np.random.default_rng(seed).normal(size=(n_atoms, d)).astype(dt), device_of(Xa))
        else:
            W = generator_for(Xa).standard_normal((n_atoms, d), dtype=np.float64).astype(dt)
        W = W / xp.sqrt((W * W).sum(axis=1, keepdims=True))
    else:
        W = (W0._data if isinstance(W0, Tensor) else W0).astype(dt, copy=True)
    H = xp.zeros((N, n_atoms), dtype=dt)
    hist = []
    for _ in range(n_iter):
        L = 2 * _spectral_sq(W, xp)
        if L > 0:
            for _ in range(h_steps):  # ISTA on the convex H-problem
                Z = H - (2.0 / L) * ((H @ W - Xa) @ W.T)
                H = xp.sign(Z) * xp.maximum(xp.abs(Z) - lam / L, 0)
        hist.append(sparse_coding_objective(Xa, H, W, lam))
        if max_norm is None:  # exact least squares
            from ..linalg import solve

            G = H.T @ H + ridge * xp.eye(n_atoms, dtype=dt)
            W = solve(_wrap(G), _wrap(H.T @ Xa))._data
        else:
            Lw = 2 * _spectral_sq(H.T, xp)
            if Lw > 0:
                for _ in range(w_steps):  # projected gradient on the convex W-problem
                    W = W - (2.0 / Lw) * (H.T @ (H @ W - Xa))
                    nrm = xp.sqrt((W * W).sum(axis=1, keepdims=True))
                    W = W * xp.minimum(1.0, max_norm / xp.maximum(nrm, 1e-12))
        hist.append(sparse_coding_objective(Xa, H, W, lam))
    return _wrap(H), _wrap(W), hist
