"""Explicit constraints by reprojection after each optimizer step (textbook 7.2, line 761-767).

Take the step on J, then project theta onto the nearest point of {Omega(theta) <= k}. Each constraint
``c`` works three ways: ``c(w)`` projects a Tensor or array and returns the result (Keras' constraint call);
``c.apply(model)`` projects the selected parameters of a model in place; ``c.attach(optimizer, model)``
registers that as a step post hook (``fit(..., constraints=[...])`` applies them after every step).
Selection as for the penalties: weights only by default (``include=``/``exclude=`` patterns).
All projections are array code on the parameter's own namespace (host or device), with no host round trip.
"""
from __future__ import annotations

import numbers

from ..autograd.tensor import Tensor, _wrap
from ..backend import namespace_of
from .penalties import _NO_DECAY, _ApplyAfterStep, _Selection

__all__ = ["Constraint", "L2Ball", "L1Ball", "MaxNorm", "NonNeg", "project_l1_ball", "apply_constraints"]

_TINY = 1e-30


def _positive(who, v, what):
    if not isinstance(v, numbers.Real) or isinstance(v, bool) or not v > 0 or v == float("inf"):
        raise ValueError(f"{who}: {what} must be a finite number > 0, got {v!r}")
    return float(v)


def _l1_threshold(absflat, z):
    """theta >= 0 with sum(max(|v| - theta, 0)) = z, or 0 when ||v||_1 <= z (Duchi et al. 2008, sort-based).

    With u = |v| sorted descending and f(j) = (sum_{i<=j} u_i - z)/j, Duchi's rho is the last j with
    u_j > f(j), and f increases exactly while that holds, so theta = max(max_j f(j), 0): no indexing needed.
    """
    xp = namespace_of(absflat)
    u = xp.flip(xp.sort(absflat))
    j = xp.arange(1, u.shape[0] + 1, dtype=u.dtype)
    f = (xp.cumsum(u) - z) / j
    return xp.maximum(xp.max(f), 0)


def project_l1_ball(v, radius):
    """Euclidean projection of ``v`` (Tensor or array, any shape, as one vector) onto {||w||_1 <= radius}
    (Duchi, Shalev-Shwartz, Singer, Chandra 2008): sign(v) * max(|v| - theta, 0). Returns the same kind."""
    radius = _positive("project_l1_ball", radius, "radius")
    if isinstance(v, Tensor):
        return _wrap(project_l1_ball(v._data, radius))
    xp = namespace_of(v)
    a = xp.abs(v)
    if a.size == 0:
        return v.copy()
    theta = _l1_threshold(a.reshape(-1), radius)
    return xp.sign(v) * xp.maximum(a - theta, 0)


class Constraint(_Selection):
    """Base: subclasses define ``project(arrays) -> arrays`` (one array, or the list of all selected ones when
    ``joint``)."""

    joint = False

    def __init__(self, *, include=None, exclude=_NO_DECAY):
        super().__init__(1.0, include=include, exclude=exclude)

    def project(self, arr):  # pragma: no cover - abstract
        raise NotImplementedError

    def project_joint(self, arrays):
        return [self.project(a) for a in arrays]

    def __call__(self, w):
        """The projection of ``w`` (Tensor -> new Tensor without graph, array -> array); a Module is projected
        in place (same as ``apply``)."""
        if hasattr(w, "named_modules"):
            return self.apply(w)
        if isinstance(w, Tensor):
            return _wrap(self.project(w._data))
        if not hasattr(w, "dtype"):
            raise TypeError(f"{type(self).__name__}: expected a Tensor, an array or a Module, got {type(w).__name__}")
        return self.project(w)

    def apply(self, model, optimizer=None):
        """Project the selected parameters of ``model`` in place (``optimizer`` is accepted and unused)."""
        params = [p for _, p, _ in self.selected(model)]
        arrays = [p._data for p in params]
        new = self.project_joint(arrays) if self.joint else [self.project(a) for a in arrays]
        for p, a in zip(params, new):
            p._data[...] = a

    def attach(self, optimizer, model):
        """Register ``apply(model)`` as a step post hook of ``optimizer``; returns the handle (``.remove()``)."""
        return optimizer.register_step_post_hook(_ApplyAfterStep(self, model))

    def _repr_args(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self._repr_args()})"


