"""Keras-style optimizers: made without parameters (``Adam(learning_rate=1e-3)``), bound to the variables on
``build(vars)`` or the first ``apply_gradients(zip(grads, vars))``; the update is shendu's ``optim`` class.

`apply_gradients` is also installed on every ``shendu.optim.Optimizer`` (text 003, code 1.2).
"""
from __future__ import annotations

from .. import optim as _optim
from ..autograd.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "Adagrad", "apply_gradients", "get"]


def apply_gradients(opt, grads_and_vars):
    """Set each variable's ``.grad`` to its gradient, run ``opt.step()`` on those variables only, restore the
    other variables' gradients. ``None`` gradients are skipped (as Keras, which warns)."""
    pairs = [(g, v) for g, v in grads_and_vars]
    for i, (g, v) in enumerate(pairs):
        if not isinstance(v, Tensor):
            raise TypeError(f"apply_gradients: variable {i} must be a Tensor, got {type(v).__name__}")
        if g is not None and tuple(g.shape) != tuple(v.shape):
            raise ValueError(f"apply_gradients: gradient {i} has shape {tuple(g.shape)}, its variable "
                             f"{tuple(v.shape)}")
    known = {id(p) for grp in opt.param_groups for p in grp["params"]}
    new = [v for g, v in pairs if id(v) not in known]
    if new:
        opt.add_param_group({"params": new})
    given = {id(v): g for g, v in pairs}
    saved = []
    for grp in opt.param_groups:
        for p in grp["params"]:
            saved.append((p, p.grad))
            g = given.get(id(p))
            p.grad = None if g is None else (g if isinstance(g, Tensor) else Tensor(g, dtype=p.dtype))
    try:
        opt.step()
    finally:
        for p, g in saved:
            if id(p) not in given:
                p.grad = g
    return opt


class Optimizer:
    """A Keras optimizer: ``learning_rate`` and Keras' option names; the shendu optimizer lives in ``.inner``
    once built, and its methods (step, zero_grad, state_dict, param_groups...) are reachable here."""

    _cls = None
    _names = {}  # Keras option name -> shendu option name

    def __init__(self, learning_rate=0.001, **kwargs):
        self._lr = float(learning_rate)
        unknown = set(kwargs) - set(self._names)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown options {sorted(unknown)}; known: "
                            f"learning_rate, {', '.join(self._names)}")
        self._kwargs = kwargs
        self.inner = None
        self.iterations = 0

    @property
    def built(self):
        return self.inner is not None

    def _options(self):
        out = {}
        for k, v in self._kwargs.items():
            name, conv = self._names[k]
            out.update(conv(v) if callable(conv) else {name: v})
        return out

    def build(self, var_list):
        """Create the shendu optimizer on ``var_list``."""
        self.inner = self._cls(list(var_list), lr=self._lr, **self._options())
        return self

    @property
    def learning_rate(self):
        return float(self.inner.param_groups[0]["lr"]) if self.built else self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = float(value)
        if self.built:
            for g in self.inner.param_groups:
                g["lr"] = float(value)

    lr = learning_rate

    def apply_gradients(self, grads_and_vars):
        """One update from ``zip(grads, vars)``; builds on those variables at the first call."""
        pairs = list(grads_and_vars)
        if not self.built:
            self.build([v for _, v in pairs])
        apply_gradients(self.inner, pairs)
        self.iterations += 1
        return self

    def step(self, closure=None):
        if not self.built:
            raise RuntimeError(f"{type(self).__name__}.step: not built; call build(vars) or apply_gradients first")
        self.iterations += 1
        return self.inner.step(closure)

    def zero_grad(self, set_to_none=True):
        if self.built:
            self.inner.zero_grad(set_to_none)

    def __getattr__(self, name):
        inner = self.__dict__.get("inner")
        if inner is None or name.startswith("__"):
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}"
                                 + ("" if inner is not None else " (not built yet)"))
        return getattr(inner, name)

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate})"


def _same(name):
    return (name, None)


class SGD(Optimizer):
    """Keras SGD(learning_rate=0.01, momentum=0.0, nesterov=False)."""

    _cls = _optim.SGD
    _names = {"momentum": _same("momentum"), "nesterov": _same("nesterov")}

    def __init__(self, learning_rate=0.01, **kwargs):
        super().__init__(learning_rate, **kwargs)


class Adam(Optimizer):
    """Keras Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)."""

    _cls = _optim.Adam
    _names = {"beta_1": ("b1", None), "beta_2": ("b2", None), "epsilon": _same("eps"), "amsgrad": _same("amsgrad")}

    def __init__(self, learning_rate=0.001, **kwargs):
        super().__init__(learning_rate, **kwargs)

    def _options(self):
        k = self._kwargs
        out = {"betas": (k.get("beta_1", 0.9), k.get("beta_2", 0.999)), "eps": k.get("epsilon", 1e-7)}
        if "amsgrad" in k:
            out["amsgrad"] = k["amsgrad"]
        return out


class RMSprop(Optimizer):
    """Keras RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)."""

    _cls = _optim.RMSprop
    _names = {"rho": _same("alpha"), "momentum": _same("momentum"), "epsilon": _same("eps"),
              "centered": _same("centered")}

    def _options(self):
        out = {"alpha": 0.9, "eps": 1e-7}
        out.update(super()._options())
        return out


class Adagrad(Optimizer):
    """Keras Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)."""

    _cls = _optim.Adagrad
    _names = {"initial_accumulator_value": _same("initial_accumulator_value"), "epsilon": _same("eps")}

    def _options(self):
        out = {"initial_accumulator_value": 0.1, "eps": 1e-7}
        out.update(super()._options())
        return out


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(name):
    """A Keras optimizer with Keras' defaults from a name ('adam', 'sgd', 'rmsprop', 'adagrad'), or None."""
    cls = _BY_NAME.get(name.lower()) if isinstance(name, str) else None
    return None if cls is None else cls()


def install():
    """Give every ``shendu.optim.Optimizer`` an ``apply_gradients(zip(grads, vars))`` method."""
    if not hasattr(_optim.Optimizer, "apply_gradients"):
        _optim.Optimizer.apply_gradients = apply_gradients
