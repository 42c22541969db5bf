"""Reverse-mode automatic differentiation: the back-propagation engine (textbook 6.5.6, Algorithms 6.5/6.6).

``run_backward`` is Algorithm 6.6 done iteratively: the ops below the outputs are visited in reverse
topological order (the newest op first: an op is numbered after every op it consumes, so all its consumers
have run before it), each op's bprop (``Function.backward``) is called once on the sum of the gradients from
all its consumers (the grad_table), and the leaves get their totals at the end. The extra steps (pruning to the
requested inputs, hooks, version checks, profiling, anomaly checks, device selection, shape/dtype checks) are
the named helpers of ``backprop_steps`` and ``grad_table``. Reference (the same algorithm in ~30 lines, no extras):
shendu.reference.engine.backward.
"""
from __future__ import annotations

from heapq import heappop

import numpy as np

from ..backend import device_of, namespace_of, to_device
from . import backprop_steps as steps
from .grad_mode import _GRAD_OFF, _Mode, _ModeState, refuse_while_tracing, set_mode
from .grad_table import Backprop
from .tensor import Tensor, _wrap


def run_backward(
    roots, root_grads, *, retain_graph, create_graph, leaf_targets=None, node_targets=None, accumulate=True
):
    """Back-propagate ``root_grads`` from ``roots`` (Algorithm 6.6; textbook 6.5.6).

    With ``accumulate`` the gradients are added to leaves' ``.grad`` (only the leaves in ``leaf_targets`` when
    given). Without it, the gradients of ``leaf_targets`` (ids of leaf tensors) and ``node_targets`` ((fn, index)
    of non-leaf tensors) are returned in a dict. Gradients are raw arrays unless ``create_graph``, when they are
    graph Tensors (the gradient ops are recorded: 6.6's "insert G into the graph").
    """
    if _ModeState.tracing_any:
        refuse_while_tracing("a backward pass")
    bp = Backprop(roots, root_grads, create_graph, leaf_targets, node_targets, accumulate)  # grad_table[z]=dz/dz
    heap = bp.heap  # the ops whose gradient is in the table, newest first
    table, sum_into, watch = bp.table, bp.sum_into, bp.prune is not None or bool(node_targets)
    unchanged_inputs, bprop = steps.unchanged_inputs, _bprop_for(create_graph)
    prev = _record_gradient_ops(create_graph)
    try:
        while heap:  # reverse topological order: every consumer of fn has already sent its gradient
            fn = heappop(heap)[2]
            gys = table.pop(fn)  # fn's output gradients, summed over its consumers (G of Algorithm 6.6)
            if (watch or fn._out_hooks) and not bp.visit(fn, gys):  # hooks, sd.grad targets; False: pruned
                continue
            inputs = unchanged_inputs(fn)  # refused when freed or modified in place since forward
            gxs = bprop(fn, gys)  # op.bprop, called once per op (6.54)
            if not retain_graph:
                fn.inputs = fn.saved = None  # free the graph as we go
            sum_into(fn, inputs, gxs, heap)  # grad_table[x] += dx for each input x; new ops join the heap
        bp.hand_over_leaves(accumulate)  # each leaf gets its total: hooks, .grad, post-accumulate hooks
    finally:
        _restore_grad_mode(prev, create_graph)
    return bp.captured


def _bprop_for(create_graph):
    """This pass's bprop step: on arrays, or recorded (create_graph); timed and anomaly-checked when on."""
    bprop = steps.bprop_graph if create_graph else steps.bprop_arrays
    prof = _ModeState._profiler
    if prof is not None:
        bprop = steps.profiled(bprop, prof)
    if _ModeState.anomaly_any and _Mode.anomaly:
        bprop = steps.anomaly_checked(bprop)
    return bprop


def _record_gradient_ops(create_graph):
    """Grad mode for the pass (the calling thread's): off, unless ``create_graph``; returns the previous mode."""
    prev = _Mode.grad_enabled
    if prev and not create_graph:  # set_mode(False), inlined (one backward per step: keep it cheap)
        _GRAD_OFF.append(None)
        _Mode.grad_enabled = False
    elif create_graph and not prev:
        set_mode(True)
    return prev


