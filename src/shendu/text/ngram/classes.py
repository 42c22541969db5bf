"""Class-based bigram model (textbook 12.4.1, Brown et al. 1992): P(w | v) = P(c(w) | c(v)) P(w | c(w)),
with word classes from k-means on co-occurrence vectors.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from .base import NgramLM, _check_sentences


class ClassBigramLM(NgramLM):
    """Class-based bigram (Brown et al. 1992; textbook 12.4.1): P(w_t | w_{t-1}) = P(c_t | c_{t-1}) P(w_t | c_t).

    ``word_to_class``: dict word -> class label (words absent from it share the class '<other>'); bos and eos
    have their own classes. Both factors are add-``alpha`` smoothed, so every conditional sums to 1 over V."""

    def __init__(self, word_to_class, alpha=0.1, **kw):
        super().__init__(2, **kw)
        if not isinstance(word_to_class, dict):
            raise TypeError(f"ClassBigramLM: word_to_class must be a dict, got {type(word_to_class).__name__}")
        if not alpha > 0:
            raise ValueError(f"ClassBigramLM: alpha must be > 0, got {alpha!r}")
        self.word_to_class, self.alpha = dict(word_to_class), float(alpha)

    def cls(self, w):
        if w == self.bos:
            return ("<bos>",)
        if w == self.eos:
            return ("<eos>",)
        return self.word_to_class.get(w, "<other>")

    def _fitted(self):
        self.members = Counter(self.cls(w) for w in self.vocab)
        self.classes = list(self.members)
        self.trans = defaultdict(Counter)
        self.word_count = Counter()
        self.class_count = Counter()
        for (prev,), cnt in self.counts[2].items():
            for w, r in cnt.items():
                self.trans[self.cls(prev)][self.cls(w)] += r
                self.word_count[w] += r
                self.class_count[self.cls(w)] += r

    def _p(self, w, ctx):
        cp, cw = self.cls(ctx[0]), self.cls(w)
        t = self.trans.get(cp)
        tot = sum(t.values()) if t else 0
        pc = ((t[cw] if t else 0) + self.alpha) / (tot + self.alpha * len(self.classes))
        pw = (self.word_count[w] + self.alpha) / (self.class_count[cw] + self.alpha * self.members[cw])
        return pc * pw


def cluster_words(sentences, n_classes, seed=0):
    """Word classes from co-occurrence (textbook 12.4.1: cluster words by co-occurrence frequencies): each word is
    described by the distributions of its left and right neighbours (sqrt-scaled, unit length) and the vectors are
    grouped by k-means (scikit-learn). Returns {word: class id} for ClassBigramLM."""
    sents = _check_sentences("cluster_words", sentences)
    words = sorted({t for s in sents for t in s})
    if not 1 <= n_classes <= len(words):
        raise ValueError(f"cluster_words: n_classes must lie in [1, {len(words)}], got {n_classes}")
    import numpy as np
    from sklearn.cluster import KMeans

    ctx = ["<s>"] + words + ["</s>"]
    ci = {w: i for i, w in enumerate(ctx)}
    wi = {w: i for i, w in enumerate(words)}
    F = np.zeros((len(words), 2 * len(ctx)))
    for s in sents:
        p = ["<s>"] + list(s) + ["</s>"]
        for j in range(1, len(p) - 1):
            F[wi[p[j]], ci[p[j - 1]]] += 1
            F[wi[p[j]], len(ctx) + ci[p[j + 1]]] += 1
    F = np.sqrt(F / F.sum(1, keepdims=True))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    labels = KMeans(n_clusters=n_classes, n_init=10, random_state=seed).fit_predict(F)
    return {w: int(c) for w, c in zip(words, labels)}
