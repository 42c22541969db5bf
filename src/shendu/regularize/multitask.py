"""Multi-task loss (textbook 7.7): L = sum_t w_t L_t(outputs_t, targets_t) over tasks, where examples whose label
for task t is missing (mask False, or a NaN target) are left out of L_t: they add nothing and send no gradient
through head t (ignored, not treated as zero). Pair it with ``nn.MultiTask(trunk, heads)``."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import device_of, is_host, to_device, to_host
from ..ops import index_select


def _present(name, tgt, mask, n):
    """Host bool array (n,): True where task ``name`` has a label (mask and no NaN in the row)."""
    keep = np.ones(n, dtype=bool)
    if mask is not None:
        m = mask._data if isinstance(mask, Tensor) else mask
        m = np.asarray(m if type(m) is np.ndarray or is_host(m) else to_host(m)).astype(bool).reshape(-1)
        if m.shape[0] != n:
            raise ValueError(f"multitask_loss: mask of task {name!r} has {m.shape[0]} entries for a batch of {n}")
        keep &= m
    t = tgt._data if isinstance(tgt, Tensor) else tgt
    if getattr(t, "dtype", None) is not None and t.dtype.kind == "f":
        th = t if type(t) is np.ndarray or is_host(t) else to_host(t)
        th = np.asarray(th)
        if th.shape[:1] != (n,):
            raise ValueError(f"multitask_loss: target of task {name!r} has shape {tuple(th.shape)} for a batch of {n}")
        keep &= ~np.isnan(th.reshape(n, -1)).any(axis=1)
    return keep


def _rows(v, idx):
    """Rows ``idx`` (host int array) of a Tensor (differentiable) or an array (on its own device)."""
    if isinstance(v, Tensor):
        return index_select(v, 0, idx)
    if type(v) is np.ndarray or is_host(v):
        return np.asarray(v)[idx]
    return v[to_device(idx, device_of(v))]


def multitask_loss(outputs: dict, targets: dict, losses, weights=None, masks=None, return_parts: bool = False):
    """Weighted multi-task loss sum_t w_t L_t (textbook 7.7).

    outputs: {task: (N, ...) Tensor} (e.g. from ``nn.MultiTask``); targets: {task: (N, ...) target}; only tasks
    in ``targets`` count. losses: one callable ``loss(output, target)`` for every task or {task: callable};
    weights: {task: w} (default 1); masks: {task: (N,) bool, True = label present}. A float target row with a
    NaN is missing too. L_t is the task loss over the examples that have a label (its own reduction, e.g. the
    mean over them); a task with no label in the batch adds 0. ``return_parts``: also return {task: L_t}."""
    if not isinstance(outputs, dict) or not isinstance(targets, dict):
        raise TypeError("multitask_loss: outputs and targets must be dicts task -> tensor")
    weights, masks = weights or {}, masks or {}
    for extra, what in ((weights, "weights"), (masks, "masks")):
        bad = [t for t in extra if t not in outputs]
        if bad:
            raise KeyError(f"multitask_loss: {what} name tasks {bad} that are not in outputs {list(outputs)}")
    total, parts = None, {}
    for name, tgt in targets.items():
        if name not in outputs:
            raise KeyError(f"multitask_loss: no output for task {name!r} (outputs: {list(outputs)})")
        fn = losses.get(name) if isinstance(losses, dict) else losses
        if not callable(fn):
            raise TypeError(f"multitask_loss: no loss callable for task {name!r}")
        out = outputs[name]
        n = int(out.shape[0])
        keep = _present(name, tgt, masks.get(name), n)
        if not keep.any():
            parts[name] = None
            continue
        if keep.all():
            lt = fn(out, tgt)
        else:
            idx = np.flatnonzero(keep)
            lt = fn(_rows(out, idx), _rows(tgt, idx))
        parts[name] = lt
        w = weights.get(name, 1.0)
        term = lt * float(w) if w != 1 else lt
        total = term if total is None else total + term
    if total is None:  # no label for any task in this batch
        first = next(iter(outputs.values()))
        total = index_select(first, 0, np.zeros(0, dtype=np.intp)).sum()  # 0, still on the graph
    return (total, parts) if return_parts else total
