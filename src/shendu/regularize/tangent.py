"""Tangent distance and a nearest-neighbour classifier using it (Simard et al. 1993; original book 7.14).

The tangent distance between x1 and x2 is the distance between the affine planes {x1 + T1 a} and {x2 + T2 b}
spanned by each point's tangent vectors (the directions in which small class-preserving transformations, such as
translations, move the input): d = min_{a, b} ||(x1 + T1 a) - (x2 + T2 b)||, a linear least-squares problem.
One-sided: only x2's plane (min_b ||x1 - x2 - T2 b||). Solved with the pseudo-inverse (``sd.linalg.pinv``), so
degenerate (zero or parallel) tangents are fine. Tensor code: runs on the inputs' device.

The manifold tangent classifier (Rifai et al. 2011) learns the tangents instead: a contractive autoencoder's
encoder Jacobian J(x) has few large singular values, whose right singular vectors span the data manifold's local
tangent plane; tangent propagation along them (``manifold_tangent_penalty``) makes the classifier invariant there.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..backend import device_of, to_device, to_host
from ..linalg import pinv, svd
from ..nn import Linear, Module
from ..nn.functional import sigmoid
from ..ops.shape import cat, stack
from .adversarial import translation_tangent

__all__ = ["image_tangents", "tangent_distance", "tangent_nearest_neighbor", "TangentNearestNeighbor",
           "ContractiveAutoEncoder", "manifold_tangent_penalty"]

_KINDS = ("x", "y", "rotation", "scale", "thickness")


def image_tangents(images: Tensor, kinds=("x", "y")) -> Tensor:
    """Tangent vectors of images (N, H, W) or (N, C, H, W) under small transformations (Simard et al.):
    'x'/'y' translation (central differences gx, gy, ``translation_tangent``), 'rotation' (y gx - x gy),
    'scale' (x gx + y gy) with (x, y) from the image centre, 'thickness' (gx^2 + gy^2).
    Returns (N, k, *image shape) for the k = len(kinds) kinds."""
    if images.ndim < 3:
        raise ValueError(f"image_tangents: expected images (N, H, W) or (N, C, H, W), got shape {tuple(images.shape)}")
    bad = [k for k in kinds if k not in _KINDS]
    if bad or not kinds:
        raise ValueError(f"image_tangents: kinds must be a non-empty subset of {_KINDS}, got {tuple(kinds)!r}")
    gx = translation_tangent(images, -1)
    gy = translation_tangent(images, -2)
    H, W = images.shape[-2:]
    yy, xx = np.meshgrid(np.arange(H) - (H - 1) / 2.0, np.arange(W) - (W - 1) / 2.0, indexing="ij")
    dev = device_of(images._data)
    dt = images._data.dtype
    X = Tensor(to_device(xx.astype(dt), dev))
    Y = Tensor(to_device(yy.astype(dt), dev))
    table = {"x": lambda: gx, "y": lambda: gy, "rotation": lambda: Y * gx - X * gy,
             "scale": lambda: X * gx + Y * gy, "thickness": lambda: gx * gx + gy * gy}
    return stack([table[k]() for k in kinds], dim=1)


def _flat_tangents(who, t, n, d):
    """(N, k, D) from a tensor (N, k, *shape) or (N, *shape) (one tangent) or a list of tensors shaped like x."""
    if isinstance(t, (list, tuple)):
        t = stack(list(t), dim=1)
    if t.ndim >= 2 and t.shape[0] == n and int(np.prod(t.shape[1:])) == d:
        return t.reshape(n, 1, d)
    if t.shape[0] != n or t.ndim < 2 or int(np.prod(t.shape[2:])) != d:
        raise ValueError(f"{who}: tangents must be (N, k, *x.shape[1:]) with N = {n} and {d} values per tangent, "
                         f"got shape {tuple(t.shape)}")
    return t.reshape(n, t.shape[1], d)


def tangent_distance(x1: Tensor, x2: Tensor, tangents1=None, tangents2=None) -> Tensor:
    """Tangent distance between rows x1[n] and x2[n] (N, *): min ||(x1 + T1 a) - (x2 + T2 b)|| over a, b (two-sided)
    or min_b ||x1 - (x2 + T2 b)|| (one-sided, tangents1=None) or min_a with only T1. tangents: (N, k, *x.shape[1:])
    (e.g. ``image_tangents``), or a list of tensors shaped like x. Returns (N,) distances (differentiable)."""
    if tuple(x1.shape) != tuple(x2.shape) or x1.ndim < 1:
        raise ValueError(f"tangent_distance: x1 and x2 must have one shape (N, *), got {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}")
    if tangents1 is None and tangents2 is None:
        raise ValueError("tangent_distance: give tangents2 (one-sided) or both tangents (two-sided)")
    n = x1.shape[0]
    d = int(np.prod(x1.shape[1:])) if x1.ndim > 1 else 1
    r = (x1 - x2).reshape(n, d)
    cols = []
    if tangents1 is not None:
        cols.append(_flat_tangents("tangent_distance", tangents1, n, d))
    if tangents2 is not None:
        cols.append(-_flat_tangents("tangent_distance", tangents2, n, d))
    A = (cols[0] if len(cols) == 1 else cat(cols, dim=1)).mT  # (N, D, k): r + A c over c = (a, -b)
    c = pinv(A) @ r.unsqueeze(-1)  # least squares: minimise ||r - A c||
    res = r - (A @ c).squeeze(-1)
    return (res * res).sum(dim=1).sqrt()


def _projectors(T):
    """A pinv(A) for A = T^T: (M, D, D) orthogonal projectors onto each row's tangent span."""
    A = T.mT
    return A @ pinv(A)


