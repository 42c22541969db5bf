"""Hierarchical softmax (textbook 12.4.3.2): the binary word tree (balanced or Huffman), the leaf
probabilities as products of branch sigmoids, and the two-level class tree.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from ... import ops
from ...backend import get_default_dtype, to_device_of
from ...nn import Module, Parameter
from ...nn import functional as F
from ._common import _const, _ids, _rows, _uniform


@dataclass
class Tree:
    """A binary tree over a vocabulary: word w's path is nodes[w][j] with decisions bits[w][j] (1 = right).

    prefixes[i] is node i's bit prefix (root = ()); node ids are breadth-first (the root is 0)."""

    nodes: list
    bits: list
    prefixes: list

    @property
    def num_nodes(self):
        return len(self.prefixes)

    @property
    def depth(self):
        return max(len(p) for p in self.nodes)

    def arrays(self):
        """(nodes (V, D) int64, signs (V, D) float, mask (V, D) bool): signs +1 right, -1 left, 0 padding."""
        V, D = len(self.nodes), self.depth
        nodes = np.zeros((V, D), np.int64)
        signs = np.zeros((V, D), np.float64)
        for w, (ns, bs) in enumerate(zip(self.nodes, self.bits)):
            nodes[w, :len(ns)] = ns
            signs[w, :len(bs)] = [1.0 if b else -1.0 for b in bs]
        return nodes, signs, signs != 0

    def mean_depth(self, counts=None):
        """Average path length n_b (frequency-weighted when counts are given; textbook l.3177)."""
        lengths = np.array([len(p) for p in self.nodes], float)
        if counts is None:
            return float(lengths.mean())
        c = np.asarray(counts, float)
        return float((lengths * c).sum() / c.sum())


def _from_children(root, n_leaves):
    """Tree from nested pairs (leaves are ints), numbering internal nodes breadth-first."""
    nodes, bits = [None] * n_leaves, [None] * n_leaves
    prefixes = []
    queue = [(root, (), [])]
    while queue:
        nxt = []
        for node, prefix, path in queue:
            if isinstance(node, tuple):
                i = len(prefixes)
                prefixes.append(prefix)
                for b, child in enumerate(node):
                    nxt.append((child, prefix + (b,), path + [i]))
            else:
                nodes[node], bits[node] = path, list(prefix)
        queue = nxt
    return Tree(nodes, bits, prefixes)


def balanced_tree(vocab_size):
    """Balanced binary tree over ids 0..V-1 in order (depth ceil(log2 V)); for V = 8 it is Fig. 12.4's tree."""
    if not (isinstance(vocab_size, (int, np.integer)) and vocab_size >= 2):
        raise ValueError(f"balanced_tree: vocab_size must be an int >= 2, got {vocab_size!r}")

    def build(lo, hi):
        if hi - lo == 1:
            return lo
        mid = lo + (hi - lo + 1) // 2
        return (build(lo, mid), build(mid, hi))

    return _from_children(build(0, int(vocab_size)), int(vocab_size))


def huffman_tree(counts):
    """Huffman tree from word counts: code length ~ -log2 frequency (textbook 12.4.3.2)."""
    counts = [float(c) for c in counts]
    if len(counts) < 2 or min(counts) < 0:
        raise ValueError(f"huffman_tree: need >= 2 non-negative counts, got {len(counts)} "
                         f"(min {min(counts, default=None)})")
    heap = [(c, i, i) for i, c in enumerate(counts)]
    heapq.heapify(heap)
    tie = len(counts)
    while len(heap) > 1:
        c1, _, a = heapq.heappop(heap)
        c2, _, b = heapq.heappop(heap)
        heapq.heappush(heap, (c1 + c2, tie, (a, b)))
        tie += 1
    return _from_children(heap[0][2], len(counts))


def leaf_probabilities(tree, p_right):
    """P(leaf) = product of branch probabilities on its path (12.11-12.12), p_right[i] = P(right at node i)."""
    p = np.asarray(p_right, float)
    if p.shape != (tree.num_nodes,):
        raise ValueError(f"leaf_probabilities: p_right has shape {p.shape}, expected ({tree.num_nodes},)")
    return np.array([np.prod([p[n] if b else 1 - p[n] for n, b in zip(ns, bs)]) for ns, bs in
                     zip(tree.nodes, tree.bits)])


