"""n-gram language models by counting (textbook 12.4.1, eqs. 12.5-12.7) with smoothing (additive,
Jelinek-Mercer interpolation, Katz back-off, interpolated Kneser-Ney), a class-based bigram model and perplexity.

Host-side Python (counting is not tensor work). Conventions of the smoothed models: a sentence (a list of tokens)
is padded with order-1 ``bos`` tokens in front and one ``eos`` at the end; every real token and the final eos is
predicted once. The prediction vocabulary V is the training tokens plus eos and unk (not bos), or the
``vocabulary`` given; tokens outside V are read as unk. ``prob(word, context)`` is P(word | last order-1 tokens
of context) and sums to 1 over V for every context.

``NgramRatioModel`` is the book's estimator (12.6): P(x_t | ctx) = P_n(ctx, x_t) / P_{n-1}(ctx), with P_{n-1}
trained on the sequences without their last token, so P(THE DOG RAN AWAY) = 1/6 on the book's toy corpus.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict

__all__ = ["NgramRatioModel", "NgramLM", "MLELM", "LidstoneLM", "LaplaceLM", "JelinekMercerLM", "KatzBackoffLM",
           "KneserNeyLM", "ClassBigramLM", "cluster_words", "perplexity"]


def _check_sentences(who, sentences):
    sentences = list(sentences)
    for s in sentences:
        if isinstance(s, str):
            raise TypeError(f"{who}: expected sentences as token lists, got a str {s[:30]!r} (tokenize it first)")
    return sentences


class NgramRatioModel:
    """The book's n-gram model (12.5-12.7): joint n-gram frequencies P_n and P_{n-1} by counting (MLE).

    P(x_1..x_tau) = P_n(x_1..x_n) prod_{t>n} P_n(x_{t-n+1..t}) / P_{n-1}(x_{t-n+1..t-1}); P_{n-1} is trained
    on the sequences with their last token dropped (textbook l.3100), so both have the same normaliser.
    The failure modes of the MLE show as they are: 0 for an unseen n-gram, nan (0/0) for an unseen context."""

    def __init__(self, n):
        if not (isinstance(n, int) and n >= 2):
            raise ValueError(f"NgramRatioModel: n must be an int >= 2, got {n!r}")
        self.n = n

    def fit(self, sequences):
        n = self.n
        seqs = _check_sentences("NgramRatioModel.fit", sequences)
        self.cn = Counter(tuple(s[i:i + n]) for s in seqs for i in range(len(s) - n + 1))
        self.cm = Counter(tuple(s[i:i + n - 1]) for s in seqs for i in range(len(s) - 1 - (n - 1) + 1))
        self.Nn, self.Nm = sum(self.cn.values()), sum(self.cm.values())
        return self

    def joint(self, gram):
        """P_n(gram) for len(gram) == n, P_{n-1}(gram) for len(gram) == n-1 (frequency among positions)."""
        gram = tuple(gram)
        if len(gram) == self.n:
            return self.cn[gram] / self.Nn if self.Nn else 0.0
        if len(gram) == self.n - 1:
            return self.cm[gram] / self.Nm if self.Nm else 0.0
        raise ValueError(f"NgramRatioModel.joint: gram of length {len(gram)}, expected {self.n} or {self.n - 1}")

    def cond(self, word, context):
        """P(word | context) = P_n(context, word) / P_{n-1}(context) (12.6); nan when P_{n-1}(context) = 0."""
        ctx = tuple(context)[-(self.n - 1):]
        den = self.joint(ctx)
        return self.joint(ctx + (word,)) / den if den else float("nan")

    def sequence_prob(self, seq):
        """P(seq) by 12.5: the first n tokens from the marginal P_n, then one conditional per token (12.7)."""
        seq = list(seq)
        n = self.n
        if len(seq) < n:
            raise ValueError(f"NgramRatioModel.sequence_prob: sequence of length {len(seq)} is shorter than n={n}")
        p = self.joint(seq[:n])
        for t in range(n, len(seq)):
            p *= self.cond(seq[t], seq[t - n + 1:t])
        return p


class NgramLM:
    """Base of the counted n-gram models: fit, prob, logprob, distribution, sentence_logprob, perplexity."""

    def __init__(self, order=3, *, vocabulary=None, bos="<s>", eos="</s>", unk="<unk>"):
        if not (isinstance(order, int) and order >= 1):
            raise ValueError(f"{type(self).__name__}: order must be an int >= 1, got {order!r}")
        self.order, self.bos, self.eos, self.unk = order, bos, eos, unk
        self._given_vocab = None if vocabulary is None else list(vocabulary)

    # --- counting -----------------------------------------------------------------------------------------
    def _pad(self, sent):
        return [self.bos] * (self.order - 1) + [self._map(t) for t in sent] + [self.eos]

    def _map(self, t):
        return t if t in self.vocab_set or t == self.bos else self.unk

    def fit(self, sentences):
        sents = _check_sentences(f"{type(self).__name__}.fit", sentences)
        if self._given_vocab is not None:
            vocab = list(dict.fromkeys(self._given_vocab))
        else:
            vocab = sorted({t for s in sents for t in s} - {self.bos, self.eos, self.unk})
        for special in (self.eos, self.unk):
            if special not in vocab:
                vocab.append(special)
        self.vocab = vocab
        self.vocab_set = set(vocab)
        n = self.order
        # counts[k][ctx] = Counter of next words, ctx of length k-1; one count per predicted position
        self.counts = [None] + [defaultdict(Counter) for _ in range(n)]
        for s in sents:
            p = self._pad(s)
            for i in range(n - 1, len(p)):
                for k in range(1, n + 1):
                    self.counts[k][tuple(p[i - k + 1:i])][p[i]] += 1
        self._fitted()
        return self

    def _fitted(self):
        pass

    def _ctx(self, context):
        if self.order == 1:
            return ()
        ctx = [self._map(t) for t in (context or ())]
        ctx = [self.bos] * max(0, self.order - 1 - len(ctx)) + ctx
        return tuple(ctx[len(ctx) - (self.order - 1):])

    def _word(self, word):
        if not hasattr(self, "vocab"):
            raise RuntimeError(f"{type(self).__name__}: call fit(sentences) first")
        return word if word in self.vocab_set else self.unk

    # --- scoring ------------------------------------------------------------------------------------------
    def prob(self, word, context=()):
        """P(word | context): context is the preceding tokens (the last order-1 are used; bos-padded)."""
        return self._p(self._word(word), self._ctx(context))

    def logprob(self, word, context=()):
        p = self.prob(word, context)
        return math.log(p) if p > 0 else -math.inf

    def distribution(self, context=()):
        """{word: P(word | context)} over the vocabulary V (sums to 1)."""
        ctx = self._ctx(context)
        return {w: self._p(w, ctx) for w in self.vocab}

    def sentence_logprob(self, sentence):
        """Sum of log P(x_t | previous tokens) over the sentence's tokens and its final eos (natural log)."""
        p = self._pad(list(sentence))
        n = self.order
        total = 0.0
        for i in range(n - 1, len(p)):
            q = self._p(p[i], tuple(p[i - n + 1:i]))
            total += math.log(q) if q > 0 else -math.inf
        return total

    def perplexity(self, sentences):
        """exp(-(1/N) sum log P) over the N predicted tokens (tokens + one eos per sentence)."""
        sents = _check_sentences("perplexity", sentences)
        return perplexity(sum(self.sentence_logprob(s) for s in sents), sum(len(s) + 1 for s in sents))

    def _ml(self, word, ctx):
        c = self.counts[len(ctx) + 1].get(ctx)
        if not c:
            return 0.0, 0
        tot = sum(c.values())
        return c[word] / tot, tot