def tangent_nearest_neighbor(x_train, y_train, x_test, tangents_train=None, tangents_test=None, batch_size=256):
    """1-nearest-neighbour labels of x_test under the tangent distance to every training example.

    One-sided (only tangents_train, the usual choice: tangents precomputed once): squared distance
    ||r||^2 - r^T P_j r with P_j the projector onto train example j's tangent span, r = x - x_j.
    Two-sided (both): per-pair least squares (``tangent_distance``), M*N problems, for small sets.
    Neither: Euclidean 1-NN. x: (N, *); tangents (N, k, *x.shape[1:]). Returns labels of y_train's kind (N_test,)."""
    with no_grad():
        xtr = x_train.reshape(x_train.shape[0], -1)
        xte = x_test.reshape(x_test.shape[0], -1)
        m, d = xtr.shape
        if xte.shape[1] != d:
            raise ValueError(f"tangent_nearest_neighbor: train and test rows differ in size: {tuple(x_train.shape)} vs "
                             f"{tuple(x_test.shape)}")
        Ttr = None if tangents_train is None else _flat_tangents("tangent_nearest_neighbor", tangents_train, m, d)
        Tte = None if tangents_test is None else _flat_tangents("tangent_nearest_neighbor", tangents_test,
                                                               xte.shape[0], d)
        P = _projectors(Ttr) if Ttr is not None and Tte is None else None
        sq_tr = (xtr * xtr).sum(dim=1)
        best = []
        for s in range(0, xte.shape[0], batch_size):
            xb = xte[s:s + batch_size]
            b = xb.shape[0]
            if Tte is not None:  # two-sided or test-side only: every pair
                x1 = xb.unsqueeze(1).expand(b, m, d).reshape(b * m, d)
                x2 = xtr.unsqueeze(0).expand(b, m, d).reshape(b * m, d)
                t1 = Tte[s:s + b].unsqueeze(1).expand(b, m, Tte.shape[1], d).reshape(b * m, Tte.shape[1], d)
                t2 = None if Ttr is None else Ttr.unsqueeze(0).expand(b, m, Ttr.shape[1], d).reshape(
                    b * m, Ttr.shape[1], d)
                dist = tangent_distance(x1, x2, t1, t2).reshape(b, m) ** 2
            else:
                dist = (xb * xb).sum(dim=1).unsqueeze(1) + sq_tr.unsqueeze(0) - 2.0 * (xb @ xtr.mT)
                if P is not None:  # minus r^T P_j r, r = x - x_j
                    xPx = ((xb.unsqueeze(0) @ P) * xb.unsqueeze(0)).sum(dim=-1).mT  # (b, m)
                    Pxj = (P @ xtr.unsqueeze(-1)).squeeze(-1)  # (m, d)
                    dist = dist - xPx + 2.0 * (xb @ Pxj.mT) - (Pxj * xtr).sum(dim=1).unsqueeze(0)
            best.append(to_host(dist.argmin(dim=1)._data))
        idx = np.concatenate(best)
    y = to_host(y_train._data) if isinstance(y_train, Tensor) else np.asarray(y_train)
    return y[idx]


