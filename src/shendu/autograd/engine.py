"""Reverse-mode automatic differentiation: the back-propagation engine (textbook 6.5.6).

Algorithm 6.5/6.6 of the textbook, done iteratively: the graph below the outputs is
ordered once by an explicit-stack depth-first search (no recursion limit on deep graphs),
pruned to the part that reaches the requested inputs, and walked in reverse topological
order; each node's bprop (``Function.backward``) is called once with the sum of the
gradients from all its consumers (the grad_table of Algorithm 6.6).
Reference (the same algorithm in ~30 lines, no extras): shendu.reference.engine.backward.
"""
from __future__ import annotations

import heapq
from time import perf_counter

import numpy as np

from ..backend import device_of, namespace_of, to_device
from ..backend.device import use_device
from .grad_mode import _GRAD_OFF, _Mode, _ModeState, set_mode
from .tensor import _POST_HOOKS, Tensor, _wrap, array_of

_FREED = (
    "Trying to backward through the graph a second time (or to use saved values after they "
    "were freed). Call .backward(retain_graph=True) or sd.grad(..., retain_graph=True) the first "
    "time if you need to backward through the graph again."
)


def _topo_order(root_fns):
    """Functions reachable from ``root_fns``, producers before consumers (DFS post-order)."""
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


def _useful(order, leaf_targets, node_targets):
    """The set of functions whose backward contributes to a target (Algorithm 6.5's pruning)."""
    useful = set()
    for fn in order:  # producers first, so each input's status is known
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


def _version_error(fn, i, x, saved_version):
    return RuntimeError(
        f"{type(fn).__name__}: input {i} (shape {x.shape}) was modified in place after it was used "
        f"(version {x._version}, expected {saved_version}); backward needs its original value. "
        "Clone it before modifying, or modify it before the op."
    )


