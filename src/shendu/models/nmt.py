"""Toy neural machine translation (textbook 12.4.5: encoder-decoder, attention) and BLEU.

``ToyTranslation``: a synthetic language pair with a word dictionary and a reordering rule, the text's
"apple red" vs "red apple" (12.4.5): the source puts adjectives after nouns, the target before them.
Source sentence: det noun [adj] verb det noun [adj]; target: det' [adj'] noun' verb' det' [adj'] noun'.
``PhraseScorer``: Devlin et al. 2014's MLP estimate of P(t_1..t_k | s_1..s_k) for fixed-length phrases (12.4.5).
``translation_matrix``: a linear or orthogonal (Procrustes) map between two embedding spaces learned from a seed
dictionary (Mikolov et al. 2013; the cross-lingual maps of 12.4.5's last paragraph), ``translate_embeddings``.
``corpus_bleu``: BLEU (Papineni et al. 2002) = BP * exp(sum_n w_n log p_n) with p_n the clipped n-gram
precision summed over the corpus, BP = min(1, exp(1 - r / c)) (r: closest reference length per sentence).
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ..autograd.tensor import Tensor, _wrap, array_of
from ..backend import device_of, to_device, to_host
from ..nn.layers.embedding import Embedding
from ..nn.layers.linear import Linear
from ..nn.module import Module

__all__ = ["ToyTranslation", "PhraseScorer", "translation_matrix", "translate_embeddings", "corpus_bleu",
           "sentence_bleu", "ngram_counts"]

PAD, SOS, EOS = 0, 1, 2


class ToyTranslation:
    """Sentence pairs of the toy language pair; vocabularies share ids 0-2 for <pad>, <sos>, <eos>."""

    SRC = {"det": ["le", "la"], "noun": ["chat", "chien", "pomme", "maison", "voiture", "livre"],
           "adj": ["rouge", "grand", "petit", "vert"], "verb": ["voit", "aime", "mange"]}
    TGT = {"det": ["the", "a"], "noun": ["cat", "dog", "apple", "house", "car", "book"],
           "adj": ["red", "big", "small", "green"], "verb": ["sees", "likes", "eats"]}

    def __init__(self):
        self.src_words = ["<pad>", "<sos>", "<eos>"] + [w for k in self.SRC for w in self.SRC[k]]
        self.tgt_words = ["<pad>", "<sos>", "<eos>"] + [w for k in self.TGT for w in self.TGT[k]]
        self.dictionary = {s: t for k in self.SRC for s, t in zip(self.SRC[k], self.TGT[k])}
        self.src_id = {w: i for i, w in enumerate(self.src_words)}
        self.tgt_id = {w: i for i, w in enumerate(self.tgt_words)}

    @property
    def src_vocab(self):
        return len(self.src_words)

    @property
    def tgt_vocab(self):
        return len(self.tgt_words)

    def _phrase(self, rng):
        noun = self.SRC["noun"][rng.integers(6)]
        det = self.SRC["det"][rng.integers(2)]
        adj = [self.SRC["adj"][rng.integers(4)]] if rng.random() < 0.5 else []
        return [det, noun] + adj

    def translate(self, words):
        """The reference translation: word by word, each adjective moved before its noun."""
        out = [self.dictionary[w] for w in words]
        for i in range(1, len(words)):
            if words[i] in self.SRC["adj"]:
                out[i - 1], out[i] = out[i], out[i - 1]
        return out

    def sentences(self, n, seed=0):
        """n (source words, target words) pairs."""
        rng = np.random.default_rng(seed)
        pairs = []
        for _ in range(n):
            src = self._phrase(rng) + [self.SRC["verb"][rng.integers(3)]] + self._phrase(rng)
            pairs.append((src, self.translate(src)))
        return pairs

    def encode(self, pairs):
        """(src ids (n, S) padded, tgt ids (n, T) = <sos> ... <eos> <pad>...)."""
        S = max(len(s) for s, _ in pairs)
        T = max(len(t) for _, t in pairs) + 2
        src = np.full((len(pairs), S), PAD, np.int64)
        tgt = np.full((len(pairs), T), PAD, np.int64)
        for i, (s, t) in enumerate(pairs):
            src[i, :len(s)] = [self.src_id[w] for w in s]
            tgt[i, :len(t) + 2] = [SOS] + [self.tgt_id[w] for w in t] + [EOS]
        return src, tgt

    def words(self, ids):
        """Target ids -> words (stops at <eos>, drops <pad>/<sos>)."""
        out = []
        for i in ids:
            if int(i) == EOS:
                break
            if int(i) > EOS:
                out.append(self.tgt_words[int(i)])
        return out


class PhraseScorer(Module):
    """MLP phrase-translation model (Devlin et al. 2014; textbook 12.4.5):
    h = tanh(W [E(s_1); ...; E(s_k)] + b), P(t_j | s) = softmax(V_j h + c_j), log P(t | s) = sum_j log P(t_j | s).
    src (B, k) ids -> logits (B, k, tgt_vocab); ``log_prob(src, tgt)`` (B,); ``loss`` = -mean log P."""

    def __init__(self, src_vocab, tgt_vocab, k, emb_dim=32, hidden_size=64, dtype=None):
        super().__init__()
        self.emb = Embedding(src_vocab, emb_dim, dtype=dtype)
        self.hidden = Linear(k * emb_dim, hidden_size, dtype=dtype)
        self.out = Linear(hidden_size, k * tgt_vocab, dtype=dtype)
        self.k, self.tgt_vocab = k, tgt_vocab

    def _ids(self, ids):
        a = array_of(ids)
        if a.ndim != 2 or a.shape[1] != self.k:
            raise ValueError(f"PhraseScorer: expected phrases (B, {self.k}), got shape {tuple(a.shape)}")
        return _wrap(to_device(to_host(a), device_of(self.emb.weight._data)))

    def forward(self, src):
        e = self.emb(self._ids(src))
        h = self.hidden(e.reshape(e.shape[0], -1)).tanh()
        return self.out(h).reshape(e.shape[0], self.k, self.tgt_vocab)

    def log_prob(self, src, tgt):
        lp = self(src).log_softmax(-1)
        t = self._ids(tgt)
        return lp.gather(2, t.unsqueeze(2)).squeeze(2).sum(1)

    def loss(self, src, tgt):
        return -self.log_prob(src, tgt).mean()


def translation_matrix(X, Y, orthogonal=False):
    """W (d_x, d_y) mapping source embeddings to target ones, X W ~ Y, from the rows of a seed dictionary:
    least squares min ||X W - Y||_F, or with ``orthogonal=True`` (d_x = d_y) the Procrustes solution W = U V^T
    with U S V^T = svd(X^T Y). X (n, d_x), Y (n, d_y) arrays or Tensors; returns a host array."""
    X = np.asarray(to_host(X._data) if isinstance(X, Tensor) else X, dtype=np.float64)
    Y = np.asarray(to_host(Y._data) if isinstance(Y, Tensor) else Y, dtype=np.float64)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"translation_matrix: expected X (n, d_x) and Y (n, d_y), got {X.shape} and {Y.shape}")
    if orthogonal:
        if X.shape[1] != Y.shape[1]:
            raise ValueError(f"translation_matrix: an orthogonal map needs d_x = d_y, got {X.shape[1]}, {Y.shape[1]}")
        U, _, Vt = np.linalg.svd(X.T @ Y)
        return U @ Vt
    return np.linalg.lstsq(X, Y, rcond=None)[0]


def translate_embeddings(X, W, target_embeddings, metric="cosine"):
    """Index of the nearest target embedding (cosine or euclidean) to each mapped source row X W."""
    Z = np.asarray(X, dtype=np.float64) @ W
    T = np.asarray(target_embeddings, dtype=np.float64)
    if metric == "cosine":
        Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
        T = T / np.linalg.norm(T, axis=1, keepdims=True)
        return (Z @ T.T).argmax(1)
    return ((Z[:, None] - T[None]) ** 2).sum(-1).argmin(1)


def ngram_counts(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(references, hypotheses, max_n=4, weights=None, smooth=None):
    """Corpus BLEU of token-list hypotheses against references (each a token list, or a list of token lists
    for several references). ``smooth``: None, 'floor' (a zero match count becomes 0.1, as sacrebleu's floor)
    or 'add1' (add 1 to numerator and denominator for n > 1, Lin & Och 2004). Returns a float in [0, 1]."""
    if len(references) != len(hypotheses):
        raise ValueError(f"corpus_bleu: {len(references)} references but {len(hypotheses)} hypotheses")
    weights = [1.0 / max_n] * max_n if weights is None else list(weights)
    if len(weights) != max_n:
        raise ValueError(f"corpus_bleu: {len(weights)} weights for max_n = {max_n}")
    if smooth not in (None, "floor", "add1"):
        raise ValueError(f"corpus_bleu: smooth must be None, 'floor' or 'add1', got {smooth!r}")
    match, total = [0] * max_n, [0] * max_n
    c_len = r_len = 0
    for refs, hyp in zip(references, hypotheses):
        refs = [refs] if refs and isinstance(refs[0], str) or not refs else refs
        hyp = list(hyp)
        c_len += len(hyp)
        r_len += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            h = ngram_counts(hyp, n)
            best = Counter()
            for r in refs:
                for g, v in ngram_counts(list(r), n).items():
                    best[g] = max(best[g], v)
            match[n - 1] += sum(min(v, best[g]) for g, v in h.items())
            total[n - 1] += max(len(hyp) - n + 1, 0)
    if c_len == 0:
        return 0.0
    logp = 0.0
    for n in range(max_n):
        m, t = match[n], total[n]
        if smooth == "add1" and n > 0:
            m, t = m + 1, t + 1
        if smooth == "floor" and m == 0:
            m = 0.1
        if t == 0 or m == 0:
            return 0.0
        logp += weights[n] * math.log(m / t)
    bp = 1.0 if c_len > r_len else math.exp(1.0 - r_len / c_len)
    return bp * math.exp(logp)


def sentence_bleu(reference, hypothesis, max_n=4, smooth="add1"):
    """BLEU of one sentence (smoothed by default: short sentences often have no 4-gram match)."""
    return corpus_bleu([reference], [hypothesis], max_n, smooth=smooth)
