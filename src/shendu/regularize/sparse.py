"""Sparse representations (textbook 7.10): penalties on a module's activations h instead of its parameters,
J~ = J + alpha Omega(h) (eq. 7.48), collected through forward hooks; and orthogonal matching pursuit (OMP-k).

Each activity penalty registers a forward hook on ``module``; calling the penalty (``pen()`` or ``pen(model)``,
the form ``fit(regularizers=...)`` uses) returns the penalty of the module's LAST forward output as a scalar
Tensor connected to the graph (add it to the loss); ``pen.remove()`` removes the hook. Per-example penalties are
averaged over the batch (first axis), as the loss J is."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor, _wrap
from ..backend import namespace_of, to_host
from ..nn.module import Module
from ..ops import abs as _abs
from ..ops import clamp, log, log1p


class _ActivityPenalty:
    """Base: hooks ``module`` and keeps its last output (a tuple output: its first element)."""

    name = "ActivityPenalty"

    def __init__(self, module: Module):
        if not isinstance(module, Module):
            raise TypeError(f"{self.name}: expected a Module to watch, got {type(module).__name__}")
        self.module = module
        self._out = None
        self._handle = module.register_forward_hook(self._hook)

    def _hook(self, module, inputs, out):
        self._out = out[0] if isinstance(out, (tuple, list)) else out

    @property
    def activations(self) -> Tensor | None:
        """The module's last output (None before the first forward)."""
        return self._out

    def __call__(self, model=None) -> Tensor:
        h = self._out
        if h is None:
            raise RuntimeError(f"{self.name}: the watched {type(self.module).__name__} has not run a forward pass yet")
        return self.penalty(h)

    def penalty(self, h: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def remove(self) -> None:
        """Remove the forward hook (and forget the last activations)."""
        self._handle.remove()
        self._out = None

    @staticmethod
    def _batch(h: Tensor) -> int:
        return int(h.shape[0]) if h.ndim > 1 else 1


class _WeightedActivityPenalty(_ActivityPenalty):
    """Base of the penalties alpha Omega(h) with one weight alpha >= 0 (default 0.01)."""

    def __init__(self, module: Module, alpha: float = 0.01):
        if alpha < 0:
            raise ValueError(f"{self.name}: alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        super().__init__(module)


class ActivityL1(_WeightedActivityPenalty):
    """Omega(h) = alpha ||h||_1 = alpha sum_i |h_i| per example, averaged over the batch (textbook 7.10, eq. 7.48;
    Keras ``ActivityRegularization(l1=alpha)``). Subgradient alpha sign(h) / N."""

    name = "ActivityL1"

    def penalty(self, h):
        return _abs(h).sum() * (self.alpha / self._batch(h))


class ActivityStudentT(_WeightedActivityPenalty):
    """Student-t sparsity penalty alpha sum_i log(1 + h_i^2) per example, averaged over the batch (textbook 7.10;
    Olshausen & Field 1996: the negative log of a Cauchy / Student-t prior, up to constants)."""

    name = "ActivityStudentT"

    def penalty(self, h):
        return log1p(h * h).sum() * (self.alpha / self._batch(h))


StudentT = ActivityStudentT


def _rho_hat(h: Tensor, who: str) -> Tensor:
    """Mean activation of each unit over the batch, checked to lie in [0, 1]."""
    a = h._data
    if a.size:
        xp = namespace_of(a)
        lo, hi = float(to_host(xp.min(a))), float(to_host(xp.max(a)))
        if lo < 0 or hi > 1:
            raise ValueError(
                f"{who}: activations must lie in [0, 1] (e.g. sigmoid units), got range [{lo:.4g}, {hi:.4g}]"
            )
    return h.mean(0) if h.ndim > 1 else h


class ActivityKL(_ActivityPenalty):
    """Sparse-autoencoder KL penalty beta sum_j KL(rho || rho^_j), rho^_j = mean over the batch of h_j in [0, 1]:
    KL = rho log(rho/rho^_j) + (1-rho) log((1-rho)/(1-rho^_j)) (textbook 7.10, Larochelle & Bengio 2008; the
    formula is Ng's sparse-autoencoder notes). rho^ is clipped to [eps, 1-eps]. Target rho = 0.01 (the book's)."""

    name = "ActivityKL"

    def __init__(self, module: Module, rho: float = 0.01, beta: float = 1.0, eps: float = 1e-6):
        if not 0.0 < rho < 1.0:
            raise ValueError(f"ActivityKL: target rho must be in (0, 1), got {rho}")
        if beta < 0:
            raise ValueError(f"ActivityKL: beta must be >= 0, got {beta}")
        self.rho, self.beta, self.eps = float(rho), float(beta), float(eps)
        super().__init__(module)

    def penalty(self, h):
        r = clamp(_rho_hat(h, self.name), self.eps, 1.0 - self.eps)
        rho = self.rho
        kl = (log(r) * (-rho) + log(1.0 - r) * (-(1.0 - rho))) + (rho * math.log(rho) + (1 - rho) * math.log(1 - rho))
        return kl.sum() * self.beta


class MeanActivationTarget(_ActivityPenalty):
    """alpha sum_j (mean_i h_ij - target)^2: pull each unit's average activation toward ``target`` (textbook 7.10:
    e.g. 0.01 for every entry, Lee et al. 2008)."""

    name = "MeanActivationTarget"

    def __init__(self, module: Module, target: float = 0.01, alpha: float = 1.0):
        if alpha < 0:
            raise ValueError(f"MeanActivationTarget: alpha must be >= 0, got {alpha}")
        self.target, self.alpha = float(target), float(alpha)
        super().__init__(module)

    def penalty(self, h):
        m = h.mean(0) if h.ndim > 1 else h
        d = m - self.target
        return (d * d).sum() * self.alpha


def omp(D, x, k: int) -> Tensor:
    """Orthogonal matching pursuit, OMP-k (textbook 7.10; Pati et al. 1993): greedily approximates
    argmin_{h, ||h||_0 <= k} ||x - D h||^2. Each step adds the atom (column of D) most correlated with the
    residual, |d_j^T r| / ||d_j||, then refits h on the chosen atoms by least squares.

    D: (d, m) dictionary (the book's W), x: (d,) or (N, d) -> h: (m,) or (N, m), at most k nonzeros per row.
    For orthonormal D this keeps the k largest |D^T x| (W7.10: D = I, x = (0.2, -3, 1), k = 1 -> (0, -3, 0)).
    Not differentiable (a sparse-coding procedure); runs on the inputs' device."""
    Da = D._data if isinstance(D, Tensor) else np.asarray(D)
    xa = x._data if isinstance(x, Tensor) else np.asarray(x)
    if Da.ndim != 2 or xa.ndim not in (1, 2) or xa.shape[-1] != Da.shape[0]:
        raise ValueError(f"omp: expected D (d, m) and x (d,) or (N, d), got D {tuple(Da.shape)}, x {tuple(xa.shape)}")
    d, m = Da.shape
    if int(k) != k or not 1 <= k <= min(d, m):
        raise ValueError(f"omp: k must be an integer in [1, min(d, m) = {min(d, m)}], got {k}")
    k = int(k)
    if Da.dtype.kind != "f":
        Da = Da.astype(np.float64)
    xa = xa.astype(Da.dtype, copy=False) if xa.dtype != Da.dtype else xa
    xp = namespace_of(Da)
    X = xa.reshape(1, -1) if xa.ndim == 1 else xa
    norms = xp.sqrt((Da * Da).sum(axis=0))
    norms = xp.where(norms > 0, norms, Da.dtype.type(1))
    H = xp.zeros((X.shape[0], m), dtype=Da.dtype)
    for i in range(X.shape[0]):
        xi = X[i]
        r = xi
        support: list[int] = []
        for _ in range(k):
            score = xp.abs(Da.T @ r) / norms
            if support:
                score[xp.asarray(np.asarray(support))] = -1  # never pick an atom twice
            j = int(to_host(xp.argmax(score)))
            if float(to_host(score[j])) <= 0 and support:
                break  # residual already orthogonal to every remaining atom
            support.append(j)
            S = Da[:, xp.asarray(np.asarray(support))]
            coef = xp.linalg.lstsq(S, xi, rcond=None)[0]
            r = xi - S @ coef
        H[i, xp.asarray(np.asarray(support))] = coef
    return _wrap(H.reshape(m) if xa.ndim == 1 else H)
