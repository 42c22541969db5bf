"""Smoothed n-gram models (textbook 12.4.1): additive (Lidstone, Laplace), Jelinek-Mercer
interpolation, Katz back-off and interpolated Kneser-Ney.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from .base import NgramLM


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