def _restore_grad_mode(prev, create_graph):
    if prev and not create_graph:
        _Mode.grad_enabled = True
        _GRAD_OFF.pop()
    elif create_graph and not prev:
        set_mode(False)


def _root_grad(t, gradient, create_graph, what="backward"):
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"{what}: grad can be implicitly created only for scalar outputs; got an output of shape "
                f"{t.shape}. Pass `gradient=` (a tensor of the output's shape) for a vector-Jacobian product."
            )
        g = namespace_of(t._data).ones_like(t._data)
    else:
        g = (
            gradient._data
            if isinstance(gradient, Tensor)
            else to_device(np.asarray(gradient, dtype=t._data.dtype), device_of(t._data))
        )
        if g.shape != t._data.shape:
            raise RuntimeError(f"{what}: gradient has shape {g.shape} but the output has shape {t.shape}")
        if create_graph and isinstance(gradient, Tensor):
            return gradient
        if g.dtype != t._data.dtype:
            g = g.astype(t._data.dtype)
    return _wrap(g) if create_graph else g


def _check_root(t, i, what):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: expected Tensors, got {type(t).__name__} at position {i}")
    if not t._requires_grad:
        raise RuntimeError(
            f"{what}: element {i} of the outputs does not require grad and has no grad_fn "
            "(was it computed under no_grad, or from tensors with requires_grad=False?)"
        )


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves (``sd.autograd.backward``)."""
    if inputs is None and type(tensors) is Tensor and (grad_tensors is None or hasattr(grad_tensors, "shape")):
        _check_root(tensors, 0, "backward")  # one output, every leaf (Tensor.backward): no lists to build
        g = _root_grad(tensors, grad_tensors, create_graph)
        retain = create_graph if retain_graph is None else retain_graph
        run_backward((tensors,), (g,), retain_graph=retain, create_graph=create_graph)
        return
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor) or hasattr(grad_tensors, "shape"):
        grad_tensors = [grad_tensors] * len(tensors) if grad_tensors is None else [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(tensors):
        _check_root(t, i, "backward")
    grads = [_root_grad(t, g, create_graph) for t, g in zip(tensors, grad_tensors)]
    leaf_targets = node_targets = None
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        leaf_targets = {id(x) for x in inputs if x._grad_fn is None}
        node_targets = {(x._grad_fn, x._out_idx): x for x in inputs if x._grad_fn is not None}
        for x in node_targets.values():
            x.retain_grad()
    run_backward(tensors, grads, retain_graph=retain_graph, create_graph=create_graph,
                 leaf_targets=leaf_targets, node_targets=node_targets)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return d(outputs)/d(inputs) as a tuple without touching ``.grad`` (``sd.grad``).

    With ``create_graph=True`` the result is differentiable again (for Hessian-vector
    products and Newton's method)."""
    single = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(outputs):
        _check_root(t, i, "grad")
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x._requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    grads = [_root_grad(t, g, create_graph, "grad") for t, g in zip(outputs, grad_outputs)]
    leaf_targets = {id(x) for x in inputs if x._grad_fn is None}
    node_targets = {(x._grad_fn, x._out_idx): x for x in inputs if x._grad_fn is not None}
    # An input that is itself an output receives the output's seed gradient directly.
    captured = run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                            leaf_targets=leaf_targets, node_targets=node_targets, accumulate=False)
    for t, g in zip(outputs, grads):
        key = (t._grad_fn, t._out_idx)
        if t._grad_fn is not None and key in node_targets and key not in captured:
            captured[key] = g
    result = []
    for i, x in enumerate(inputs):
        key = id(x) if x._grad_fn is None else (x._grad_fn, x._out_idx)
        g = captured.get(key)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
            result.append(None)
        else:
            result.append(g if create_graph else _wrap(g))
    return tuple(result)