def run_backward(
    roots, root_grads, *, retain_graph, create_graph, leaf_targets=None, node_targets=None, accumulate=True
):
    """Back-propagate ``root_grads`` from ``roots``.

    With ``accumulate`` the gradients are added to leaves' ``.grad`` (only the leaves in
    ``leaf_targets`` when given). Without it, the gradients of ``leaf_targets`` (ids of leaf
    tensors) and ``node_targets`` ((fn, index) of non-leaf tensors) are returned in a dict.
    Gradients are raw arrays unless ``create_graph``, when they are graph Tensors.
    """
    captured = {}
    buffers = {}
    # Leaf gradients are summed here during the pass and handed to the leaves at the end
    # (PyTorch's AccumulateGrad: hooks see the total): id(leaf) -> [leaf, gradient].
    leaves = {}
    # ids of gradient arrays this pass allocated itself while summing (never aliased
    # elsewhere): later contributions are added into them in place.
    owned = set()
    # ids of arrays handed to a .grad in this pass, and of the caller's seed gradients: such an
    # array is copied before another tensor's .grad gets it (no two .grad share memory).
    stored = {id(g) for g in root_grads}
    for r, g in zip(roots, root_grads):
        fn = r._grad_fn
        if fn is None:
            if leaf_targets is None or id(r) in leaf_targets:
                _add_leaf(leaves, r, g, create_graph, owned)
        else:
            _add(buffers, fn, r._out_idx, g)
    prune = None
    if leaf_targets is not None or node_targets:
        root_fns = [r._grad_fn for r in roots if r._grad_fn is not None]
        prune = _useful(_topo_order(root_fns), leaf_targets or (), node_targets or {})
    # Leaves with post-accumulate hooks get their gradient as soon as its last contribution is in.
    pending = _pending_post(buffers) if _POST_HOOKS[0] and accumulate and leaf_targets is None else None
    # Max-heap on creation number: every consumer of a node is processed before the node.
    heap = [(-fn._seq, id(fn), fn) for fn in buffers]
    heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    prev_mode = _Mode.grad_enabled  # the calling thread's grad mode: off unless create_graph, restored below
    off = prev_mode and not create_graph
    if off:  # set_mode(False), inlined (one backward per step: keep it cheap)
        _GRAD_OFF.append(None)
        _Mode.grad_enabled = False
    elif create_graph and not prev_mode:
        set_mode(True)
    anomaly = _ModeState.anomaly_any and _Mode.anomaly
    prof = _ModeState._profiler
    try:
        while heap:
            fn = pop(heap)[2]
            slot = buffers.pop(fn, None)
            if slot is None:
                continue
            if owned:  # the slot's arrays now go to backward, which may alias them
                for a in slot:
                    owned.discard(id(a))
            if fn._out_hooks:
                _run_out_hooks(fn, slot, create_graph, stored)
            if node_targets:
                for idx, gy in enumerate(slot):
                    if gy is not None and (fn, idx) in node_targets:
                        captured[(fn, idx)] = gy
            if prune is not None and fn not in prune:
                continue
            inputs = fn.inputs
            if inputs is None:
                raise RuntimeError(_FREED)
            versions = fn._versions
            if versions is not None:
                for i, x in enumerate(inputs):
                    if x._version != versions[i]:
                        raise _version_error(fn, i, x, versions[i])
            if prof is not None:
                t0 = perf_counter()
            if create_graph or fn._out_meta is not None or type(fn).backward_array is None:
                gxs = _call_backward(fn, slot, create_graph)
            elif fn.device_index:  # a GPU other than cuda:0: allocate the gradients there
                with use_device(fn.device_index):
                    gxs = type(fn).backward_array(fn, slot[0])
            else:
                gxs = type(fn).backward_array(fn, slot[0])
            if type(gxs) is not tuple:
                gxs = (gxs,)
            if prof is not None:
                if fn.xp is not np:  # GPU work is queued: wait for it before reading the clock
                    from .profiler import _synchronize

                    _synchronize(inputs[0])
                prof._record_backward(fn, perf_counter() - t0)
            if anomaly:
                from .anomaly import check_backward

                check_backward(fn, gxs)
            if not retain_graph:
                fn.inputs = None
                fn.saved = None
            if len(gxs) != len(inputs):
                raise RuntimeError(
                    f"{type(fn).__name__}.backward returned {len(gxs)} gradients, "
                    f"expected {len(inputs)} (one per input)"
                )
            needs = fn.needs_input_grad
            for i, x in enumerate(inputs):
                gx = gxs[i]
                if gx is None or not needs[i]:
                    continue
                xd = x._data
                if gx.shape != xd.shape:
                    raise RuntimeError(
                        f"{type(fn).__name__}.backward returned a gradient of shape {tuple(gx.shape)} "
                        f"for input {i} of shape {xd.shape}"
                    )
                if gx.dtype is not xd.dtype and gx.dtype != xd.dtype:
                    gx = gx.type(xd.dtype) if create_graph else gx.astype(xd.dtype)
                g = x._grad_fn
                if g is None:
                    if leaf_targets is None or id(x) in leaf_targets:
                        _add_leaf(leaves, x, gx, create_graph, owned)
                        if pending and id(x) in pending:
                            pending[id(x)] -= 1
                            if not pending[id(x)]:
                                del pending[id(x)]
                                _deliver(x, leaves.pop(id(x))[1], create_graph, stored)
                    continue
                slot2 = buffers.get(g)
                if slot2 is None:
                    push(heap, (-g._seq, id(g), g))
                    meta = g._out_meta
                    if meta is None:
                        buffers[g] = [gx]
                        continue
                    slot2 = buffers[g] = [None] * len(meta)
                j = x._out_idx
                cur = slot2[j]
                slot2[j] = gx if cur is None else _sum(cur, gx, create_graph, owned)
        # All contributions are in: hand each leaf its total (Algorithm 6.6's grad_table).
        for x, g in leaves.values():
            if x._hooks:
                g = _apply_hooks(x._hooks, g, create_graph)
            if accumulate:
                _accumulate_grad(x, g, create_graph, stored)
                if _POST_HOOKS[0]:
                    _run_post_hooks(x)
            else:
                captured[id(x)] = g
    finally:
        if off:
            _Mode.grad_enabled = True
            _GRAD_OFF.pop()
        elif create_graph and not prev_mode:
            set_mode(False)
    return captured


def _pending_post(buffers):
    """id(leaf) -> how many gradient contributions it will receive, for leaves with post-accumulate hooks."""
    pending = {}
    for fn in _topo_order(list(buffers)):
        for x, need in zip(fn.inputs, fn.needs_input_grad):
            if need and x._grad_fn is None and x._hooks and any(k == "post" for k, _ in x._hooks):
                pending[id(x)] = pending.get(id(x), 0) + 1
    return pending


