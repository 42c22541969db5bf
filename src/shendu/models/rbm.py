"""Restricted Boltzmann machine trained by contrastive divergence (texts 001/004; textbook 8.2.x inexact gradients,
A5.6).

Energy (binary visible): E(v, h) = -b^T v - c^T h - v^T W h; (Gaussian visible, unit variance):
E(v, h) = ||v - b||^2 / 2 - c^T h - v^T W h. Free energy F(v) = -log sum_h e^{-E(v,h)}:
binary F(v) = -b^T v - sum_j softplus(c_j + v^T W_:j); Gaussian F(v) = ||v - b||^2 / 2 - sum_j softplus(...).
Conditionals: p(h_j = 1 | v) = sigmoid(c_j + v^T W_:j); p(v_i = 1 | h) = sigmoid(b_i + W_i: h) (binary) or
v | h ~ N(b + W h, I) (Gaussian). The log-likelihood gradient is -dF(v)/dtheta (data) + E_model[dF/dtheta]:
CD-k estimates the model term with k Gibbs steps from the data, persistent CD (PCD) from chains kept across updates.
Shapes: v (N, n_visible), h (N, n_hidden), W (n_visible, n_hidden). Random draws come from the device generator.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .. import ops
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, _wrap
from ..backend import (
    device_of,
    generator_for,
    get_default_dtype,
    get_generator,
    namespace_of,
    to_device,
    to_dtype,
    to_host,
)
from ..nn.module import Module
from ..nn.parameter import Parameter

__all__ = ["RBM"]

_MAX_ENUM = 20  # exact partition functions enumerate 2^min(n_visible, n_hidden) states at most 2^20


class RBM(Module):
    """Restricted Boltzmann machine ``RBM(n_visible, n_hidden, visible="binary"|"gaussian")`` (texts 001/004).

    ``contrastive_divergence(v, k)`` returns a scalar whose gradient is the CD-k (or PCD-k) estimate of the
    negative log-likelihood gradient, usable with any optimizer; ``cd_step(v, k, lr)`` is the plain SGD update."""

    def __init__(self, n_visible: int, n_hidden: int, visible: str = "binary", weight_std: float = 0.01,
                 dtype=None):
        super().__init__()
        if int(n_visible) <= 0 or int(n_hidden) <= 0:
            raise ValueError(f"RBM: n_visible and n_hidden must be positive, got {n_visible}, {n_hidden}")
        if visible not in ("binary", "gaussian"):
            raise ValueError(f"RBM: visible must be 'binary' or 'gaussian', got {visible!r}")
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        self.n_visible, self.n_hidden, self.visible = int(n_visible), int(n_hidden), visible
        w = get_generator().normal(0.0, weight_std, (self.n_visible, self.n_hidden)).astype(dt)
        self.W = Parameter(w)
        self.b = Parameter(np.zeros(self.n_visible, dtype=dt))  # visible bias
        self.c = Parameter(np.zeros(self.n_hidden, dtype=dt))  # hidden bias
        self._chain = None  # persistent CD fantasy particles (an array on the parameters' device)

    # --- helpers -------------------------------------------------------------------------------
    def _as_input(self, v, name="v"):
        if not isinstance(v, Tensor):
            v = _wrap(to_device(np.asarray(v, dtype=self.W.dtype), device_of(self.W._data)))
        if v.ndim != 2 or v.shape[1] != self.n_visible:
            raise ValueError(f"RBM({self.n_visible}, {self.n_hidden}): expected {name} of shape (N, {self.n_visible}), "
                             f"got {tuple(v.shape)}")
        return v

    def _bernoulli(self, p):
        arr = p._data
        r = generator_for(arr).random(arr.shape, dtype=arr.dtype)
        return _wrap((r < arr).astype(arr.dtype))

    # --- energies and conditionals -----------------------------------------------------------------
    def energy(self, v, h):
        """E(v, h) per example, (N,)."""
        v = self._as_input(v)
        inter = ((v @ self.W) * h).sum(-1)
        if self.visible == "binary":
            return -(v @ self.b) - (h @ self.c) - inter
        return 0.5 * ((v - self.b) ** 2).sum(-1) - (h @ self.c) - inter

    def free_energy(self, v):
        """F(v) = -log sum_h exp(-E(v, h)) per example, (N,) (hidden units summed out analytically)."""
        v = self._as_input(v)
        hid = ops.softplus(v @ self.W + self.c).sum(-1)
        if self.visible == "binary":
            return -(v @ self.b) - hid
        return 0.5 * ((v - self.b) ** 2).sum(-1) - hid

    def hidden_probs(self, v):
        """p(h = 1 | v) = sigmoid(c + v W), (N, n_hidden)."""
        return (self._as_input(v) @ self.W + self.c).sigmoid()

    def visible_mean(self, h):
        """E[v | h]: sigmoid(b + h W^T) (binary) or b + h W^T (Gaussian), (N, n_visible)."""
        a = h @ self.W.t() + self.b
        return a.sigmoid() if self.visible == "binary" else a

    def sample_hidden(self, v):
        """Draw h ~ p(h | v); returns (probabilities, binary sample)."""
        p = self.hidden_probs(v)
        return p, self._bernoulli(p)

    def sample_visible(self, h):
        """Draw v ~ p(v | h); returns (mean, sample)."""
        m = self.visible_mean(h)
        if self.visible == "binary":
            return m, self._bernoulli(m)
        arr = m._data
        noise = generator_for(arr).standard_normal(arr.shape, dtype=arr.dtype)
        return m, _wrap(arr + noise)

    def gibbs(self, v, k: int = 1):
        """k steps of block Gibbs sampling v -> h -> v'; returns the last visible sample (no gradient)."""
        if int(k) < 1:
            raise ValueError(f"RBM.gibbs: k must be >= 1, got {k}")
        with no_grad():
            v = self._as_input(v).detach()
            for _ in range(int(k)):
                _, h = self.sample_hidden(v)
                _, v = self.sample_visible(h)
        return v

    forward = free_energy

    # --- learning ----------------------------------------------------------------------------------
    def contrastive_divergence(self, v, k: int = 1, persistent: bool = False):
        """Scalar mean F(v_data) - mean F(v_model) whose gradient is the CD-k (PCD-k if ``persistent``) estimate
        of -d log p(v)/d theta: call ``.backward()`` and step any optimizer (texts 001/004; textbook A5.6).
        PCD keeps ``self._chain`` (as many chains as the first batch had rows) across calls; ``reset_chains()``
        drops them."""
        v = self._as_input(v).detach()
        if persistent:
            # the chains keep their own count (the two means need not match in size); (re)started from the data
            # on first use or when the device or the dtype changes
            c = self._chain
            if c is None or device_of(c) != device_of(v._data) or c.dtype != v._data.dtype:
                self._chain = v._data.copy()
            neg = self.gibbs(_wrap(self._chain), k)
            self._chain = neg._data
        else:
            neg = self.gibbs(v, k)
        return self.free_energy(v).mean() - self.free_energy(neg).mean()

    def reset_chains(self) -> None:
        """Forget the persistent CD chains (the next persistent call restarts them from its batch)."""
        self._chain = None

    def cd_step(self, v, k: int = 1, lr: float = 0.1, persistent: bool = False, momentum: float = 0.0,
                weight_decay: float = 0.0) -> float:
        """One SGD update theta <- theta - lr * CD-k gradient (optional momentum and L2); returns the
        reconstruction error of the batch before the update."""
        v = self._as_input(v)
        for p in self.parameters():
            p.grad = None
        loss = self.contrastive_divergence(v, k, persistent)
        loss.backward()
        with no_grad():
            for name, p in self.named_parameters():
                g = p.grad._data
                if weight_decay and name == "W":
                    g = g + weight_decay * p._data
                if momentum:
                    vel = self.__dict__.setdefault("_velocity", {})
                    buf = vel.get(name)
                    buf = g if buf is None else momentum * buf + g
                    vel[name] = buf
                    g = buf
                p._data = p._data - lr * g
        return self.reconstruction_error(v)

    # --- monitoring --------------------------------------------------------------------------------
    def reconstruction_error(self, v) -> float:
        """Mean squared error between v and its mean-field reconstruction E[v | p(h | v)] (per element)."""
        with no_grad():
            v = self._as_input(v)
            r = self.visible_mean(self.hidden_probs(v))
            return float(((r - v) ** 2).mean().item())

    def pseudo_likelihood(self, v, exact: bool = False) -> float:
        """Mean log pseudo-likelihood sum_i log p(v_i | v_-i) (binary visible). Default: the stochastic
        estimate n_visible * log sigmoid(F(v~) - F(v)) with one random bit flipped per example; ``exact``: all bits."""
        if self.visible != "binary":
            raise ValueError("RBM.pseudo_likelihood: defined here for binary visible units only")
        with no_grad():
            v = self._as_input(v)
            xp = namespace_of(v._data)
            fe = self.free_energy(v)
            n = v.shape[0]
            if exact:
                total = 0.0
                for i in range(self.n_visible):
                    flip = v._data.copy()
                    flip[:, i] = 1 - flip[:, i]
                    total = total - ops.softplus(fe - self.free_energy(_wrap(flip)))
                return float(total.mean().item())
            idx = generator_for(v._data).integers(0, self.n_visible, size=n)
            flip = v._data.copy()
            rows = xp.arange(n)
            flip[rows, idx] = 1 - flip[rows, idx]
            lp = -ops.softplus(fe - self.free_energy(_wrap(flip)))
            return float((self.n_visible * lp).mean().item())

    def log_partition(self):
        """log Z by exact enumeration of the smaller layer (at most 2^20 states; differentiable)."""
        small = min(self.n_visible, self.n_hidden) if self.visible == "binary" else self.n_hidden
        if small > _MAX_ENUM:
            raise ValueError(
                f"RBM.log_partition: exact enumeration of 2^{small} states is too large (max 2^{_MAX_ENUM})"
            )
        dev = device_of(self.W._data)
        if self.visible == "binary" and self.n_visible <= self.n_hidden:
            states = _wrap(to_device(_all_states(self.n_visible, self.W.dtype), dev))
            return ops.logsumexp(-self.free_energy(states), dim=0)
        hs = _wrap(to_device(_all_states(self.n_hidden, self.W.dtype), dev))
        a = hs @ self.W.t() + self.b  # (2^nh, nv)
        if self.visible == "binary":  # sum over v analytically: F(h) = -c.h - sum softplus(b + W h)
            neg_fe = hs @ self.c + ops.softplus(a).sum(-1)
            return ops.logsumexp(neg_fe, dim=0)
        # Gaussian visible: int exp(-||v-b||^2/2 + v.Wh) dv = (2 pi)^{nv/2} exp(||b + W h||^2/2 - ||b||^2/2)
        neg_fe = hs @ self.c + 0.5 * (a ** 2).sum(-1) - 0.5 * (self.b ** 2).sum()
        return ops.logsumexp(neg_fe, dim=0) + 0.5 * self.n_visible * math.log(2 * math.pi)

    def log_likelihood(self, v):
        """Exact mean log p(v) = -F(v) - log Z (small models only; differentiable)."""
        return (-self.free_energy(v)).mean() - self.log_partition()

    # --- pictures ----------------------------------------------------------------------------------
    def filters(self, shape=None) -> np.ndarray:
        """The weights into each hidden unit as host images: (n_hidden, *shape) (shape defaults to (n_visible,))."""
        w = to_host(self.W._data).T
        return w.reshape((self.n_hidden,) + tuple(shape or (self.n_visible,)))

    def extra_repr(self):
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, visible={self.visible!r}"


def _all_states(n, dtype):
    """All 2^n binary vectors, (2^n, n), on the host."""
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=dtype).reshape(-1, n)