class MLELM(NgramLM):
    """Maximum-likelihood n-gram: P(w | h) = c(h, w) / c(h) (12.6); 0 for unseen, nan for an unseen context."""

    def _p(self, w, ctx):
        p, tot = self._ml(w, ctx)
        return p if tot else float("nan")


class LidstoneLM(NgramLM):
    """Additive smoothing: P(w | h) = (c(h, w) + alpha) / (c(h) + alpha |V|) (a Dirichlet prior, 12.4.1)."""

    def __init__(self, order=3, alpha=0.1, **kw):
        super().__init__(order, **kw)
        if not alpha > 0:
            raise ValueError(f"LidstoneLM: alpha must be > 0, got {alpha!r}")
        self.alpha = float(alpha)

    def _p(self, w, ctx):
        c = self.counts[len(ctx) + 1].get(ctx)
        tot = sum(c.values()) if c else 0
        return ((c[w] if c else 0) + self.alpha) / (tot + self.alpha * len(self.vocab))


class LaplaceLM(LidstoneLM):
    """Add-one (Laplace) smoothing: LidstoneLM with alpha = 1."""

    def __init__(self, order=3, **kw):
        super().__init__(order, alpha=1.0, **kw)


class JelinekMercerLM(NgramLM):
    """Jelinek-Mercer interpolation: P_k(w|h) = lam_k P_ML(w|h) + (1 - lam_k) P_{k-1}(w|h'), P_0 = 1/|V|.

    ``lambdas``: one weight for every order, or a list (orders 1..n). A context never seen uses P_{k-1} alone.
    ``fit_lambda(heldout)`` picks the shared weight with the lowest held-out perplexity on a grid."""

    def __init__(self, order=3, lambdas=0.7, **kw):
        super().__init__(order, **kw)
        self.set_lambdas(lambdas)

    def set_lambdas(self, lambdas):
        lam = [float(lambdas)] * self.order if isinstance(lambdas, (int, float)) else [float(x) for x in lambdas]
        if len(lam) != self.order or not all(0.0 <= x <= 1.0 for x in lam):
            raise ValueError(f"JelinekMercerLM: lambdas must be one value or {self.order} values in [0, 1], "
                             f"got {lambdas!r}")
        self.lambdas = lam

    def _p(self, w, ctx):
        p = 1.0 / len(self.vocab)
        for k in range(1, len(ctx) + 2):
            ml, tot = self._ml(w, ctx[len(ctx) - (k - 1):])
            if tot:
                lam = self.lambdas[k - 1]
                p = lam * ml + (1.0 - lam) * p
        return p

    def fit_lambda(self, heldout, grid=None):
        """Set the shared lambda minimising held-out perplexity over ``grid`` (default 0.05..0.95); returns it."""
        grid = grid or [i / 20 for i in range(1, 20)]
        best = min(grid, key=lambda g: (self.set_lambdas(g), self.perplexity(heldout))[1])
        self.set_lambdas(best)
        return best


