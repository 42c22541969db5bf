"""Search spaces for hyperparameter search (textbook 11.4.3-11.4.4), parsed from strings such as the CLI's --param.

Grammar ``NAME=KIND:ARGS`` (KIND case-insensitive):

    lr=loguniform:1e-4:1e-1          log-uniform real: exp(u(log a, log b)) (11.2-11.3)
    wd=uniform:0:1e-3                uniform real on [a, b]
    hidden=int:50:2000[:log]         integer on [a, b] (":log": log-uniform, then rounded; 11.3)
    act=categorical:relu,tanh        one of the values (numbers are parsed as int/float)
    bn=bernoulli:0.3                 True with probability p (a binary hyperparameter; p=0.5 by default)
    lr=grid:0.1,0.01,0.001           a finite set of values (grid search; any sampler treats it as categorical)
    lr=loggrid:1e-5:1e-1:5           n values spaced evenly on a log scale from a to b (grid search, 11.4.3)
    depth=fixed:3                    a constant

A space is a dict name -> `Param`. ``Param.suggest(trial)`` draws the value with an Optuna trial, so the same
space serves grid, random, TPE and GP search. A Bernoulli(p) is drawn as u ~ U(0, 1), value = u < p
(the uniform is what the sampler sees, parameter ``NAME``; the trial's user attribute ``NAME`` holds the
boolean); with p = 0.5 it is a categorical {False, True}.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Param", "parse_param", "parse_space", "grid_values", "refine_grid"]

KINDS = ("loguniform", "uniform", "int", "categorical", "bernoulli", "grid", "loggrid", "fixed")


@dataclass(frozen=True)
class Param:
    """One hyperparameter's marginal distribution: kind in KINDS, low/high, log, choices or p."""

    name: str
    kind: str
    low: float = None
    high: float = None
    log: bool = False
    choices: tuple = None
    p: float = None

    def suggest(self, trial):
        """The value drawn by an Optuna ``trial`` (a real, an int, a choice or a bool)."""
        n = self.name
        if self.kind in ("loguniform", "uniform"):
            return trial.suggest_float(n, self.low, self.high, log=self.kind == "loguniform")
        if self.kind == "int":
            return trial.suggest_int(n, int(self.low), int(self.high), log=self.log)
        if self.kind in ("categorical", "grid", "loggrid"):
            return trial.suggest_categorical(n, list(self.choices))
        if self.kind == "bernoulli":
            if self.p == 0.5 or type(getattr(getattr(trial, "study", None), "sampler", None)).__name__ == "GridSampler":
                return trial.suggest_categorical(n, [False, True])
            value = trial.suggest_float(n, 0.0, 1.0) < self.p
            trial.set_user_attr(n, bool(value))
            return bool(value)
        return self.choices[0]  # fixed

    def grid(self):
        """The values this parameter takes in a grid search (finite kinds only)."""
        if self.kind in ("categorical", "grid", "loggrid", "fixed"):
            return list(self.choices)
        if self.kind == "bernoulli":
            return [False, True]
        raise ValueError(f"grid search: parameter {self.name!r} is {self.kind}:{self.low}:{self.high}, a continuous "
                         "range; give it as grid:v1,v2,... or loggrid:LOW:HIGH:N")


def _number(text):
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _float(text, spec):
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"search space {spec!r}: {text!r} is not a number") from None


def grid_values(low, high, n, log=True):
    """n values from low to high, evenly spaced on a log scale (log=True, textbook 11.4.3) or a linear one."""
    if n < 1:
        raise ValueError(f"grid_values: n must be >= 1, got {n}")
    if log:
        if low <= 0 or high <= 0:
            raise ValueError(f"grid_values: a log grid needs low, high > 0, got {low}, {high}")
        vals = np.geomspace(low, high, n)
    else:
        vals = np.linspace(low, high, n)
    return [float(v) for v in vals]