class HierarchicalSoftmax(Module):
    """Tree softmax (Morin & Bengio 2005; textbook 12.4.3.2): a logistic regression per internal node,
    P(y | h) = prod_j sigmoid(s_j (w_{n_j} . h + b_{n_j})), s_j = +1 for a right turn and -1 for a left one.

    tree: a Tree (balanced_tree(V) or huffman_tree(counts)). forward(h (B, n_h), y (B,)) -> log P(y|h) (B,),
    touching only depth-many nodes; full_log_prob(h) -> (B, V) in O(V depth); loss(h, y) = mean NLL."""

    def __init__(self, in_features, tree):
        super().__init__()
        if not isinstance(tree, Tree):
            raise TypeError(f"HierarchicalSoftmax: tree must be a Tree (balanced_tree/huffman_tree), "
                            f"got {type(tree).__name__}")
        self.in_features, self.tree = in_features, tree
        self.num_words = len(tree.nodes)
        k = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(_uniform((tree.num_nodes, in_features), k))
        self.bias = Parameter(np.zeros(tree.num_nodes, get_default_dtype()))
        self._nodes, self._signs, _ = tree.arrays()

    def _check(self, h, who):
        if h.ndim != 2 or h.shape[1] != self.in_features:
            raise ValueError(f"HierarchicalSoftmax.{who}: h must be (B, {self.in_features}), got {tuple(h.shape)}")

    def forward(self, h, y):
        self._check(h, "forward")
        y = _ids(y, "HierarchicalSoftmax")
        if y.shape != (h.shape[0],) or y.min(initial=0) < 0 or y.max(initial=0) >= self.num_words:
            raise ValueError(f"HierarchicalSoftmax: y must be ({h.shape[0]},) ids in [0, {self.num_words}), "
                             f"got shape {y.shape}")
        nodes = self._nodes[y]                                   # (B, D)
        signs = _const(self._signs[y], h)                        # (B, D), 0 on padding
        w = _rows(self.weight, nodes)                            # (B, D, n_h)
        logits = ops.einsum("bdh,bh->bd", w, h) + _rows(self.bias, nodes)
        return (F.logsigmoid(logits * signs) * (signs * signs)).sum(dim=1)

    def full_log_prob(self, h):
        """log P(w | h) for every word: (B, V) (each row's exp sums to 1)."""
        self._check(h, "full_log_prob")
        a = h @ self.weight.t() + self.bias                      # (B, nodes)
        signs = _const(self._signs, h)                            # (V, D)
        z = a[:, self._nodes] * signs                              # (B, V, D)
        return (F.logsigmoid(z) * (signs * signs)).sum(dim=2)

    def loss(self, h, y):
        return -self.forward(h, y).mean()


class TwoLevelSoftmax(Module):
    """Two-level class softmax (depth-2 tree, textbook 12.4.3.2): P(w|h) = P(c(w)|h) P(w|c(w), h).

    word_to_class: int array (V,) of class ids 0..C-1 (e.g. frequency bins of ~sqrt(V) words). forward(h, y)
    -> log P(y|h) (B,) with cost O((C + class size) n_h); full_log_prob(h) -> (B, V)."""

    def __init__(self, in_features, word_to_class):
        super().__init__()
        cls = np.asarray(word_to_class, np.int64)
        C = int(cls.max()) + 1
        if cls.ndim != 1 or cls.min() < 0 or len(np.unique(cls)) != C:
            raise ValueError("TwoLevelSoftmax: word_to_class must be (V,) ids using every class 0..C-1")
        self.in_features, self.num_words, self.num_classes = in_features, len(cls), C
        self.word_to_class = cls
        members = [np.flatnonzero(cls == c) for c in range(C)]
        S = max(len(m) for m in members)
        self._members = np.zeros((C, S), np.int64)
        self._mmask = np.zeros((C, S), bool)
        self._position = np.zeros(len(cls), np.int64)           # a word's column in its class's row
        for c, m in enumerate(members):
            self._members[c, :len(m)] = m
            self._mmask[c, :len(m)] = True
            self._position[m] = np.arange(len(m))
        k = 1.0 / math.sqrt(in_features)
        self.class_weight = Parameter(_uniform((C, in_features), k))
        self.class_bias = Parameter(np.zeros(C, get_default_dtype()))
        self.weight = Parameter(_uniform((len(cls), in_features), k))
        self.bias = Parameter(np.zeros(len(cls), get_default_dtype()))

    def forward(self, h, y):
        if h.ndim != 2 or h.shape[1] != self.in_features:
            raise ValueError(f"TwoLevelSoftmax: h must be (B, {self.in_features}), got {tuple(h.shape)}")
        y = _ids(y, "TwoLevelSoftmax")
        c = self.word_to_class[y]
        log_pc = F.log_softmax(h @ self.class_weight.t() + self.class_bias, dim=1)
        rows = np.arange(len(y))
        mem = self._members[c]                                   # (B, S)
        a = ops.einsum("bsh,bh->bs", _rows(self.weight, mem), h) + _rows(self.bias, mem)
        a_y = a[rows, self._position[y]]                         # y's score, read from its class's row
        a = ops.masked_fill(a, to_device_of(~self._mmask[c], h), -1e30)
        return log_pc[rows, c] + a_y - ops.logsumexp(a, dim=1)

    def full_log_prob(self, h):
        log_pc = F.log_softmax(h @ self.class_weight.t() + self.class_bias, dim=1)   # (B, C)
        a = h @ self.weight.t() + self.bias                                          # (B, V)
        A = ops.masked_fill(a[:, self._members], to_device_of(~self._mmask, h), -1e30)  # (B,C,S)
        lse = ops.logsumexp(A, dim=2)                                                # (B, C)
        return log_pc[:, self.word_to_class] + a - lse[:, self.word_to_class]

    def loss(self, h, y):
        return -self.forward(h, y).mean()
