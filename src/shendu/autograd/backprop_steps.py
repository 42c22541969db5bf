"""The named steps of one backward pass around Algorithm 6.6's loop (textbook 6.5.6), for ``engine.run_backward``.

Ordering the graph and pruning it to the requested inputs (Algorithm 6.5's G'), the version check of in-place
modification, the call of ``op.bprop`` (``Function.backward``, or its array fast path ``backward_array`` when no
graph is recorded) on the right device, profiling and anomaly checks around it, and the errors for a bprop that
breaks its contract. The bprop step is chosen once per pass, so a feature not in use costs nothing per op. The
grad_table itself (sums, leaves' totals, hooks, ``.grad``) is ``grad_table.Backprop``.
"""
from __future__ import annotations

from time import perf_counter

import numpy as np

from ..backend.device import use_device
from .tensor import Tensor, _wrap, array_of

_FREED = (
    "Trying to backward through the graph a second time (or to use saved values after they "
    "were freed). Call .backward(retain_graph=True) or sd.grad(..., retain_graph=True) the first "
    "time if you need to backward through the graph again."
)


# --- ordering and pruning (Algorithm 6.5) --------------------------------------------------------------------
def topo_order(root_fns):
    """Functions reachable from ``root_fns``, producers before consumers (DFS post-order, explicit stack)."""
    order = []
    visited = set()
    for rf in root_fns:
        if rf in visited:
            continue
        visited.add(rf)
        stack = [(rf, _children(rf))]
        while stack:
            fn, it = stack[-1]
            for child in it:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, _children(child)))
                    break
            else:
                stack.pop()
                order.append(fn)
    return order


def _children(fn):
    inputs = fn.inputs
    if inputs is None:
        raise RuntimeError(_FREED)
    for x, need in zip(inputs, fn.needs_input_grad):
        if need:
            g = x._grad_fn
            if g is not None:
                yield g


def useful_ops(root_fns, leaf_targets, node_targets):
    """The ops whose bprop contributes to a target: G pruned to the ancestors of z that descend from T (6.5)."""
    useful = set()
    for fn in topo_order(root_fns):  # producers first, so each input's status is known
        for x, need in zip(fn.inputs, fn.needs_input_grad):
            if not need:
                continue
            g = x._grad_fn
            if (g is None and id(x) in leaf_targets) or (
                g is not None and ((g, x._out_idx) in node_targets or g in useful)
            ):
                useful.add(fn)
                break
    return useful


# --- before bprop: the inputs still hold the values forward saw -------------------------------------------------
def unchanged_inputs(fn):
    """``fn.inputs``; RuntimeError if the graph was freed, or if an input whose value backward reads was
    modified in place since forward (its version counter moved)."""
    inputs = fn.inputs
    if inputs is None:
        raise RuntimeError(_FREED)
    versions = fn._versions
    if versions is not None:
        i = 0
        for x in inputs:
            if x._version != versions[i]:
                raise RuntimeError(
                    f"{type(fn).__name__}: input {i} (shape {x.shape}) was modified in place after it was used "
                    f"(version {x._version}, expected {versions[i]}); backward needs its original value. "
                    "Clone it before modifying, or modify it before the op."
                )
            i += 1
    return inputs


# --- bprop: one call per op on its summed output gradients --------------------------------------------------------
def bprop_arrays(fn, gys):
    """fn's input gradients as arrays: ``backward_array`` on the output gradient when the op has one (no graph is
    recorded), else ``backward`` on Tensors; on the GPU that holds the op's inputs."""
    fast = type(fn).backward_array
    if fast is None or fn._out_meta is not None or fn.device_index:
        return _on_device(fn, gys, False)
    gxs = fast(fn, gys[0])
    return gxs if type(gxs) is tuple else (gxs,)


def bprop_graph(fn, gys):
    """fn's input gradients as graph Tensors (``create_graph``): ``backward`` is recorded like any forward op."""
    return _on_device(fn, gys, True)


def _on_device(fn, gys, create_graph):
    if fn.device_index:  # a GPU other than cuda:0: allocate the gradients there
        with use_device(fn.device_index):
            return _call_backward(fn, gys, create_graph)
    return _call_backward(fn, gys, create_graph)


def _call_backward(fn, gys, create_graph):
    meta = fn._out_meta
    if meta is not None and any(g is None for g in gys):
        for i, g in enumerate(gys):  # an output nobody used: a zero gradient
            if g is None:
                z = fn.xp.zeros(meta[i][0], dtype=meta[i][1])
                gys[i] = _wrap(z) if create_graph else z
    cls = type(fn)
    if create_graph:
        return _as_tuple(cls.backward(fn, *gys), _as_tensor)
    if cls.backward_array is not None:
        out = cls.backward_array(fn, *gys)
        return out if type(out) is tuple else (out,)
    return _as_tuple(cls.backward(fn, *[_wrap(g) for g in gys]), array_of)


def _as_tensor(g):
    return g if isinstance(g, Tensor) else _wrap(array_of(g))


def _as_tuple(out, conv):
    if type(out) is not tuple:
        out = tuple(out) if isinstance(out, list) else (out,)
    return tuple([None if g is None else conv(g) for g in out])


def profiled(bprop, prof):
    """``bprop`` timed into the active ``autograd.profile`` (waiting for GPU work before reading the clock)."""
    from .profiler import _synchronize

    def timed(fn, gys):
        t0 = perf_counter()
        gxs = bprop(fn, gys)
        if fn.xp is not np:
            _synchronize(fn.inputs[0])
        prof._record_backward(fn, perf_counter() - t0)
        return gxs

    return timed


def anomaly_checked(bprop):
    """``bprop`` followed by anomaly mode's NaN/Inf check of the gradients it returns."""
    from .anomaly import check_backward
    from .grad_mode import _set_anomaly

    def checked(fn, gys):
        prev = _set_anomaly(False)  # the ops a backward runs are checked below, as that backward's gradients
        try:
            gxs = bprop(fn, gys)
        finally:
            _set_anomaly(prev)
        check_backward(fn, gxs)
        return gxs

    return checked


# --- after bprop: what it returned --------------------------------------------------------------------------------
def count_error(fn, gxs, inputs):
    return RuntimeError(
        f"{type(fn).__name__}.backward returned {len(gxs)} gradients, expected {len(inputs)} (one per input)"
    )


def shape_error(fn, i, gx, x):
    return RuntimeError(
        f"{type(fn).__name__}.backward returned a gradient of shape {tuple(gx.shape)} "
        f"for input {i} of shape {x._data.shape}"
    )


def as_dtype(gx, dtype, create_graph):
    """The gradient in the input's dtype (mixed-precision graphs)."""
    return gx.type(dtype) if create_graph else gx.astype(dtype)
