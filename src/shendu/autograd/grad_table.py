"""The grad_table of Algorithm 6.6 for one backward pass (textbook 6.5.6), for ``engine.run_backward``.

``Backprop`` holds the summed output gradients of the ops still to run and the leaves' totals, handed over at
the end so that tensor hooks and ``.grad`` see the total (as PyTorch's AccumulateGrad). Sums are made in place
into arrays the pass allocated itself, never into one shared with another entry or a ``.grad``. Around it: the
shape/dtype check of each gradient, hooks on non-leaf outputs and ``retain_grad``, ``sd.grad``'s captured
inputs, post-accumulate hooks (a leaf's total handed over as soon as its last contribution is in), ``.grad``.
"""
from __future__ import annotations

from heapq import heappush

import numpy as np

from ..backend import namespace_of
from .backprop_steps import as_dtype, count_error, shape_error, topo_order, useful_ops
from .tensor import _POST_HOOKS, _wrap, array_of


# --- the grad_table -------------------------------------------------------------------------------------------
class Backprop:
    """One pass's grad_table. ``table``: op -> its output gradients summed so far (a list, one per output);
    ``leaves``: id(leaf) -> [leaf, total]. Sums are made in place into arrays this pass allocated (``owned``
    names the table entries holding one); ``stored`` has the arrays handed to a ``.grad`` (and the seeds), which
    are copied before another ``.grad`` gets them, so no two ``.grad`` share memory."""

    __slots__ = ("table", "leaves", "owned", "stored", "captured", "create_graph", "leaf_targets",
                 "node_targets", "prune", "pending", "heap", "special_leaves")

    def __init__(self, roots, root_grads, create_graph, leaf_targets, node_targets, accumulate):
        """grad_table[z] = dz/dz for each root z; ``heap``: the ops to start from (newest first)."""
        self.leaves, self.owned, self.captured = {}, set(), {}
        self.create_graph, self.leaf_targets, self.node_targets = create_graph, leaf_targets, node_targets
        self.prune = self.pending = None
        self.special_leaves = leaf_targets is not None
        self.stored = set(map(id, root_grads))
        self.table = table = {}
        for r, g in zip(roots, root_grads):
            fn = r._grad_fn
            if fn is None:
                self.add_leaf(r, g)
                continue
            slot = table.get(fn)
            if slot is None:
                slot = table[fn] = [None] * (1 if fn._out_meta is None else len(fn._out_meta))
            cur = slot[r._out_idx]
            slot[r._out_idx] = g if cur is None else cur + g
        if leaf_targets is not None or node_targets:
            self.prune = useful_ops(list(table), leaf_targets or (), node_targets or {})
        if _POST_HOOKS[0] and accumulate and leaf_targets is None:
            self.pending = _pending_post(list(table))
            self.special_leaves = True
        self.heap = heap = []
        for fn in table:
            heap.append((-fn._seq, id(fn), fn))
        heap.sort()  # a sorted list is a heap

    def visit(self, fn, gys):
        """The steps before fn's bprop when hooks or targets are in use: hooks on its outputs (``register_hook``,
        ``retain_grad``), capture of ``sd.grad``'s non-leaf inputs. False when fn is pruned (no target below)."""
        if fn._out_hooks:
            _run_out_hooks(fn, gys, self.create_graph, self.stored)
        nt = self.node_targets
        if nt:
            for idx, gy in enumerate(gys):
                if gy is not None and (fn, idx) in nt:
                    self.captured[(fn, idx)] = gy
        return self.prune is None or fn in self.prune

    def sum_into(self, fn, inputs, gxs, heap):
        """Add each input's gradient to its grad_table entry (Algorithm 6.6: G = sum over consumers), after the
        shape check and the cast to the input's dtype; an op seen for the first time joins ``heap``."""
        if len(gxs) != len(inputs):
            raise count_error(fn, gxs, inputs)
        needs = fn.needs_input_grad
        table, leaves, owned, special_leaves = self.table, self.leaves, self.owned, self.special_leaves
        i = -1
        for x in inputs:
            i += 1
            gx = gxs[i]
            if gx is None or not needs[i]:
                continue
            xd = x._data
            if gx.shape != xd.shape:
                raise shape_error(fn, i, gx, x)
            if gx.dtype is not xd.dtype and gx.dtype != xd.dtype:
                gx = as_dtype(gx, xd.dtype, self.create_graph)
            g = x._grad_fn
            if g is None:  # a leaf: its total is handed over at the end
                if special_leaves:  # only some leaves, or post-accumulate hooks
                    self.add_leaf(x, gx)
                    continue
                k = id(x)
                entry = leaves.get(k)
                if entry is None:
                    leaves[k] = [x, gx]
                elif k in owned:  # self.sum's in-place case, inlined (a weight used by many ops)
                    entry[1] += gx
                else:
                    entry[1] = self.sum(entry[1], gx, k)
                continue
            slot = table.get(g)
            if slot is None:
                heappush(heap, (-g._seq, id(g), g))
                meta = g._out_meta
                if meta is None:
                    table[g] = [gx]
                    continue
                slot = table[g] = [None] * len(meta)
            j = x._out_idx
            cur = slot[j]
            slot[j] = gx if cur is None else self.sum(cur, gx, (g, j))

    def sum(self, cur, g, key):
        """cur + g; in place when the table entry ``key`` holds an array this pass allocated (never aliased).
        Both have the entry's shape (``sum_into`` checked it)."""
        if self.create_graph:
            return cur + g
        owned = self.owned
        if key in owned:
            cur += g
            return cur
        owned.add(key)
        return cur + g

    def add_leaf(self, x, g):
        """Add g to leaf x's total (only for the requested leaves when ``inputs`` were given); a leaf with a
        post-accumulate hook gets its total as soon as its last contribution is in."""
        lt = self.leaf_targets
        if lt is not None and id(x) not in lt:
            return
        k = id(x)
        entry = self.leaves.get(k)
        if entry is None:
            self.leaves[k] = [x, g]
        else:
            entry[1] = self.sum(entry[1], g, k)
        pending = self.pending
        if pending and k in pending:
            pending[k] -= 1
            if not pending[k]:
                del pending[k]
                self.owned.discard(k)
                _deliver(x, self.leaves.pop(k)[1], self.create_graph, self.stored)

    def hand_over_leaves(self, accumulate):
        """The end of the pass: each leaf gets its total (tensor hooks, then ``.grad`` and post-accumulate hooks,
        or into ``captured`` for ``sd.grad``)."""
        cg = self.create_graph
        for x, g in self.leaves.values():
            if x._hooks:
                g = apply_hooks(x._hooks, g, cg)
            if accumulate:
                accumulate_grad(x, g, cg, self.stored)
                if _POST_HOOKS[0]:
                    _run_post_hooks(x)
            else:
                self.captured[id(x)] = g


# --- hooks and .grad ------------------------------------------------------------------------------------------------
def _pending_post(root_fns):
    """id(leaf) -> how many gradient contributions it will receive, for leaves with post-accumulate hooks."""
    pending = {}
    for fn in topo_order(root_fns):
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
        g = apply_hooks(x._hooks, g, create_graph)
    accumulate_grad(x, g, create_graph, stored)
    _run_post_hooks(x)


def apply_hooks(hooks, g, create_graph):
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
        g = apply_hooks(hooks, g, create_graph)
        slot[idx] = g
        for kind, ref in hooks:
            if kind == "retain":
                t = ref()
                if t is not None:
                    accumulate_grad(t, g, create_graph, stored)


def accumulate_grad(x, g, create_graph, stored):
    """x.grad += g (x.grad = g the first time, copied when g is shared with another .grad, a view or read-only)."""
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
