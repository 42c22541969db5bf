"""Back-propagation over shendu's recorded graph as textbook Algorithms 6.5/6.6 (textbook 6.5.6), in its
plainest form. Reference for shendu.autograd.engine.run_backward (Tensor.backward, sd.grad).

The graph: a non-leaf tensor u has ``u._grad_fn`` (the op that made it, output slot ``u._out_idx``); an op's
``inputs`` are its input tensors. Order the ops by depth-first search (each op after everything it consumes),
then walk them in reverse: an op's output gradient is complete once all its consumers have run, so its
bprop (``Function.backward``) is called once on the sum of their contributions (the grad_table, eq. 6.54).
No pruning, hooks, version checks or in-place sums: those are the product engine's extra steps (the named
helpers of shendu.autograd.backprop_steps). The DFS here is recursive (fine for test-sized graphs); the product
engine orders the ops lazily instead, newest first by creation number (each op is numbered after its inputs'
producers), which is the same reverse topological order restricted to the ops the gradient reaches.
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor, _wrap


def _key(u):
    """grad_table key of tensor u: the leaf itself, or (the op that made it, which output)."""
    return id(u) if u._grad_fn is None else (u._grad_fn, u._out_idx)


def backward(z, leaves):
    """d z / d leaf for a scalar tensor z, one Tensor per leaf (None where z does not depend on it)."""
    order, seen = [], set()

    def visit(op):  # depth-first: an op is appended after every op that produced its inputs
        seen.add(op)
        for u in op.inputs:
            if u._grad_fn is not None and u._grad_fn not in seen:
                visit(u._grad_fn)
        order.append(op)

    if z._grad_fn is not None:
        visit(z._grad_fn)
    grad_table = {_key(z): _wrap(z._data * 0 + 1)}  # dz/dz = 1
    with no_grad():
        for op in reversed(order):  # consumers before producers
            n_out = 1 if op._out_meta is None else len(op._out_meta)
            gys = [grad_table.get((op, i)) for i in range(n_out)]
            for i, gy in enumerate(gys):  # an output nobody used contributes a zero gradient
                if gy is None:
                    shape, dtype = op._out_meta[i] if op._out_meta else (None, None)
                    gys[i] = _wrap(op.xp.zeros(shape, dtype=dtype))
            gxs = op.backward(*gys)  # op.bprop: one gradient per input
            gxs = gxs if isinstance(gxs, (tuple, list)) else (gxs,)
            for u, need, gx in zip(op.inputs, op.needs_input_grad, gxs):
                if need and gx is not None:
                    gx = gx if isinstance(gx, Tensor) else _wrap(gx)
                    k = _key(u)
                    grad_table[k] = gx if k not in grad_table else grad_table[k] + gx  # sum over consumers
    return [grad_table.get(id(x)) for x in leaves]