class KatzBackoffLM(NgramLM):
    """Katz back-off (Katz 1987): discounted estimate d_r r / c(h) for seen n-grams, else alpha(h) P_katz(w|h').

    d_r are Good-Turing discounts for counts r <= k (Katz's formula); where they are not all in (0, 1) (small
    corpora) that order uses absolute discounting d_r = (r - D)/r. Counts <= ``cutoff`` are treated as unseen
    (the back-off threshold). alpha(h) makes every conditional sum to 1; the base is an add-``unigram_alpha``
    unigram. A context never seen backs off entirely; where the lower order has no mass left for the unseen words
    (all its seen counts > k keep d = 1) the seen n-grams are renormalised."""

    def __init__(self, order=3, k=5, discount=0.5, cutoff=0, unigram_alpha=1.0, **kw):
        super().__init__(order, **kw)
        if not 0 < discount < 1:
            raise ValueError(f"KatzBackoffLM: discount must lie in (0, 1), got {discount!r}")
        self.k, self.D, self.cutoff, self.unigram_alpha = int(k), float(discount), int(cutoff), float(unigram_alpha)

    def _fitted(self):
        self._alpha = {}
        self.discounts = [None]
        for k in range(1, self.order + 1):
            nr = Counter(c for cnt in self.counts[k].values() for c in cnt.values())
            d = {}
            ok = nr[1] > 0
            if ok:
                A = (self.k + 1) * nr[self.k + 1] / nr[1]
                for r in range(1, self.k + 1):
                    if nr[r] == 0 or nr[r + 1] == 0:
                        ok = False
                        break
                    rstar = (r + 1) * nr[r + 1] / nr[r]
                    d[r] = (rstar / r - A) / (1 - A) if A != 1 else 0.0
                    if not 0 < d[r] < 1:
                        ok = False
                        break
            self.discounts.append(d if ok else None)

    def _d(self, k, r):
        d = self.discounts[k]
        if d is None:
            return (r - self.D) / r
        return 1.0 if r > self.k else d[r]

    def _p(self, w, ctx):
        if not ctx:
            c = self.counts[1][()]
            return (c[w] + self.unigram_alpha) / (sum(c.values()) + self.unigram_alpha * len(self.vocab))
        k = len(ctx) + 1
        c = self.counts[k].get(ctx)
        if not c:
            return self._p(w, ctx[1:])
        r = c[w]
        alpha, norm = self._backoff_weight(ctx, c)
        if r > self.cutoff:
            return self._d(k, r) * r / norm
        return alpha * self._p(w, ctx[1:])

    def _backoff_weight(self, ctx, c):
        """(alpha(h), normaliser of the seen n-grams): c(h), or their discounted total when the lower order has
        no mass left for the unseen words (then those get 0 and the seen ones are renormalised)."""
        a = self._alpha.get(ctx)
        if a is None:
            k, tot = len(ctx) + 1, sum(c.values())
            seen = [(w, r) for w, r in c.items() if r > self.cutoff]
            kept = sum(self._d(k, r) * r for _, r in seen)
            lower = 1.0 - sum(self._p(w, ctx[1:]) for w, _ in seen)
            a = ((1.0 - kept / tot) / lower, tot) if lower > 1e-12 or not seen else (0.0, kept)
            self._alpha[ctx] = a
        return a


