"""Regularizers and constraints inside the fit loop (textbook 7.1 parameter norm penalties, 7.2 norm
constraints by reprojection): checking them, summing the penalties into the loss, applying constraints after a step.
"""
from __future__ import annotations

from ...autograd.tensor import Tensor


def _check_regs(regularizers, constraints):
    """Lists of regularizers (callables model -> scalar Tensor) and constraints (``.apply(model, optimizer)`` or
    callables model -> None), checked."""
    regs = [regularizers] if callable(regularizers) else list(regularizers or ())
    cons = [constraints] if callable(constraints) or hasattr(constraints, "apply") else list(constraints or ())
    for r in regs:
        if not callable(r):
            raise TypeError(f"fit: regularizers must be callables model -> scalar Tensor, got {type(r).__name__}")
    for c in cons:
        if not (callable(c) or hasattr(c, "apply")):
            raise TypeError(f"fit: constraints must have .apply(model, optimizer) or be callables model -> None, "
                            f"got {type(c).__name__}")
    return regs, cons


def _sum_penalties(regs, model):
    total = None
    for r in regs:
        v = r(model)
        if not isinstance(v, Tensor) or v.ndim != 0:
            raise ValueError(f"fit: regularizer {r!r} must return a scalar Tensor, got "
                             f"{type(v).__name__} {getattr(v, 'shape', '')}")
        total = v if total is None else total + v
    return total


def _apply_constraints(model, cons, opt):
    for c in cons:
        if hasattr(c, "apply"):
            c.apply(model, opt)
        else:
            c(model)