class L2Ball(Constraint):
    """Projection onto {||w||_2 <= radius}: w * min(1, radius/||w||) (textbook 7.2). ``joint=True`` treats all
    selected parameters as one vector; by default each parameter tensor is projected on its own."""

    def __init__(self, radius, *, joint=False, include=None, exclude=_NO_DECAY):
        super().__init__(include=include, exclude=exclude)
        self.radius = _positive("L2Ball", radius, "radius")
        self.joint = bool(joint)

    def _scale(self, sq):
        xp = namespace_of(sq)
        return xp.minimum(1.0, self.radius / xp.maximum(xp.sqrt(sq), _TINY))

    def project(self, arr):
        xp = namespace_of(arr)
        return arr * self._scale(xp.sum(arr * arr))

    def project_joint(self, arrays):
        xp = namespace_of(arrays[0])
        s = self._scale(sum(xp.sum(a * a) for a in arrays))
        return [a * s for a in arrays]

    def _repr_args(self):
        return f"{self.radius}, joint={self.joint}"


class L1Ball(Constraint):
    """Exact Euclidean projection onto {||w||_1 <= radius} (Duchi et al. 2008, sort-based; textbook 7.2: the L1
    region). Each parameter on its own, or all selected parameters as one vector with ``joint=True``."""

    def __init__(self, radius, *, joint=False, include=None, exclude=_NO_DECAY):
        super().__init__(include=include, exclude=exclude)
        self.radius = _positive("L1Ball", radius, "radius")
        self.joint = bool(joint)

    def project(self, arr):
        return project_l1_ball(arr, self.radius)

    def project_joint(self, arrays):
        xp = namespace_of(arrays[0])
        theta = _l1_threshold(xp.concatenate([xp.abs(a).reshape(-1) for a in arrays]), self.radius)
        return [xp.sign(a) * xp.maximum(xp.abs(a) - theta, 0) for a in arrays]

    def _repr_args(self):
        return f"{self.radius}, joint={self.joint}"


class MaxNorm(Constraint):
    """Column-wise max-norm (textbook 7.2 line 767; Srebro & Shraibman 2005, Hinton et al. 2012): each unit's
    incoming weight vector w_u is replaced by w_u * min(1, max_value/||w_u||).

    ``dim``: the dimension that indexes the units, as ``torch.renorm``; the norm runs over all the others.
    The default 0 is the output unit of ``Linear`` (out, in) and of ``Conv*`` (out, in, *k) weights, i.e. the
    book's columns of W (h = W^T x) and Keras' ``MaxNorm(axis=0)`` on its (in, out) kernels. Keras' default
    max_value is 2.
    """

    def __init__(self, max_value=2.0, dim=0, *, include=None, exclude=_NO_DECAY):
        super().__init__(include=include, exclude=exclude)
        self.max_value = _positive("MaxNorm", max_value, "max_value")
        if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
            raise TypeError(f"MaxNorm: dim must be an int, got {type(dim).__name__}")
        self.dim = int(dim)

    def project(self, arr):
        xp = namespace_of(arr)
        if arr.ndim == 0:
            raise ValueError("MaxNorm: cannot take per-unit norms of a 0-d parameter; exclude it")
        if not -arr.ndim <= self.dim < arr.ndim:
            raise ValueError(f"MaxNorm: dim={self.dim} is out of range for a parameter of shape {arr.shape}")
        d = self.dim % arr.ndim
        axes = tuple(i for i in range(arr.ndim) if i != d)
        norms = xp.sqrt(xp.sum(arr * arr, axis=axes, keepdims=True)) if axes else xp.abs(arr)
        return arr * xp.minimum(1.0, self.max_value / xp.maximum(norms, _TINY))

    def _repr_args(self):
        return f"{self.max_value}, dim={self.dim}"


class NonNeg(Constraint):
    """Projection onto w >= 0 (Keras' ``NonNeg``): max(w, 0)."""

    def project(self, arr):
        return namespace_of(arr).maximum(arr, 0)


def apply_constraints(model, constraints, optimizer=None):
    """Apply each constraint (or proximal step) to ``model`` in order: ``c.apply(model, optimizer)`` where it has
    one, else ``c(model)``. Call after ``optimizer.step()`` (``fit(..., constraints=...)`` does)."""
    if not isinstance(constraints, (list, tuple)):
        constraints = [constraints]
    for c in constraints:
        if hasattr(c, "apply") and not isinstance(c, type):
            c.apply(model, optimizer)
        elif callable(c):
            c(model)
        else:
            raise TypeError(f"apply_constraints: expected constraint objects or callables model -> None, "
                            f"got {type(c).__name__}")