def _run_post_hooks(x):
    if x._hooks:
        for kind, h in list(x._hooks):
            if kind == "post":
                h(x)


def _deliver(x, g, create_graph, stored):
    """Hand leaf ``x`` its complete gradient now (tensor hooks, accumulate, post-accumulate hooks)."""
    if x._hooks:
        g = _apply_hooks(x._hooks, g, create_graph)
    _accumulate_grad(x, g, create_graph, stored)
    _run_post_hooks(x)


def _sum(cur, g, create_graph, owned):
    """cur + g, in place when ``cur`` is an array this pass allocated (never aliased)."""
    if create_graph:
        return cur + g
    if id(cur) in owned and cur.shape == g.shape:
        cur += g
        return cur
    out = cur + g
    owned.add(id(out))
    return out


def _add_leaf(leaves, x, g, create_graph, owned):
    entry = leaves.get(id(x))
    if entry is None:
        leaves[id(x)] = [x, g]
    else:
        entry[1] = _sum(entry[1], g, create_graph, owned)


def _add(buffers, fn, idx, g):
    slot = buffers.get(fn)
    if slot is None:
        meta = fn._out_meta
        slot = [None] * (1 if meta is None else len(meta))
        buffers[fn] = slot
    cur = slot[idx]
    slot[idx] = g if cur is None else cur + g


def _call_backward(fn, slot, create_graph):
    if fn.device_index:  # a GPU other than cuda:0: allocate the gradients there
        with use_device(fn.device_index):
            return _call_backward_here(fn, slot, create_graph)
    return _call_backward_here(fn, slot, create_graph)


def _call_backward_here(fn, slot, create_graph):
    meta = fn._out_meta
    if meta is not None and any(g is None for g in slot):
        for i, g in enumerate(slot):
            if g is None:
                z = fn.xp.zeros(meta[i][0], dtype=meta[i][1])
                slot[i] = _wrap(z) if create_graph else z
    cls = type(fn)
    if create_graph:
        out = cls.backward(fn, *slot)
        return _as_tuple_tensors(out)
    fast = cls.backward_array
    if fast is not None:
        out = fast(fn, *slot)
        return out if type(out) is tuple else (out,)
    out = cls.backward(fn, *[_wrap(g) for g in slot])
    return _as_tuple_arrays(out)


def _as_tuple_arrays(out):
    if type(out) is not tuple:
        out = (out,) if not isinstance(out, list) else tuple(out)
    return tuple(None if g is None else array_of(g) for g in out)


def _as_tuple_tensors(out):
    if type(out) is not tuple:
        out = (out,) if not isinstance(out, list) else tuple(out)
    return tuple(None if g is None else (g if isinstance(g, Tensor) else _wrap(array_of(g))) for g in out)


def _apply_hooks(hooks, g, create_graph):
    """Run tensor hooks on gradient ``g``; a hook returning a value replaces the gradient."""
    for kind, h in hooks:
        if kind != "hook":
            continue
        r = h(g if create_graph else _wrap(g))
        if r is not None:
            g = r if create_graph else array_of(r)
    return g


def _run_out_hooks(fn, slot, create_graph, stored):
    for idx, hooks in fn._out_hooks.items():
        g = slot[idx]
        if g is None:
            continue
        g = _apply_hooks(hooks, g, create_graph)
        slot[idx] = g
        for kind, ref in hooks:
            if kind == "retain":
                t = ref()
                if t is not None:
                    _accumulate_grad(t, g, create_graph, stored)


def _accumulate_grad(x, g, create_graph, stored):
    if create_graph:
        x.grad = g if x.grad is None else x.grad + g
        return
    if x.grad is None:
        if type(g) is np.ndarray:
            if g.base is not None or id(g) in stored or not g.flags.writeable:
                g = g.copy()
        elif not hasattr(g, "shape") or isinstance(g, np.generic):
            g = np.array(g)
        elif g.base is not None or id(g) in stored:  # a device array (no writeable flag there)
            g = g.copy()
        stored.add(id(g))
        x.grad = _wrap(g)
    else:
        cur = x.grad
        cur._data = namespace_of(cur._data).asarray(cur._data + g)
        cur._version += 1


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
