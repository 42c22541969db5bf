"""PCA and ZCA whitening (sphering) fitted on the training set.

Textbook 002 §2.5 (whitening: center, SVD, project on U, divide by the singular values, with a
small number added for zero ones); textbook 12.2.1.1 (sphering rescales the principal components
to equal variance; it is not GCN). With C = Xc^T Xc / (N - 1) = U diag(S) U^T:
  PCA: z = (x - mean) U diag(1 / sqrt(S + eps))          (N, k)
  ZCA: z = (x - mean) U diag(1 / sqrt(S + eps)) U^T      (N, D), back in the input space
so the whitened training covariance is ~ identity (exactly for eps = 0). Inputs (N, ...) are
flattened to (N, D); ZCA restores the trailing shape.
"""
from __future__ import annotations

import numpy as np

from ._base import Fitted, as_float_array

__all__ = ["PCAWhitening", "ZCAWhitening"]


class _Whitening(Fitted):
    def __init__(self, eps=1e-5):
        if eps < 0:
            raise ValueError(f"{type(self).__name__}: eps must be >= 0, got {eps}")
        self.eps = float(eps)
        self.mean_ = None

    def _flat(self, X, what):
        who = f"{type(self).__name__}.{what}"
        X = as_float_array(X, who, min_ndim=2)
        return X, X.reshape(X.shape[0], -1), who

    def fit(self, X):
        """Mean and eigen-decomposition (SVD) of the training covariance; X (N, ...) with N >= 2."""
        X, flat, who = self._flat(X, "fit")
        if flat.shape[0] < 2:
            raise ValueError(f"{who}: need at least 2 examples to estimate a covariance, got shape {X.shape}")
        self._shape = X.shape[1:]
        flat = flat.astype(np.float64)
        mean = flat.mean(axis=0)
        xc = flat - mean
        cov = xc.T @ xc / (flat.shape[0] - 1)
        u, s, _ = np.linalg.svd(cov, hermitian=True)
        # sign convention: largest-magnitude entry of each component positive (deterministic, as sklearn)
        signs = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])])
        u *= np.where(signs == 0, 1.0, signs)
        self.mean_, self.components_, self.explained_variance_ = mean, u.T, s
        return self

    def _scales(self, k):
        s = self.explained_variance_[:k] + self.eps
        if np.any(s <= 1e-12 * max(self.explained_variance_[0], 1e-300)):
            raise ValueError(f"{type(self).__name__}: the covariance is singular (eigenvalue "
                             f"{self.explained_variance_[:k].min():.3g}); use eps > 0 or fewer components")
        return np.sqrt(s)

    def _check_input(self, X, what):
        self._check_fitted()
        X, flat, who = self._flat(X, what)
        if flat.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"{who}: input shape {X.shape} has {flat.shape[1]} features per example, "
                             f"the fitted data (N, *{self._shape}) had {self.mean_.shape[0]}")
        return X, flat


class PCAWhitening(_Whitening):
    """PCA whitening z = (x - mean) U_k / sqrt(S_k + eps): decorrelated, unit-variance components (N, k)."""

    def __init__(self, n_components=None, eps=1e-5):
        super().__init__(eps)
        self.n_components = n_components

    def fit(self, X):
        super().fit(X)
        d = self.mean_.shape[0]
        k = d if self.n_components is None else int(self.n_components)
        if not 1 <= k <= d:
            raise ValueError(f"PCAWhitening: n_components must lie in [1, {d}], got {self.n_components!r}")
        self.n_components_ = k
        self._w = self.components_[:k].T / self._scales(k)
        return self

    def transform(self, X):
        """(N, ...) -> (N, k) whitened principal components, in X's float dtype."""
        X, flat = self._check_input(X, "transform")
        return ((flat - self.mean_) @ self._w).astype(X.dtype)

    def inverse_transform(self, Z):
        """(N, k) -> (N, ...) reconstruction z sqrt(S_k + eps) U_k^T + mean (exact when k = D)."""
        self._check_fitted()
        Z = as_float_array(Z, "PCAWhitening.inverse_transform", min_ndim=2)
        if Z.ndim != 2 or Z.shape[1] != self.n_components_:
            raise ValueError(f"PCAWhitening.inverse_transform: expected shape (N, {self.n_components_}), got {Z.shape}")
        k = self.n_components_
        x = (Z * self._scales(k)) @ self.components_[:k] + self.mean_
        return x.astype(Z.dtype).reshape((Z.shape[0],) + self._shape)


class ZCAWhitening(_Whitening):
    """ZCA whitening z = (x - mean) U diag(1 / sqrt(S + eps)) U^T: whitened yet closest to the input."""

    def fit(self, X):
        super().fit(X)
        sc = self._scales(None)
        u = self.components_.T
        self._w = (u / sc) @ u.T
        self._w_inv = (u * sc) @ u.T
        return self

    def transform(self, X):
        """(N, ...) -> (N, ...) whitened, in X's float dtype."""
        X, flat = self._check_input(X, "transform")
        return ((flat - self.mean_) @ self._w).astype(X.dtype).reshape(X.shape)

    def inverse_transform(self, Z):
        """z U diag(sqrt(S + eps)) U^T + mean."""
        Z, flat = self._check_input(Z, "inverse_transform")
        return (flat @ self._w_inv + self.mean_).astype(Z.dtype).reshape(Z.shape)
