"""Graph introspection (Textbook 6.5.6 / notes A.8.4: get_operation, get_consumers, get_inputs).

The recorded graph has Function nodes; a Tensor made by an op points at it (``t.grad_fn``), and a node
keeps its input Tensors (``fn.inputs``). These helpers answer the book's queries on that graph:

    get_operation(t)         -> the Function that produced t (None for a leaf)
    get_inputs(t)            -> the Tensors that op consumed (empty for a leaf)
    get_consumers(t, root)   -> the Functions in root's graph that take t as an input
    topological_order(root)  -> every Function of root's graph, producers before consumers
"""
from __future__ import annotations

from .tensor import Tensor

__all__ = ["get_operation", "get_inputs", "get_consumers", "consumers", "inputs", "topological_order", "leaves"]

_FREED = "the graph of this tensor was freed by backward(); call backward(retain_graph=True) to inspect it"


def _check(t, who):
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: expected a shendu Tensor, got {type(t).__name__}")


def get_operation(t):
    """The Function that computed ``t`` (None for a leaf or a tensor made without grad recording)."""
    _check(t, "get_operation")
    return t._grad_fn


def _node_inputs(fn):
    if fn.inputs is None:
        raise RuntimeError(f"graph: {_FREED}")
    return tuple(fn.inputs)


def get_inputs(t):
    """The input Tensors of the op that computed ``t`` (a tuple; empty for a leaf)."""
    _check(t, "get_inputs")
    fn = t._grad_fn
    return () if fn is None else _node_inputs(fn)


def topological_order(root):
    """All Functions of the graph of ``root`` (a Tensor or list of Tensors), each after the ops producing its
    inputs (Textbook 6.5.6: the order in which forward propagation ran them)."""
    roots = [root] if isinstance(root, Tensor) else list(root)
    for r in roots:
        _check(r, "topological_order")
    order, seen = [], set()
    for r in roots:
        fn = r._grad_fn
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        stack = [(fn, iter(_node_inputs(fn)))]
        while stack:
            node, it = stack[-1]
            for x in it:
                child = x._grad_fn
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(_node_inputs(child))))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _same(x, t):
    if x is t:
        return True
    return t._grad_fn is not None and x._grad_fn is t._grad_fn and x._out_idx == t._out_idx


def get_consumers(t, root):
    """The Functions of ``root``'s graph that take ``t`` as an input, in topological order (Textbook 6.5.6
    get_consumers: back-propagation sums one gradient contribution per consumer)."""
    _check(t, "get_consumers")
    return [fn for fn in topological_order(root) if any(_same(x, t) for x in _node_inputs(fn))]


def leaves(root):
    """The leaf Tensors (no producing op) that ``root``'s graph reads, each once, in first-use order."""
    out, ids = [], set()
    for fn in topological_order(root):
        for x in _node_inputs(fn):
            if x._grad_fn is None and id(x) not in ids:
                ids.add(id(x))
                out.append(x)
    return out


consumers = get_consumers
inputs = get_inputs