class KneserNeyLM(NgramLM):
    """Interpolated Kneser-Ney (Chen & Goodman 1999) with one absolute discount D.

    Top order: P(w|h) = max(c(hw) - D, 0)/c(h) + D N1+(h.)/c(h) P(w|h'). Lower orders use continuation counts
    N1+(.hw) (number of distinct left neighbours) in place of c(hw); the unigram level interpolates with 1/|V|.
    A context never seen passes to the lower order."""

    def __init__(self, order=3, discount=0.75, **kw):
        super().__init__(order, **kw)
        if not 0 < discount < 1:
            raise ValueError(f"KneserNeyLM: discount must lie in (0, 1), got {discount!r}")
        self.D = float(discount)

    def _fitted(self):
        n = self.order
        # cont[k][ctx][w] = N1+(. ctx w) for k < n (ctx of length k-1)
        self.cont = [None] + [defaultdict(Counter) for _ in range(n)]
        for k in range(1, n):
            for hctx, cnt in self.counts[k + 1].items():
                for w in cnt:
                    self.cont[k][hctx[1:]][w] += 1
        self._tot = {}

    def _stats(self, table, ctx):
        key = (id(table), ctx)
        s = self._tot.get(key)
        if s is None:
            c = table.get(ctx)
            s = (sum(c.values()), len(c)) if c else (0, 0)
            self._tot[key] = s
        return s

    def _p(self, w, ctx):
        p = 1.0 / len(self.vocab)
        n = self.order
        for k in range(1, len(ctx) + 2):
            h = ctx[len(ctx) - (k - 1):]
            table = self.counts[k] if k == n else self.cont[k]
            tot, distinct = self._stats(table, h)
            if tot:
                c = table[h][w]
                p = max(c - self.D, 0.0) / tot + self.D * distinct / tot * p
        return p


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


def perplexity(total_logprob, n_tokens):
    """exp(-total_logprob / n_tokens) (natural logs), the exponentiated per-token cross-entropy."""
    if n_tokens <= 0:
        raise ValueError(f"perplexity: n_tokens must be > 0, got {n_tokens}")
    return math.exp(-float(total_logprob) / n_tokens)