class TangentNearestNeighbor:
    """1-NN classifier with the tangent distance (Simard et al. 1993): ``fit(x, y)`` stores the training images and
    their tangents (``image_tangents(x, kinds)``); ``predict(x)`` is one-sided by default (training tangents only),
    two-sided with ``two_sided=True``. Images (N, H, W) or (N, C, H, W) tensors."""

    def __init__(self, kinds=("x", "y"), two_sided=False):
        self.kinds, self.two_sided = tuple(kinds), bool(two_sided)

    def fit(self, x: Tensor, y):
        self.x_, self.y_ = x, y
        self.t_ = image_tangents(x, self.kinds)
        return self

    def predict(self, x: Tensor):
        if not hasattr(self, "x_"):
            raise RuntimeError("TangentNearestNeighbor: call fit(x, y) before predict")
        tt = image_tangents(x, self.kinds) if self.two_sided else None
        return tangent_nearest_neighbor(self.x_, self.y_, x, self.t_, tt)

    def score(self, x: Tensor, y) -> float:
        yy = to_host(y._data) if isinstance(y, Tensor) else np.asarray(y)
        return float((self.predict(x) == yy).mean())


class ContractiveAutoEncoder(Module):
    """Contractive autoencoder (Rifai et al. 2011; textbook 14.7): h = sigmoid(W x + b), r = g(W' h + b'),
    loss = mean_n ||r - x||^2 + contraction * mean_n ||J(x)||_F^2 with J = dh/dx = diag(h (1 - h)) W, so
    ||J||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ji^2. ``tangents(x, k)``: the top-k right singular vectors of J(x)
    (the manifold tangent classifier's tangent plane). x: (N, in_features)."""

    def __init__(self, in_features: int, hidden: int, contraction: float = 0.1, output_activation="sigmoid"):
        super().__init__()
        if contraction < 0:
            raise ValueError(f"ContractiveAutoEncoder: contraction must be >= 0, got {contraction}")
        if output_activation not in ("sigmoid", None):
            raise ValueError(f"ContractiveAutoEncoder: output_activation must be 'sigmoid' or None, "
                             f"got {output_activation!r}")
        self.encoder = Linear(in_features, hidden)
        self.decoder = Linear(hidden, in_features)
        self.contraction, self.output_activation = float(contraction), output_activation

    def encode(self, x):
        return sigmoid(self.encoder(x))

    def decode(self, h):
        r = self.decoder(h)
        return sigmoid(r) if self.output_activation == "sigmoid" else r

    def forward(self, x):
        return self.decode(self.encode(x))

    def jacobian(self, x):
        """dh/dx per example: (N, hidden, in_features)."""
        h = self.encode(x)
        return (h * (1.0 - h)).unsqueeze(-1) * self.encoder.weight

    def jacobian_penalty(self, x, h=None):
        """||J(x)||_F^2 per example (N,), in closed form."""
        h = self.encode(x) if h is None else h
        d = h * (1.0 - h)
        return (d * d) @ (self.encoder.weight * self.encoder.weight).sum(dim=1)

    def loss(self, x):
        h = self.encode(x)
        r = self.decode(h)
        rec = ((r - x) ** 2).sum(dim=1).mean()
        return rec + self.contraction * self.jacobian_penalty(x, h).mean() if self.contraction else rec

    def tangents(self, x, k: int):
        """The k leading right singular vectors of J(x), (N, k, in_features), no graph (constants for tangent prop)."""
        if not 1 <= int(k) <= min(self.encoder.weight.shape):
            raise ValueError(f"ContractiveAutoEncoder.tangents: k must be in [1, {min(self.encoder.weight.shape)}], "
                             f"got {k}")
        with no_grad():
            _, _, vh = svd(self.jacobian(x), full_matrices=False)
        return vh[:, :int(k)].detach()


def manifold_tangent_penalty(model, x: Tensor, cae: ContractiveAutoEncoder, k: int, transform=None) -> Tensor:
    """The manifold tangent classifier's regularizer (Rifai et al. 2011): tangent propagation
    mean_n sum_{i<=k} ||J_model(x_n) u_i(x_n)||^2 along the contractive autoencoder's k leading tangent directions
    u_i (``cae.tangents``). x: (N, D) as the autoencoder's input."""
    from .adversarial import tangent_prop_penalty

    t = cae.tangents(x.reshape(x.shape[0], -1), k)
    return tangent_prop_penalty(model, x, [t[:, i].reshape(x.shape) for i in range(t.shape[1])], transform)
