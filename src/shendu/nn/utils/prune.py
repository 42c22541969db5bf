"""Magnitude pruning (textbook 12.1.4, model compression), with PyTorch's ``torch.nn.utils.prune`` names.

``l1_unstructured(module, "weight", amount)`` moves the parameter to ``weight_orig``, adds a buffer
``weight_mask`` (1 keep, 0 pruned) that zeroes the ``amount`` (fraction in [0, 1] or a count) entries of
smallest |w|, and makes ``module.weight`` read as ``weight_orig * weight_mask`` (recomputed on every access,
so fine-tuning updates ``weight_orig`` and pruned entries stay 0 and get zero gradient). Pruning again prunes
among the entries still kept (PyTorch's PruningContainer). ``remove`` makes it permanent: ``weight`` becomes
a plain Parameter holding the masked values."""
from __future__ import annotations

import numbers

import numpy as np

from ...autograd.tensor import _wrap
from ...backend import generator_for, namespace_of
from ..parameter import Parameter

_CLASSES = {}


def _masked_property(name):
    def get(self):
        return self._parameters[name + "_orig"] * self._buffers[name + "_mask"]

    return property(get, doc=f"{name} = {name}_orig * {name}_mask (pruned)")


def _base(cls):
    return getattr(cls, "_prune_base", cls)


def _set_class(module, names):
    base = _base(type(module))
    names = tuple(sorted(names))
    if not names:
        module.__class__ = base
        return
    key = (base, names)
    if key not in _CLASSES:
        attrs = {n: _masked_property(n) for n in names}
        attrs.update(_prune_base=base, _pruned_names=names, __module__=base.__module__)
        _CLASSES[key] = type(base.__name__, (base,), attrs)
    module.__class__ = _CLASSES[key]


def _n_to_prune(amount, n, who):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"{who}: amount must be a float in [0, 1] or a non-negative int, got {amount!r}")
    if isinstance(amount, numbers.Integral):
        if amount < 0 or amount > n:
            raise ValueError(f"{who}: amount={amount} must lie in [0, {n}] (the number of entries to prune)")
        return int(amount)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"{who}: amount={amount} must be a fraction in [0, 1]")
    return int(round(amount * n))


def is_pruned(module) -> bool:
    """Whether any sub-module of ``module`` has a pruned parameter."""
    return any(getattr(type(m), "_pruned_names", ()) for m in module.modules())


def _current(module, name, who):
    """(orig Parameter, current mask array or None)."""
    pruned = getattr(type(module), "_pruned_names", ())
    if name in pruned:
        return module._parameters[name + "_orig"], module._buffers[name + "_mask"]._data
    p = module._parameters.get(name)
    if p is None:
        raise ValueError(f"{who}: {type(module).__name__} has no parameter named {name!r}")
    return p, None


def _apply_mask(module, name, new_mask):
    """Install ``new_mask`` (array, same shape as the parameter) for ``module.<name>``."""
    pruned = set(getattr(type(module), "_pruned_names", ()))
    if name in pruned:
        module._buffers[name + "_mask"] = _wrap(new_mask)
        return module
    p = module._parameters.pop(name)
    module._parameters[name + "_orig"] = p
    module.register_buffer(name + "_mask", _wrap(new_mask))
    _set_class(module, pruned | {name})
    return module


def _prune_smallest(scores, mask, k):
    """A mask zeroing the k smallest ``scores`` among entries where ``mask`` is 1 (all entries if mask None)."""
    xp = namespace_of(scores)
    flat = scores.reshape(-1).astype(np.float64)
    keep = xp.ones(flat.shape, dtype=scores.dtype) if mask is None else mask.reshape(-1).astype(scores.dtype)
    if k:
        big = xp.where(keep > 0, flat, xp.inf)  # already-pruned entries are never chosen again
        order = xp.argsort(big, kind="stable")
        keep[order[:k]] = 0
    return keep.reshape(scores.shape)


