"""Recursive (tree-structured) neural network (textbook 10.6).

Leaves are token ids looked up in an embedding; an internal node with children c_1..c_k computes
h = tanh(W [h_{c_1}; ...; h_{c_k}] + b) with the same W, b at every node (k = ``arity``, children in
order). A tree is a token id (leaf) or a tuple of ``arity`` subtrees, e.g. ((1, 2), (3, (4, 5))).
``forward(tree)`` returns the root vector (H,); ``forward(trees)`` for a list returns (N, H).
"""
from __future__ import annotations

import math

import numpy as np

from ...backend import get_default_dtype, get_generator, to_dtype
from ...ops import cat, stack
from ..functional.linear import linear
from ..module import Module
from ..parameter import Parameter
from .embedding import Embedding


class RecursiveNet(Module):
    """Compose leaf embeddings bottom-up over a given parse tree with one shared layer (textbook 10.6)."""

    def __init__(self, vocab_size, hidden_size, arity=2, dtype=None):
        super().__init__()
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        self.embedding = Embedding(vocab_size, hidden_size, dtype=dtype)
        k = 1.0 / math.sqrt(arity * hidden_size)
        g = get_generator()
        self.weight = Parameter(g.uniform(-k, k, (hidden_size, arity * hidden_size)).astype(dt))
        self.bias = Parameter(np.zeros(hidden_size, dt))
        self.arity, self.hidden_size, self.vocab_size = arity, hidden_size, vocab_size

    def _node(self, tree):
        if isinstance(tree, (int, np.integer)):
            if not 0 <= tree < self.vocab_size:
                raise ValueError(f"RecursiveNet: leaf id {tree} outside [0, {self.vocab_size})")
            return self.embedding(np.array([tree]))[0]
        if not isinstance(tree, (tuple, list)) or len(tree) != self.arity:
            raise ValueError(f"RecursiveNet: a node must be a leaf id or a tuple of {self.arity} subtrees, got {tree!r}")
        return linear(cat([self._node(c) for c in tree], 0), self.weight, self.bias).tanh()

    def forward(self, tree):
        if isinstance(tree, list):
            return stack([self._node(t) for t in tree], 0)
        return self._node(tree)