def parse_param(spec: str) -> Param:
    """``'lr=loguniform:1e-4:1e-1'`` -> Param (see the module docstring for the grammar)."""
    if "=" not in spec:
        raise ValueError(f"search space {spec!r}: expected NAME=KIND:ARGS, e.g. lr=loguniform:1e-4:1e-1")
    name, rest = spec.split("=", 1)
    name = name.strip()
    if not name.isidentifier():
        raise ValueError(f"search space {spec!r}: {name!r} is not a valid parameter name")
    kind, _, args = rest.partition(":")
    kind = kind.strip().lower()
    parts = args.split(":") if args else []
    if kind == "log-uniform":
        kind = "loguniform"
    if kind not in KINDS:
        raise ValueError(f"search space {spec!r}: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind in ("loguniform", "uniform", "int"):
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip().lower() != "log"):
            raise ValueError(f"search space {spec!r}: expected {kind}:LOW:HIGH" + ("[:log]" if kind == "int" else ""))
        low, high = _float(parts[0], spec), _float(parts[1], spec)
        log = kind == "loguniform" or len(parts) == 3
        if kind == "uniform" and log:
            kind = "loguniform"
        if not low < high:
            raise ValueError(f"search space {spec!r}: LOW must be < HIGH, got {low} and {high}")
        if log and low <= 0:
            raise ValueError(f"search space {spec!r}: a log scale needs LOW > 0, got {low}")
        if kind == "int" and (low != int(low) or high != int(high)):
            raise ValueError(f"search space {spec!r}: int bounds must be integers, got {low} and {high}")
        return Param(name, kind, low, high, log=log)
    if kind in ("categorical", "grid"):
        choices = tuple(_number(c) for c in args.split(",") if c.strip())
        if not choices:
            raise ValueError(f"search space {spec!r}: expected {kind}:V1,V2,...")
        return Param(name, kind, choices=choices)
    if kind == "loggrid":
        if len(parts) != 3:
            raise ValueError(f"search space {spec!r}: expected loggrid:LOW:HIGH:N")
        n = _number(parts[2])
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"search space {spec!r}: N must be an int >= 1, got {parts[2]!r}")
        return Param(name, kind, choices=tuple(grid_values(_float(parts[0], spec), _float(parts[1], spec), n)))
    if kind == "bernoulli":
        p = 0.5 if not parts else _float(parts[0], spec)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"search space {spec!r}: p must be in [0, 1], got {p}")
        return Param(name, kind, p=p)
    if len(parts) != 1:
        raise ValueError(f"search space {spec!r}: expected fixed:VALUE")
    return Param(name, kind, choices=(_number(parts[0]),))


def parse_space(space) -> dict:
    """A search space as a dict name -> Param, from a list of 'NAME=KIND:ARGS' strings, a dict of such strings
    (name -> 'KIND:ARGS'), a dict of lists (grid values) or Params."""
    if isinstance(space, str):
        space = [space]
    out = {}
    if isinstance(space, dict):
        for name, v in space.items():
            if isinstance(v, Param):
                out[name] = v
            elif isinstance(v, str):
                out[name] = parse_param(f"{name}={v}")
            elif isinstance(v, (list, tuple)):
                if not v:
                    raise ValueError(f"search space: parameter {name!r} has no values")
                out[name] = Param(name, "grid", choices=tuple(v))
            else:
                raise TypeError(f"search space: parameter {name!r} must be a 'KIND:ARGS' string, a list of values or "
                                f"a Param, got {type(v).__name__}")
        return out
    for s in space:
        p = s if isinstance(s, Param) else parse_param(s)
        if p.name in out:
            raise ValueError(f"search space: parameter {p.name!r} given twice")
        out[p.name] = p
    return out


def refine_grid(values, best, *, log=None, zoom=10.0):
    """The chapter's iterative grid refinement (textbook 11.4.3): if ``best`` is at an edge of the sorted grid,
    shift the grid past that edge (the range was underestimated): {-1, 0, 1}, best 1 -> {1, 2, 3}; if it is
    interior, zoom in around it by ``zoom``: best 0 -> {-0.1, 0, 0.1}.

    log: work on log10 of the values (default: all values > 0 and spanning more than a factor 10), so
    {1e-3, 1e-2, 1e-1} with best 1e-1 -> {1e-1, 1, 10} and best 1e-2 -> 10^{-2.1, -2, -1.9}. Values keep their count."""
    vals = sorted(float(v) for v in values)
    if len(vals) < 2:
        raise ValueError(f"refine_grid: need at least 2 grid values, got {values!r}")
    if best not in vals and not any(math.isclose(best, v, rel_tol=1e-12) for v in vals):
        raise ValueError(f"refine_grid: best value {best!r} is not one of the grid values {vals}")
    if log is None:
        log = vals[0] > 0 and vals[-1] / vals[0] > 10
    if log and vals[0] <= 0:
        raise ValueError("refine_grid: log=True needs positive values")
    tr = (lambda v: math.log10(v)) if log else (lambda v: v)
    inv = (lambda v: 10.0 ** v) if log else (lambda v: v)
    t = [tr(v) for v in vals]
    b = tr(float(best))
    k = min(range(len(t)), key=lambda i: abs(t[i] - b))
    n = len(t)
    if k == n - 1:  # best at the top edge: shift up so the best becomes the lowest value
        step = t[-1] - t[-2]
        new = [t[-1] + i * step for i in range(n)]
    elif k == 0:
        step = t[1] - t[0]
        new = [t[0] - (n - 1 - i) * step for i in range(n)]
    else:  # interior: zoom in around the best (same count, spacing / zoom)
        span = (t[-1] - t[0]) / (n - 1) / zoom
        new = [b + (i - (n - 1) / 2) * span for i in range(n)]
        if n % 2 == 0:  # keep the best value itself in the grid
            new = [b + (i - (n // 2 - 1)) * span for i in range(n)]
    return [_clean(inv(v)) for v in new]


def _clean(v):
    r = float(f"{v:.12g}")
    return int(r) if r == int(r) and abs(r) < 1e15 and not isinstance(v, float) else r