def l1_unstructured(module, name: str, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` with the smallest |w| (or ``importance_scores``)."""
    orig, mask = _current(module, name, "l1_unstructured")
    scores = orig._data if importance_scores is None else importance_scores._data
    if tuple(scores.shape) != tuple(orig.shape):
        raise ValueError(f"l1_unstructured: importance_scores shape {tuple(scores.shape)} != parameter shape "
                         f"{tuple(orig.shape)}")
    left = orig._data.size if mask is None else int((mask > 0).sum())
    k = _n_to_prune(amount, left, "l1_unstructured")
    return _apply_mask(module, name, _prune_smallest(namespace_of(scores).abs(scores), mask, k))


def random_unstructured(module, name: str, amount):
    """Prune ``amount`` entries of ``module.<name>`` chosen uniformly at random (a baseline for magnitude pruning)."""
    orig, mask = _current(module, name, "random_unstructured")
    left = orig._data.size if mask is None else int((mask > 0).sum())
    k = _n_to_prune(amount, left, "random_unstructured")
    r = generator_for(orig._data).random(orig.shape, dtype=np.float64)
    return _apply_mask(module, name, _prune_smallest(r, mask, k).astype(orig._data.dtype))


def ln_structured(module, name: str, amount, n=2, dim: int = 0, importance_scores=None):
    """Prune whole slices along ``dim`` (e.g. output units for dim 0) with the smallest L``n`` norm."""
    orig, mask = _current(module, name, "ln_structured")
    w = orig._data if importance_scores is None else importance_scores._data
    xp = namespace_of(w)
    d = dim % w.ndim
    axes = tuple(i for i in range(w.ndim) if i != d)
    cur = w if mask is None else w * mask
    norms = (xp.abs(cur) ** n).sum(axis=axes) ** (1.0 / n) if n != float("inf") else xp.abs(cur).max(axis=axes)
    k = _n_to_prune(amount, w.shape[d], "ln_structured")
    keep = _prune_smallest(norms, None, k)
    shape = [1] * w.ndim
    shape[d] = w.shape[d]
    new = xp.broadcast_to(keep.reshape(shape), w.shape).astype(orig._data.dtype)
    if mask is not None:
        new = new * mask
    return _apply_mask(module, name, new)


class L1Unstructured:
    """Pruning-method marker for ``global_unstructured`` (PyTorch's prune.L1Unstructured)."""


class RandomUnstructured:
    """Pruning-method marker for ``global_unstructured``."""


def global_unstructured(parameters, pruning_method=L1Unstructured, importance_scores=None, amount=0.2):
    """Prune ``amount`` of all entries of the (module, name) pairs together: the smallest |w| over all of them."""
    params = list(parameters)
    if pruning_method not in (L1Unstructured, RandomUnstructured):
        raise ValueError("global_unstructured: pruning_method must be prune.L1Unstructured or prune.RandomUnstructured")
    origs, masks = zip(*[_current(m, n, "global_unstructured") for m, n in params])
    xp = namespace_of(origs[0]._data)
    if pruning_method is L1Unstructured:
        given = importance_scores or {}  # {(module, name): tensor}, as PyTorch
        scores = [xp.abs(given.get((m, n), o)._data) for (m, n), o in zip(params, origs)]
    else:
        scores = [generator_for(o._data).random(o.shape, dtype=np.float64) for o in origs]
    flat = xp.concatenate([s.reshape(-1).astype(np.float64) for s in scores])
    fmask = xp.concatenate([(xp.ones(o.shape, dtype=np.float64) if mk is None else mk.astype(np.float64)).reshape(-1)
                            for o, mk in zip(origs, masks)])
    k = _n_to_prune(amount, int((fmask > 0).sum()), "global_unstructured")
    keep = _prune_smallest(flat, fmask, k)
    pos = 0
    for (m, n), o in zip(params, origs):
        size = o._data.size
        _apply_mask(m, n, keep[pos:pos + size].reshape(o.shape).astype(o._data.dtype))
        pos += size


def identity(module, name: str):
    """Install an all-ones mask (pruned form, nothing pruned)."""
    orig, mask = _current(module, name, "identity")
    if mask is None:
        mask = namespace_of(orig._data).ones(orig.shape, dtype=orig._data.dtype)
    return _apply_mask(module, name, mask)


def remove(module, name: str):
    """Make the pruning of ``module.<name>`` permanent: a plain Parameter ``name`` = orig * mask; drop orig/mask."""
    pruned = set(getattr(type(module), "_pruned_names", ()))
    if name not in pruned:
        raise ValueError(f"remove: parameter {name!r} of {type(module).__name__} is not pruned")
    orig = module._parameters.pop(name + "_orig")
    mask = module._buffers.pop(name + "_mask")
    _set_class(module, pruned - {name})
    p = Parameter(orig._data * mask._data)
    p.requires_grad = orig.requires_grad
    module._parameters[name] = p
    return module


def sparsity(module, name: str = "weight") -> float:
    """Fraction of zero entries of ``module.<name>``."""
    w = getattr(module, name)._data
    return float((w == 0).sum()) / max(w.size, 1)


__all__ = ["L1Unstructured", "RandomUnstructured", "global_unstructured", "identity", "is_pruned", "l1_unstructured",
           "ln_structured", "random_unstructured", "remove", "sparsity"]
