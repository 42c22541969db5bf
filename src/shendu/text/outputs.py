"""High-dimensional outputs (textbook 12.4.3): short list + n-gram tail, hierarchical softmax (balanced, Huffman,
two-level class tree), importance-sampled softmax, noise-contrastive estimation and the ranking loss (12.19).

Device-generic: the layers compose shendu's differentiable ops; host index arrays (tree paths, samples) are
moved to the parameters' device by indexing. Samples are drawn on the host from the proposal (a fixed table).
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from .. import ops
from ..autograd.function import Function
from ..autograd.tensor import Tensor, as_tensor
from ..backend import get_default_dtype, get_generator, to_device_of, to_host
from ..nn import Module, Parameter
from ..nn import functional as F
from ..ops._arr import add_rows_at
from ..ops.index import IndexAdd

__all__ = ["Tree", "balanced_tree", "huffman_tree", "leaf_probabilities", "HierarchicalSoftmax",
           "TwoLevelSoftmax", "shortlist_mixture", "ShortlistSoftmax", "Proposal", "unigram_proposal",
           "bigram_proposal", "importance_weights", "sampled_softmax_loss", "SampledSoftmaxLoss", "nce_loss",
           "NCELoss", "ranking_loss", "SampledReconstructionLoss", "DirectNgramFeatures"]


def _const(arr, like):
    """Host array ``arr`` as a constant tensor with the dtype and device of tensor ``like``."""
    return as_tensor(to_device_of(arr, like, like.dtype))


def _ids(y, who):
    """Target ids as a host int64 array (a Tensor is read back: the ids select host-side tree paths)."""
    if isinstance(y, Tensor):
        y = to_host(y._data)
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{who}: target ids must be integers, got dtype {y.dtype}")
    return y.astype(np.int64)


class _GatherRows(Function):
    """y = W[idx] (rows of a table); dW = rows of g summed per index (``ops._arr.add_rows_at``)."""

    needs_input_values = False

    def __init__(self, idx):
        self.idx = idx

    def forward(self, w):
        self.wshape = w.shape
        if self.xp is not np:
            self.idx = to_device_of(self.idx, w)
        return w[self.idx]

    def backward_array(self, gy):
        idx = self.idx.reshape(-1)
        out = self.xp.zeros((self.wshape[0], gy.size // idx.shape[0]), dtype=gy.dtype)
        return add_rows_at(out, idx, gy.reshape(idx.shape[0], -1)).reshape(self.wshape)

    def backward(self, gy):
        idx = self.idx.reshape(-1)
        g = gy.reshape((idx.shape[0], -1))
        base = ops.zeros(self.wshape[0], g.shape[1], dtype=gy.dtype, device=gy.device)
        return IndexAdd(0, idx)(base, g).reshape(self.wshape)


def _rows(w, idx):
    """w[idx] for a host int array idx of any shape, differentiable (fast scatter-add backward)."""
    return _GatherRows(np.ascontiguousarray(idx, dtype=np.int64))(w)


def _uniform(shape, k):
    return (get_generator().random(shape) * 2 * k - k).astype(get_default_dtype())


# ---------------------------------------------------------------------------------------------------------
# trees
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


# ---------------------------------------------------------------------------------------------------------
# short list + n-gram tail
def shortlist_mixture(short_logits, tail_logit, tail_probs, shortlist_ids, tail_ids):
    """Short-list mixture (12.10) as probabilities over V (B, V):
    P(y=i|C) = [i in L] softmax(short_logits)_i (1 - P(T|C)) + [i in T] P_ngram(i|C, i in T) P(T|C),
    P(T|C) = sigmoid(tail_logit) (B, 1); tail_probs (B, |T|) is the n-gram distribution restricted to T (it is
    renormalised here); shortlist_ids (|L|,) and tail_ids (|T|,) partition the vocabulary ids."""
    L, T = np.asarray(shortlist_ids, np.int64), np.asarray(tail_ids, np.int64)
    V = len(L) + len(T)
    if sorted(np.concatenate([L, T]).tolist()) != list(range(V)):
        raise ValueError(f"shortlist_mixture: shortlist_ids and tail_ids must partition 0..{V - 1}")
    if short_logits.shape[-1] != len(L) or tail_probs.shape[-1] != len(T):
        raise ValueError(f"shortlist_mixture: got short_logits {tuple(short_logits.shape)} for |L|={len(L)} and "
                         f"tail_probs {tuple(tail_probs.shape)} for |T|={len(T)}")
    p_tail = F.sigmoid(tail_logit)
    pt = tail_probs / tail_probs.sum(dim=-1, keepdim=True)
    both = ops.cat([F.softmax(short_logits, dim=-1) * (1 - p_tail), pt * p_tail], dim=-1)
    inv = np.argsort(np.concatenate([L, T]))
    return both[:, inv]


class ShortlistSoftmax(Module):
    """Short list L handled by the network, tail T by an n-gram model (Schwenk 2002; 12.10): a softmax over L
    plus one sigmoid unit for P(i in T | C). forward(h, tail_probs) -> P(y | C) over V (B, V); loss(h, tail_probs,
    y) = mean -log P(y | C)."""

    def __init__(self, in_features, shortlist_ids, vocab_size):
        super().__init__()
        L = np.asarray(shortlist_ids, np.int64)
        self.shortlist_ids = L
        self.tail_ids = np.setdiff1d(np.arange(vocab_size), L)
        from ..nn import Linear

        self.short = Linear(in_features, len(L))
        self.tail = Linear(in_features, 1)

    def forward(self, h, tail_probs):
        return shortlist_mixture(self.short(h), self.tail(h), tail_probs, self.shortlist_ids, self.tail_ids)

    def loss(self, h, tail_probs, y):
        p = self.forward(h, tail_probs)
        y = _ids(y, "ShortlistSoftmax")
        return -ops.log(p[np.arange(len(y)), y]).mean()


# ---------------------------------------------------------------------------------------------------------
# sampling-based losses
class Proposal:
    """A proposal q over the vocabulary for importance sampling / NCE: 1-D (unigram) or 2-D (rows q(.|prev),
    bigram). sample(m, context=None) -> host ids: (m,) shared, or (B, m) per row of a bigram proposal."""

    def __init__(self, probs):
        p = np.asarray(probs, np.float64)
        if p.ndim not in (1, 2) or (p < 0).any():
            raise ValueError(f"Proposal: probs must be a non-negative (V,) or (V, V) table, got shape {p.shape}")
        s = p.sum(axis=-1, keepdims=True)
        if (s <= 0).any():
            raise ValueError("Proposal: every distribution must have positive mass")
        self.probs = p / s
        self.cdf = np.cumsum(self.probs, axis=-1)
        self.cdf[..., -1] = 1.0
        self.log_probs = np.log(np.maximum(self.probs, 1e-300))

    @property
    def is_bigram(self):
        return self.probs.ndim == 2

    def sample(self, m, context=None, rng=None):
        rng = rng or get_generator()
        if not self.is_bigram:
            return np.searchsorted(self.cdf, rng.random(m), side="right").astype(np.int64)
        if context is None:
            raise ValueError("Proposal.sample: a bigram proposal needs context (the previous word ids, (B,))")
        ctx = _ids(context, "Proposal.sample")
        u = rng.random((len(ctx), m))
        cdf = self.cdf[ctx]
        return np.minimum((cdf[:, None, :] <= u[:, :, None]).sum(-1), self.probs.shape[-1] - 1).astype(np.int64)

    def log_q(self, ids, context=None):
        """log q(ids) (host float64), rows picked by context for a bigram proposal."""
        if not self.is_bigram:
            return self.log_probs[ids]
        ctx = _ids(context, "Proposal.log_q")
        return self.log_probs[ctx[:, None] if np.ndim(ids) == 2 else ctx, ids]


def unigram_proposal(counts, power=1.0, alpha=0.0):
    """q(w) proportional to (count(w) + alpha)^power (power 0.75 is word2vec's choice)."""
    c = np.asarray(counts, np.float64) + alpha
    return Proposal(c ** power)


def bigram_proposal(sequences, vocab_size, alpha=0.1):
    """q(w | prev) = (c(prev, w) + alpha) / (c(prev) + alpha V) from id sequences (textbook: a bigram proposal)."""
    c = np.full((vocab_size, vocab_size), float(alpha))
    for s in sequences:
        s = np.asarray(s, np.int64)
        np.add.at(c, (s[:-1], s[1:]), 1.0)
    return Proposal(c)


def importance_weights(p, q):
    """Self-normalised importance weights w_i = (p_i / q_i) / sum_j (p_j / q_j) (12.17); p may be unnormalised.

    W12.6: p = [0.1, 0.2], q = [0.2, 0.1] -> [0.2, 0.8]."""
    r = np.asarray(p, np.float64) / np.asarray(q, np.float64)
    return r / r.sum(axis=-1, keepdims=True)


def sampled_softmax_loss(a_target, a_neg, log_q_neg, log_q_target=None, hit_mask=None):
    """Importance-sampled softmax NLL (Bengio & Senecal 2008; 12.13-12.18), per example (B,).

    Book form (log_q_target None): -a_y + log Z_hat, Z_hat = (1/m) sum_i exp(a_{n_i}) / q(n_i); its gradient is
    -da_y + sum_i w_i da_{n_i} with the self-normalised weights w_i proportional to exp(a_{n_i}) / q(n_i) (12.17,
    12.18 without the book's 1/m). It is unbounded below in a_y when y is rarely sampled.
    With log_q_target (Jean et al. 2015): the target joins the candidates, -log softmax over
    [a_y - log m q(y), a_{n_i} - log m q(n_i)] at the target; hit_mask (B, m) True drops samples equal to y.

    a_target (B,), a_neg (B, m) scores of the negatives n_i ~ q, log_q_neg (m,) or (B, m), log_q_target (B,)."""
    m = a_neg.shape[-1]
    lq = log_q_neg if isinstance(log_q_neg, Tensor) else _const(log_q_neg, a_neg)
    if log_q_target is None:
        return ops.logsumexp(a_neg - lq, dim=-1) - math.log(m) - a_target
    lqt = log_q_target if isinstance(log_q_target, Tensor) else _const(log_q_target, a_target)
    z_t = a_target - lqt
    z_n = a_neg - lq
    if hit_mask is not None:
        z_n = ops.masked_fill(z_n, to_device_of(hit_mask, z_n), -1e30)
    z = ops.cat([z_t.reshape(-1, 1), z_n], dim=-1)
    return ops.logsumexp(z, dim=-1) - z_t


def _marginal_log_q(proposal):
    """Initial output bias log q(w) (the proposal's unigram marginal): the model starts normalised and at the
    noise distribution (textbook 8.27's output-bias rule; Mnih & Teh 2012), so unsampled rare words do not keep
    the large initial mass that a zero bias would give them."""
    q = proposal.probs if not proposal.is_bigram else proposal.probs.mean(0)
    return np.log(np.maximum(q, 1e-30)).astype(get_default_dtype())


def _scores(weight, bias, h, y, ids):
    """(a_y (B,), a_ids (B, m)): scores a_i = w_i . h + b_i of the targets and of the samples (ids (m,) shared
    by the batch, or (B, m) per row), with one gather of the rows."""
    B = len(y)
    if ids.ndim == 1:
        both = np.concatenate([y, ids])
        w, b = _rows(weight, both), _rows(bias, both)
        a_y = ops.einsum("bh,bh->b", w[:B], h) + b[:B]
        return a_y, h @ w[B:].t() + b[B:]
    both = np.concatenate([y[:, None], ids], axis=1)             # (B, 1 + m)
    a = ops.einsum("bmh,bh->bm", _rows(weight, both), h) + _rows(bias, both)
    return a[:, 0], a[:, 1:]


class _SampledOutput(Module):
    """What SampledSoftmaxLoss and NCELoss share: the output layer (V, n_h) with weight ~ U(-1/sqrt(n_h),
    1/sqrt(n_h)) and bias starting at log q of the proposal, its full scores and the targets' log q."""

    def __init__(self, in_features, vocab_size, proposal):
        super().__init__()
        if not isinstance(proposal, Proposal):
            proposal = Proposal(proposal)
        if proposal.probs.shape[-1] != vocab_size:
            raise ValueError(f"{type(self).__name__}: proposal over {proposal.probs.shape[-1]} words, "
                             f"vocab_size {vocab_size}")
        self.in_features, self.vocab_size, self.proposal = in_features, vocab_size, proposal
        k = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(_uniform((vocab_size, in_features), k))
        self.bias = Parameter(_marginal_log_q(proposal))

    def logits(self, h):
        """The full affine scores a = W h + b (B, V), for evaluation with the exact softmax."""
        return h @ self.weight.t() + self.bias

    def _log_q_target(self, y, context):
        """log q(y) of the targets (B,) under the proposal (a bigram proposal: given the previous words)."""
        if self.proposal.is_bigram:
            return self.proposal.log_probs[_ids(context, "context"), y]
        return self.proposal.log_q(y, context)


class SampledSoftmaxLoss(_SampledOutput):
    """Output layer (V, n_h) trained by importance sampling with m negatives from ``proposal`` (12.4.3.3).

    forward(h (B, n_h), y (B,), context=None, samples=None) -> mean loss; the gradient costs O(m n_h), not
    O(V n_h). context: previous word ids for a bigram proposal; samples: fixed negatives (for tests).
    include_target=False is the book's estimator (negatives only); True (default) adds the target to the
    candidates (Jean et al. 2015), which keeps rare targets' scores bounded; remove_accidental_hits drops samples
    equal to the target (TensorFlow's default; it biases the estimate of log Z down by the target's share).
    logits(h) gives the full affine scores a = W h + b (for evaluation with the exact softmax)."""

    def __init__(self, in_features, vocab_size, num_sampled, proposal, include_target=True,
                 remove_accidental_hits=False):
        super().__init__(in_features, vocab_size, proposal)
        self.num_sampled = num_sampled
        self.include_target, self.remove_accidental_hits = bool(include_target), bool(remove_accidental_hits)

    def forward(self, h, y, context=None, samples=None):
        y = _ids(y, "SampledSoftmaxLoss")
        neg = self.proposal.sample(self.num_sampled, context) if samples is None else _ids(samples, "samples")
        a_y, a_n = _scores(self.weight, self.bias, h, y, neg)
        lq_n = self.proposal.log_q(neg, context)
        if not self.include_target:
            return sampled_softmax_loss(a_y, a_n, lq_n).mean()
        lm = math.log(self.num_sampled)
        lq_y = self._log_q_target(y, context)
        hits = ((neg[None, :] if neg.ndim == 1 else neg) == y[:, None]) if self.remove_accidental_hits else None
        return sampled_softmax_loss(a_y, a_n, lq_n + lm, lq_y + lm, hit_mask=hits).mean()


def nce_loss(s_target, s_noise, log_q_target, log_q_noise, k):
    """Noise-contrastive estimation (Gutmann & Hyvarinen 2010; Mnih & Teh 2012), per example (B,):
    -log sigmoid(D(y)) - sum_j log sigmoid(-D(n_j)), D(w) = s(w) - log(k q(w)), s = unnormalised log-probability
    (self-normalised: log Z fixed to 0). s_target (B,), s_noise (B, k), log_q_* matching host arrays or tensors."""
    lqt = log_q_target if isinstance(log_q_target, Tensor) else _const(log_q_target, s_target)
    lqn = log_q_noise if isinstance(log_q_noise, Tensor) else _const(log_q_noise, s_noise)
    lk = math.log(k)
    return -F.logsigmoid(s_target - lqt - lk) - F.logsigmoid(-(s_noise - lqn - lk)).sum(dim=-1)


class NCELoss(_SampledOutput):
    """Output layer (V, n_h) trained by NCE with k noise samples from ``proposal``; exp(W h + b) approaches the
    normalised model (self-normalisation). forward(h, y, context=None, samples=None) -> mean loss. The bias starts
    at log q (as SampledSoftmaxLoss's)."""

    def __init__(self, in_features, vocab_size, num_noise, proposal):
        super().__init__(in_features, vocab_size, proposal)
        self.num_noise = num_noise

    def forward(self, h, y, context=None, samples=None):
        y = _ids(y, "NCELoss")
        neg = self.proposal.sample(self.num_noise, context) if samples is None else _ids(samples, "samples")
        s_y, s_n = _scores(self.weight, self.bias, h, y, neg)
        lq_n = self.proposal.log_q(neg, context)
        if lq_n.ndim == 1:
            lq_n = np.broadcast_to(lq_n, (len(y), len(lq_n)))
        lq_y = self._log_q_target(y, context)
        return nce_loss(s_y, s_n, lq_y, lq_n, self.num_noise).mean()


def ranking_loss(scores, target, margin=1.0, include_target=False, reduction="mean"):
    """Ranking loss (Collobert & Weston 2008; textbook 12.19): L = sum_{i != y} max(0, margin - a_y + a_i).

    include_target=True adds the book's i = y term (a constant margin, zero gradient). scores (B, V) or (V,),
    target (B,) or int. W12.7: a_y = 2, others [0.5, 1.5, 3] -> 2.5 (3.5 with the i = y term)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"ranking_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    one = scores.ndim == 1
    if one:
        scores = scores.reshape(1, -1)
    t = _ids(target, "ranking_loss").reshape(-1)
    if scores.ndim != 2 or t.shape != (scores.shape[0],):
        raise ValueError(f"ranking_loss: scores (B, V) and target (B,), got {tuple(scores.shape)} and {t.shape}")
    a_y = scores[np.arange(len(t)), t].reshape(-1, 1)
    terms = F.relu(margin - a_y + scores)
    if not include_target:
        keep = np.ones(scores.shape, np.float64)
        keep[np.arange(len(t)), t] = 0.0
        terms = terms * _const(keep, scores)
    per = terms.sum(dim=1)
    if one and reduction == "none":
        return per.reshape(())
    return per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per


# ---------------------------------------------------------------------------------------------------------
# sparse bag-of-words outputs (Dauphin et al. 2011)
class SampledReconstructionLoss(Module):
    """Sigmoid reconstruction of a sparse bag-of-words target v (textbook 12.4.3.3, Dauphin et al. 2011): the
    cross-entropy on the positive words plus m negatives n_j ~ q with importance weights 1 / (m q(n_j)),
    an unbiased estimate of the full sum_i BCE(v_i, sigmoid(a_i)); samples that are positives of a row are
    dropped from that row (their term is the positive one). forward(h (B, n_h), positives (B, P) ids padded with
    -1, samples=None) -> mean over the batch. full_loss(h, positives) is the exact O(V) sum."""

    def __init__(self, in_features, vocab_size, num_sampled, proposal=None):
        super().__init__()
        proposal = Proposal(np.ones(vocab_size)) if proposal is None else proposal
        if not isinstance(proposal, Proposal) or proposal.is_bigram:
            raise TypeError("SampledReconstructionLoss: proposal must be a unigram Proposal (or None: uniform)")
        self.in_features, self.vocab_size = in_features, vocab_size
        self.num_sampled, self.proposal = num_sampled, proposal
        k = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(_uniform((vocab_size, in_features), k))
        self.bias = Parameter(np.zeros(vocab_size, get_default_dtype()))

    def _pos(self, positives):
        p = _ids(positives, "SampledReconstructionLoss")
        if p.ndim != 2 or p.max(initial=-1) >= self.vocab_size:
            raise ValueError(f"SampledReconstructionLoss: positives must be (B, P) ids < {self.vocab_size} padded "
                             f"with -1, got shape {p.shape}")
        return p

    def forward(self, h, positives, samples=None):
        p = self._pos(positives)
        neg = self.proposal.sample(self.num_sampled) if samples is None else _ids(samples, "samples")
        valid = p >= 0
        pc = np.where(valid, p, 0)
        a_p = ops.einsum("bph,bh->bp", _rows(self.weight, pc), h) + _rows(self.bias, pc)
        a_n = h @ _rows(self.weight, neg).t() + _rows(self.bias, neg)                    # (B, m)
        hit = (neg[None, :, None] == p[:, None, :]).any(-1)                              # sample is a positive
        w_n = np.where(hit, 0.0, (1.0 / (len(neg) * self.proposal.probs[neg]))[None, :])
        pos_term = (F.softplus(-a_p) * _const(valid, a_p)).sum(dim=1)                   # -log sigmoid(a)
        neg_term = (F.softplus(a_n) * _const(w_n, a_n)).sum(dim=1)                      # -log(1 - sigmoid(a))
        return (pos_term + neg_term).mean()

    def full_loss(self, h, positives):
        p = self._pos(positives)
        v = np.zeros((len(p), self.vocab_size))
        rows = np.repeat(np.arange(len(p)), p.shape[1])
        keep = p.reshape(-1) >= 0
        v[rows[keep], p.reshape(-1)[keep]] = 1.0
        a = h @ self.weight.t() + self.bias
        return F.binary_cross_entropy_with_logits(a, _const(v, a), reduction="sum") / len(p)


# ---------------------------------------------------------------------------------------------------------
# max-ent direct n-gram features (Mikolov et al. 2011, RNNME)
class DirectNgramFeatures(Module):
    """Hashed direct connections from n-gram context indicators to the output logits (textbook 12.4.4; the
    maximum-entropy part of RNNME): logit_w += sum_k theta[hash(last k context ids, w)] for k in orders.

    forward(context (B, n-1) ids) -> (B, V) logits to add to a network's; parameters theta (hash_size,) start at 0.
    Each example touches len(orders) * V entries of theta, whatever its size."""

    def __init__(self, vocab_size, orders=(1, 2), hash_size=2 ** 20):
        super().__init__()
        if not orders or min(orders) < 1:
            raise ValueError(f"DirectNgramFeatures: orders must be context lengths >= 1, got {orders!r}")
        self.vocab_size, self.orders, self.hash_size = vocab_size, tuple(int(k) for k in orders), int(hash_size)
        self.weight = Parameter(np.zeros(self.hash_size, get_default_dtype()))

    def indices(self, context):
        ctx = _ids(context, "DirectNgramFeatures")
        if ctx.ndim != 2 or ctx.shape[1] < max(self.orders):
            raise ValueError(f"DirectNgramFeatures: context must be (B, >= {max(self.orders)}) ids, got {ctx.shape}")
        M = (1 << 61) - 1
        out = []
        for k in self.orders:
            hsh = np.full(len(ctx), k * 1000003, dtype=object)
            for j in range(ctx.shape[1] - k, ctx.shape[1]):
                hsh = (hsh * 1000000007 + ctx[:, j].astype(object) + 1) % M
            base = np.array([int(x) for x in hsh], dtype=np.int64) % self.hash_size
            out.append((base[:, None] + np.arange(self.vocab_size)[None, :] * 40503) % self.hash_size)
        return np.stack(out, axis=1)                                                 # (B, K, V)

    def forward(self, context):
        return _rows(self.weight, self.indices(context)).sum(dim=1)
