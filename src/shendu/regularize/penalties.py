"""Parameter-norm penalties alpha*Omega(theta) to add to any loss (textbook 7.1-7.3, eq. 7.1).

``penalty(model)`` returns a scalar Tensor (a sum of differentiable tensor ops, on the parameters' device), so
``loss = criterion(model(x), y) + L2(1e-4)(model)`` trains J~ = J + alpha*Omega, or pass the penalty to
``fit(..., regularizers=[...])``. Which parameters: the weights only by default (textbook 7.1): parameters whose
name contains "bias" and the parameters of normalization modules are left out; ``include=``/``exclude=`` take
patterns (strings, globs or callables, see ``shendu.optim.groups``). ``alpha`` is a number, a dict
``{module-prefix: alpha}`` (per-layer alpha; the longest matching prefix wins, "*" is the default, parameters
matching no key are not penalized) or a callable ``name -> alpha``.

Conventions: L2 is ``0.5*alpha*||w - w0||^2`` (the book's, gradient alpha*(w - w0), eq. 7.2-7.3; Keras'
``regularizers.L2(l2)`` is ``l2*sum(w^2)`` without the 0.5), L1 is ``alpha*||w - w0||_1`` with subgradient
``alpha*sign(w - w0)``, sign(0) = 0 (eq. 7.18-7.20).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd.tensor import Tensor, _wrap
from ..backend import device_of, to_device, to_host
from ..optim.groups import _as_patterns, matches, named_parameters_with_owner

__all__ = ["Penalty", "L2", "L1", "ElasticNet", "NormConstraintPenalty", "selected_parameters"]

_NO_DECAY = ("bias", "norm")


def _check_alpha(who, a, what="alpha"):
    if not isinstance(a, numbers.Real) or isinstance(a, bool) or not np.isfinite(a) or a < 0:
        raise ValueError(f"{who}: {what} must be a finite number >= 0, got {a!r}")
    return float(a)


def _prefix_match(name, key):
    if key == "*":
        return True
    if any(c in key for c in "*?["):
        import fnmatch

        return fnmatch.fnmatchcase(name, key)
    return name == key or name.startswith(key + ".")


class _Selection:
    """Which parameters (include/exclude patterns) and how strongly (alpha: number, dict by prefix, callable)."""

    def __init__(self, alpha=1.0, *, include=None, exclude=_NO_DECAY):
        who = type(self).__name__
        if isinstance(alpha, dict):
            self.alpha = {str(k): _check_alpha(who, v, f"alpha[{k!r}]") for k, v in alpha.items()}
        elif callable(alpha):
            self.alpha = alpha
        else:
            self.alpha = _check_alpha(who, alpha)
        self.include = _as_patterns(include, who, "include")
        self.exclude = _as_patterns(exclude, who, "exclude")

    def _alpha_for(self, name):
        a = self.alpha
        if isinstance(a, float):
            return a
        if isinstance(a, dict):
            keys = [k for k in a if _prefix_match(name, k)]
            if not keys:
                return 0.0
            best = max(keys, key=lambda k: (k != "*", len(k)))
            return a[best]
        v = a(name)
        return 0.0 if v is None else _check_alpha(type(self).__name__, v, f"alpha({name!r})")

    def selected(self, model):
        """``[(name, param, alpha)]`` of the parameters this object acts on (alpha > 0, patterns matched)."""
        out = []
        for n, p, m in named_parameters_with_owner(model):
            if self.include and not matches(n, p, m, self.include):
                continue
            if matches(n, p, m, self.exclude):
                continue
            a = self._alpha_for(n)
            if a > 0:
                out.append((n, p, a))
        if not out:
            names = [n for n, _, _ in named_parameters_with_owner(model)]
            raise ValueError(f"{type(self).__name__}: no parameter of {type(model).__name__} is selected "
                             f"(include={self.include}, exclude={self.exclude}, alpha={self.alpha!r}); "
                             f"its parameters: {names[:12]}")
        return out

    def _repr_args(self):
        return f"{self.alpha!r}"

    def __repr__(self):
        return f"{type(self).__name__}({self._repr_args()}, include={self.include}, exclude={self.exclude})"


class _ApplyAfterStep:
    """A step post hook ``(optimizer, args, kwargs)`` that calls ``target.apply(model, optimizer)`` (picklable)."""

    def __init__(self, target, model):
        self.target, self.model = target, model

    def __call__(self, optimizer, args, kwargs):
        self.target.apply(self.model, optimizer)


def selected_parameters(model, include=None, exclude=_NO_DECAY):
    """``[(name, param)]`` that a penalty or constraint with these patterns acts on."""
    return [(n, p) for n, p, _ in _Selection(1.0, include=include, exclude=exclude).selected(model)]


class Penalty(_Selection):
    """Base of the norm penalties: ``penalty(model) = sum_p alpha_p * omega(w_p - w0_p)`` as a scalar Tensor.

    ``center``: a reference point w0 (dict name -> Tensor/array, a ``state_dict()`` or a Module, copied when the
    penalty is made); parameters absent from it are pulled toward 0. Subclasses define ``omega(d)`` on Tensors.
    """

    def __init__(self, alpha, *, include=None, exclude=_NO_DECAY, center=None):
        super().__init__(alpha, include=include, exclude=exclude)
        self.center = self._snapshot(center)
        self._dev_centers = {}

    def _snapshot(self, center):
        if center is None:
            return {}
        if hasattr(center, "state_dict") and callable(center.state_dict):
            center = center.state_dict()
        if not hasattr(center, "items"):
            raise TypeError(f"{type(self).__name__}: center must be a dict name -> Tensor/array, a state_dict or "
                            f"a Module, got {type(center).__name__}")
        out = {}
        for k, v in center.items():
            arr = to_host(v._data) if isinstance(v, Tensor) else to_host(v) if hasattr(v, "dtype") else v
            out[str(k)] = np.array(arr, copy=True)
        return out

    def _center_for(self, name, p):
        c = self.center.get(name)
        if c is None:
            return None
        if c.shape != tuple(p.shape):
            raise ValueError(f"{type(self).__name__}: center[{name!r}] has shape {c.shape}, the parameter has "
                             f"shape {tuple(p.shape)}")
        dev = device_of(p._data)
        key = (name, str(dev), p._data.dtype.str)
        t = self._dev_centers.get(key)
        if t is None:
            t = self._dev_centers[key] = _wrap(to_device(c.astype(p._data.dtype), dev))
        return t

    def omega(self, d):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, model):
        total = None
        for name, p, a in self.selected(model):
            c = self._center_for(name, p)
            term = self.omega(p if c is None else p - c) * a
            total = term if total is None else total + term
        return total

    def _repr_args(self):
        return f"{self.alpha!r}" + (f", center=<{len(self.center)} arrays>" if self.center else "")


class L2(Penalty):
    """L2 penalty 0.5*alpha*||w - w0||^2 (textbook 7.1.1, eq. 7.1-7.2); its gradient is alpha*(w - w0) (7.3).

    ``L2(1e-4)``, per layer ``L2({"fc1": 1e-3, "fc2": 1e-4})``, toward a point ``L2(1e-2, center=pretrained)``.
    Returns a scalar Tensor; for plain SGD this equals ``weight_decay=alpha`` on the weight group.
    """

    def omega(self, d):
        return (d * d).sum() * 0.5


class L1(Penalty):
    """L1 penalty alpha*||w - w0||_1 (textbook 7.1.2, eq. 7.18-7.19); subgradient alpha*sign(w - w0), sign(0) = 0
    (7.20). For exact zeros use the proximal step ``ProximalL1`` (7.23) instead of this subgradient."""

    def omega(self, d):
        return d.abs().sum()


class ElasticNet(Penalty):
    """alpha*(l1_ratio*||w||_1 + 0.5*(1 - l1_ratio)*||w||^2) (scikit-learn's form; L1 + L2, textbook 7.1)."""

    def __init__(self, alpha, l1_ratio=0.5, *, include=None, exclude=_NO_DECAY, center=None):
        super().__init__(alpha, include=include, exclude=exclude, center=center)
        if not isinstance(l1_ratio, numbers.Real) or not 0.0 <= l1_ratio <= 1.0:
            raise ValueError(f"ElasticNet: l1_ratio must lie in [0, 1], got {l1_ratio!r}")
        self.l1_ratio = float(l1_ratio)

    def omega(self, d):
        r = self.l1_ratio
        return d.abs().sum() * r + (d * d).sum() * (0.5 * (1.0 - r))

    def _repr_args(self):
        return f"{self.alpha!r}, l1_ratio={self.l1_ratio}"


class NormConstraintPenalty:
    """Lagrangian form of the constraint Omega(theta) <= k with dual ascent on alpha (textbook 7.2, eq. 7.26-7.27).

    ``term = penalty(model)`` returns alpha*(Omega(theta) - k) (a scalar Tensor; its gradient in theta is
    alpha*grad Omega, the penalized objective 7.28 at the current alpha), then updates
    alpha <- max(0, alpha + dual_lr*(Omega - k)): alpha grows while Omega > k and shrinks toward 0 otherwise.
    With ``auto_update=False`` call ``dual_step(omega)`` yourself. ``norm``: "l2" (Omega = 0.5||w||^2, the book's)
    or "l1" (||w||_1), or any Penalty object (its own alpha scales Omega). ``history`` keeps (Omega, alpha) pairs.
    """

    def __init__(self, k, norm="l2", *, dual_lr=0.1, alpha=0.0, include=None, exclude=_NO_DECAY, auto_update=True):
        self.k = _check_alpha("NormConstraintPenalty", k, "k")
        self.dual_lr = _check_alpha("NormConstraintPenalty", dual_lr, "dual_lr")
        self.alpha = _check_alpha("NormConstraintPenalty", alpha, "alpha")
        if isinstance(norm, Penalty):
            self.omega = norm
        elif norm == "l2":
            self.omega = L2(1.0, include=include, exclude=exclude)
        elif norm == "l1":
            self.omega = L1(1.0, include=include, exclude=exclude)
        else:
            raise ValueError(f"NormConstraintPenalty: norm must be 'l2', 'l1' or a Penalty, got {norm!r}")
        self.auto_update = bool(auto_update)
        self.history = []

    def dual_step(self, omega):
        """alpha <- max(0, alpha + dual_lr*(omega - k)) (eq. 7.27: increase when Omega > k, decrease otherwise)."""
        omega = float(omega)
        self.alpha = max(0.0, self.alpha + self.dual_lr * (omega - self.k))
        self.history.append((omega, self.alpha))
        return self.alpha

    def __call__(self, model):
        om = self.omega(model)
        term = (om - self.k) * self.alpha
        if self.auto_update:
            self.dual_step(float(to_host(om._data)))
        return term

    def __repr__(self):
        return f"NormConstraintPenalty(k={self.k}, omega={self.omega!r}, alpha={self.alpha}, dual_lr={self.dual_lr})"
