"""Loss-landscape slices (Textbook 8.2.7, Fig 8.2 / Goodfellow et al. 2015): the loss on a line or a plane through
parameter space, f(theta_0 + a u + b v), for random, interpolation or PCA-of-trajectory directions.

    d = random_direction(model, seed=0)                 # filter-normalised Gaussian direction (Li et al. 2018)
    U = pca_directions([snapshot(model) ...], k=2)      # main directions of an optimisation trajectory
    losses = loss_along(model, loss_fn, d, alphas)      # 1-D slice; loss_surface(model, loss_fn, d1, d2, a, b): 2-D
The model's parameters are restored afterwards. Directions are flat host vectors (float64) over all parameters.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backend import device_of, to_device, to_host

__all__ = ["snapshot", "random_direction", "interpolation_direction", "pca_directions", "loss_along", "loss_surface"]


def _params(model):
    ps = list(model.parameters()) if hasattr(model, "parameters") else list(model)
    if not ps:
        raise ValueError("loss landscape: the model has no parameters")
    return ps


def snapshot(model):
    """All parameters as one flat float64 host vector."""
    return np.concatenate([to_host(p._data).reshape(-1).astype(np.float64) for p in _params(model)])


def _set(ps, flat):
    o = 0
    for p in ps:
        n = p._data.size
        p._data[...] = to_device(flat[o:o + n].reshape(p._data.shape).astype(p._data.dtype), device_of(p._data))
        p._version += 1
        o += n


def random_direction(model, seed=None, filter_normalize=True):
    """A Gaussian direction; with filter_normalize each output row (filter) of a weight, and each 1-d parameter,
    is rescaled to the norm of the matching part of the current parameters (Li et al. 2018)."""
    rng = np.random.default_rng(seed)
    parts = []
    for p in _params(model):
        w = to_host(p._data).astype(np.float64)
        d = rng.normal(size=w.shape)
        if filter_normalize:
            if w.ndim >= 2:
                axes = tuple(range(1, w.ndim))
                d *= np.linalg.norm(w, axis=axes, keepdims=True) / (np.linalg.norm(d, axis=axes, keepdims=True) + 1e-12)
            else:
                d *= np.linalg.norm(w) / (np.linalg.norm(d) + 1e-12)
        parts.append(d.reshape(-1))
    return np.concatenate(parts)


def interpolation_direction(theta_from, theta_to):
    """theta_to - theta_from: with alphas in [0, 1] from theta_from, the linear-interpolation slice of Fig 8.2."""
    return np.asarray(theta_to, np.float64) - np.asarray(theta_from, np.float64)


def pca_directions(trajectory, k=2):
    """The top-k principal directions (unit vectors, rows) of a list of parameter snapshots, and the fraction of
    the trajectory's variance each explains."""
    T = np.stack([np.asarray(t, np.float64) for t in trajectory])
    if T.shape[0] < 2 or not 1 <= k <= min(T.shape) - 0:
        raise ValueError(f"pca_directions: need >= 2 snapshots and 1 <= k <= {min(T.shape)}, got "
                         f"{T.shape[0]} snapshots, k={k}")
    C = T - T.mean(0)
    _, s, Vt = np.linalg.svd(C, full_matrices=False)
    var = s ** 2
    return Vt[:k], var[:k] / max(var.sum(), 1e-300)


def loss_along(model, loss_fn, direction, alphas, origin=None):
    """[loss_fn() at theta_0 + a d for a in alphas] (floats); theta_0 = origin or the current parameters."""
    return loss_surface(model, loss_fn, direction, None, alphas, [0.0], origin)[:, 0]


def loss_surface(model, loss_fn, d1, d2, alphas, betas, origin=None):
    """Array (len(alphas), len(betas)) of loss_fn() at theta_0 + a d1 + b d2 (d2 None: a 1-D slice)."""
    ps = _params(model)
    saved = [p._data.copy() for p in ps]
    theta0 = snapshot(model) if origin is None else np.asarray(origin, np.float64)
    d1 = np.asarray(d1, np.float64)
    if d1.shape != theta0.shape or (d2 is not None and np.shape(d2) != theta0.shape):
        raise ValueError(f"loss_surface: directions must have {theta0.size} entries (all parameters), got "
                         f"{d1.shape}" + ("" if d2 is None else f" and {np.shape(d2)}"))
    d2 = np.zeros_like(theta0) if d2 is None else np.asarray(d2, np.float64)
    out = np.empty((len(alphas), len(betas)))
    try:
        with no_grad():
            for i, a in enumerate(alphas):
                for j, b in enumerate(betas):
                    _set(ps, theta0 + a * d1 + b * d2)
                    out[i, j] = float(loss_fn())
    finally:
        for p, s in zip(ps, saved):
            p._data[...] = s
            p._version += 1
    return out
