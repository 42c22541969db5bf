"""Recursive (tree-structured) neural network (textbook 10.6).

Leaves are token ids looked up in an embedding; an internal node with children c_1..c_k computes
h = tanh(W [h_{c_1}; ...; h_{c_k}] + b) with the same W, b at every node (k = ``arity``, children in
order). A tree is a token id (leaf) or a tuple of ``arity`` subtrees, e.g. ((1, 2), (3, (4, 5))).
``forward(tree)`` returns the root vector (H,); ``forward(trees)`` for a list returns (N, H).

Extensions of 10.6: ``composition="tensor"`` adds Socher et al.'s bilinear (tensor) term,
h = tanh(v^T T^[1:H] v + W v + b), v = [h_{c_1}; ...; h_{c_k}] (T: (H, kH, kH)); a node wrapped in
``Node(tree, x=..., y=...)`` carries an input vector x (internal nodes: + U x inside the tanh, with
``node_input_size``; leaves: replaces the embedding when no id is given) and a target y, and
``node_states(tree)`` returns every node's vector (post-order) with the nodes, for losses at internal nodes
(Frasconi et al. 1997). ``balanced_tree`` builds the data-independent tree of depth ceil(log_k tau).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import get_default_dtype, get_generator, to_device_of, to_dtype
from ...ops import cat, stack
from ..functional.linear import bilinear, linear
from ..module import Module
from ..parameter import Parameter
from .embedding import Embedding

__all__ = ["RecursiveNet", "Node", "balanced_tree", "tree_depth"]


class Node:
    """A tree node with an optional input vector ``x`` and target ``y``: ``tree`` is a leaf id, a tuple of
    subtrees, or None for a leaf given only by its vector x."""

    __slots__ = ("tree", "x", "y")

    def __init__(self, tree=None, x=None, y=None):
        if tree is None and x is None:
            raise ValueError("Node: give a leaf id / subtrees or an input vector x")
        self.tree, self.x, self.y = tree, x, y

    def __repr__(self):
        return f"Node({self.tree!r}, y={self.y!r})"


def balanced_tree(leaves, arity=2):
    """The balanced ``arity``-ary tree over a sequence of leaves (nested tuples), depth ceil(log_arity tau):
    leaves are grouped in consecutive runs of ``arity``; a level with a leftover passes it up unchanged."""
    level = list(leaves)
    if not level:
        raise ValueError("balanced_tree: need at least one leaf")
    if arity < 2:
        raise ValueError(f"balanced_tree: arity must be >= 2, got {arity}")
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), arity):
            grp = level[i:i + arity]
            nxt.append(tuple(grp) if len(grp) == arity else grp[0] if len(grp) == 1 else None)
            if nxt[-1] is None:  # a short group (2 <= size < arity): pad by passing its members up
                nxt.pop()
                nxt.extend(grp)
        if len(nxt) == len(level):
            raise ValueError(f"balanced_tree: {len(level)} leaves cannot be grouped by arity {arity}")
        level = nxt
    return level[0]


def tree_depth(tree):
    """Number of internal nodes on the longest root-to-leaf path (a leaf has depth 0)."""
    if isinstance(tree, Node):
        tree = tree.tree
    if tree is None or not isinstance(tree, (tuple, list)):
        return 0
    return 1 + max(tree_depth(c) for c in tree)


class RecursiveNet(Module):
    """Compose leaf embeddings bottom-up over a given parse tree with one shared layer (textbook 10.6)."""

    def __init__(self, vocab_size, hidden_size, arity=2, composition="linear", node_input_size=None, dtype=None):
        super().__init__()
        if composition not in ("linear", "tensor"):
            raise ValueError(f"RecursiveNet: composition must be 'linear' or 'tensor', got {composition!r}")
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        self.embedding = Embedding(vocab_size, hidden_size, dtype=dtype)
        k = 1.0 / math.sqrt(arity * hidden_size)
        g = get_generator()
        self.weight = Parameter(g.uniform(-k, k, (hidden_size, arity * hidden_size)).astype(dt))
        self.bias = Parameter(np.zeros(hidden_size, dt))
        if composition == "tensor":
            n = arity * hidden_size
            self.tensor = Parameter(g.uniform(-k, k, (hidden_size, n, n)).astype(dt) / math.sqrt(n))
        else:
            self.register_parameter("tensor", None)
        if node_input_size:
            self.weight_x = Parameter(g.uniform(-k, k, (hidden_size, node_input_size)).astype(dt))
        else:
            self.register_parameter("weight_x", None)
        self.arity, self.hidden_size, self.vocab_size = arity, hidden_size, vocab_size
        self.composition, self.node_input_size = composition, node_input_size

    def _leaf(self, tree):
        if not 0 <= tree < self.vocab_size:
            raise ValueError(f"RecursiveNet: leaf id {tree} outside [0, {self.vocab_size})")
        return self.embedding(np.array([tree]))[0]

    def _vec(self, x):
        if isinstance(x, Tensor):
            return x
        return _wrap(to_device_of(x, self.weight, np.dtype(str(self.weight.dtype))))

    def _node(self, tree, out=None):
        x = None
        node = None
        if isinstance(tree, Node):
            node, x, tree = tree, tree.x, tree.tree
        if tree is None:  # a leaf given by its vector
            h = self._vec(x)
            if tuple(h.shape) != (self.hidden_size,):
                raise ValueError(f"RecursiveNet: a vector leaf must have shape ({self.hidden_size},), "
                                 f"got {tuple(h.shape)}")
        elif isinstance(tree, (int, np.integer)):
            h = self._leaf(tree)
        elif isinstance(tree, (tuple, list)) and len(tree) == self.arity:
            v = cat([self._node(c, out) for c in tree], 0)
            a = linear(v, self.weight, self.bias)
            if self.tensor is not None:
                a = a + bilinear(v.unsqueeze(0), v.unsqueeze(0), self.tensor)[0]
            if x is not None:
                if self.weight_x is None:
                    raise ValueError("RecursiveNet: an internal node has an input x but node_input_size is not set")
                a = a + linear(self._vec(x), self.weight_x)
            h = a.tanh()
        else:
            raise ValueError(f"RecursiveNet: a node must be a leaf id or a tuple of {self.arity} subtrees, "
                             f"got {tree!r}")
        if out is not None:
            out.append((h, node if node is not None else tree))
        return h

    def forward(self, tree):
        if isinstance(tree, list):
            return stack([self._node(t) for t in tree], 0)
        return self._node(tree)

    def node_states(self, tree):
        """(states (M, H) of every node in post-order (children before parents, root last), the M nodes:
        a ``Node`` where one was given, else the leaf id / tuple)."""
        out = []
        self._node(tree, out)
        return stack([h for h, _ in out], 0), [n for _, n in out]
