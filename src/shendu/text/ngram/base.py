"""n-gram counting (textbook 12.4.1, eqs. 12.5-12.7): the book's ratio estimator (12.6), the counting base
class of the smoothed models with its padding and vocabulary conventions, the unsmoothed MLE model and perplexity.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict


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


def perplexity(total_logprob, n_tokens):
    """exp(-total_logprob / n_tokens) (natural logs), the exponentiated per-token cross-entropy."""
    if n_tokens <= 0:
        raise ValueError(f"perplexity: n_tokens must be > 0, got {n_tokens}")
    return math.exp(-float(total_logprob) / n_tokens)
