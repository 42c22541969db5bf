"""Parameter groups that exempt biases and normalization parameters from weight decay (textbook 7.1: penalize
the weights w, not the biases), and the name-pattern selection shared with ``shendu.regularize``.

A pattern is a string or a callable ``(name, param, module) -> bool``. A string with a glob character
(``*?[``) is matched with ``fnmatch`` against the full dotted name (``"fc1.*"``); any other string matches
when it occurs, case-insensitively, in the full name (``"bias"`` catches ``fc.bias``, ``rnn.bias_ih_l0``,
``attn.in_proj_bias``) or in the class name of the module that owns the parameter (``"norm"`` catches the
weight and bias of every ``BatchNorm*``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``, whatever it is called).
"""
from __future__ import annotations

import fnmatch

__all__ = ["param_groups", "named_parameters_with_owner", "matches", "select_parameters"]

_DEFAULT_NO_DECAY = ("bias", "norm")


def named_parameters_with_owner(model):
    """``(full_name, param, owning_module)`` for each distinct parameter of ``model`` (a Module)."""
    if not hasattr(model, "named_modules"):
        raise TypeError(f"named_parameters_with_owner: expected an nn.Module, got {type(model).__name__}")
    seen = set()
    for prefix, mod in model.named_modules():
        for name, p in mod._parameters.items():
            if p is None or id(p) in seen:
                continue
            seen.add(id(p))
            yield (f"{prefix}.{name}" if prefix else name), p, mod


def _as_patterns(patterns, who, arg):
    if patterns is None:
        return ()
    if isinstance(patterns, str) or callable(patterns):
        return (patterns,)
    try:
        out = tuple(patterns)
    except TypeError:
        raise TypeError(f"{who}: {arg} must be a pattern string, a callable or a sequence of them, "
                        f"got {type(patterns).__name__}") from None
    for pat in out:
        if not (isinstance(pat, str) or callable(pat)):
            raise TypeError(f"{who}: {arg} entries must be strings or callables (name, param, module) -> bool, "
                            f"got {type(pat).__name__}")
    return out


def matches(name, param, module, patterns) -> bool:
    """Whether parameter ``name`` (owned by ``module``) matches one of ``patterns`` (see the module docstring)."""
    low = name.lower()
    owner = type(module).__name__.lower() if module is not None else ""
    for pat in patterns:
        if callable(pat):
            if pat(name, param, module):
                return True
        elif any(c in pat for c in "*?["):
            if fnmatch.fnmatchcase(name, pat):
                return True
        else:
            pl = pat.lower()
            if pl in low or (owner and pl in owner):
                return True
    return False


def select_parameters(model, include=None, exclude=_DEFAULT_NO_DECAY, who="select_parameters"):
    """``[(name, param, module)]`` of the parameters of ``model`` that match ``include`` (all when None) and do
    not match ``exclude``."""
    inc = _as_patterns(include, who, "include")
    exc = _as_patterns(exclude, who, "exclude")
    return [(n, p, m) for n, p, m in named_parameters_with_owner(model)
            if (not inc or matches(n, p, m, inc)) and not matches(n, p, m, exc)]


def param_groups(model, weight_decay=0.0, no_decay=_DEFAULT_NO_DECAY, **options):
    """Two parameter groups for any optimizer: ``[{"params": weights, "weight_decay": weight_decay},
    {"params": biases_and_norms, "weight_decay": 0.0}]`` (textbook 7.1: decay the weights only).

    ``no_decay``: patterns (see module docstring) of the parameters exempt from decay; ``options`` (e.g. ``lr``)
    go into both groups. Use: ``optim.AdamW(optim.param_groups(model, weight_decay=1e-2), lr=1e-3)``.
    """
    if not isinstance(weight_decay, (int, float)) or isinstance(weight_decay, bool) or weight_decay < 0:
        raise ValueError(f"param_groups: weight_decay must be a number >= 0, got {weight_decay!r}")
    pats = _as_patterns(no_decay, "param_groups", "no_decay")
    decay, rest = [], []
    for n, p, m in named_parameters_with_owner(model):
        (rest if matches(n, p, m, pats) else decay).append(p)
    return [dict(options, params=decay, weight_decay=float(weight_decay)),
            dict(options, params=rest, weight_decay=0.0)]
