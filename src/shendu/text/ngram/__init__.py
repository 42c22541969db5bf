"""n-gram language models by counting (textbook 12.4.1, eqs. 12.5-12.7) with smoothing (additive,
Jelinek-Mercer interpolation, Katz back-off, interpolated Kneser-Ney), a class-based bigram model and perplexity.

Host-side Python (counting is not tensor work). Conventions of the smoothed models: a sentence (a list of tokens)
is padded with order-1 ``bos`` tokens in front and one ``eos`` at the end; every real token and the final eos is
predicted once. The prediction vocabulary V is the training tokens plus eos and unk (not bos), or the
``vocabulary`` given; tokens outside V are read as unk. ``prob(word, context)`` is P(word | last order-1 tokens
of context) and sums to 1 over V for every context.

``NgramRatioModel`` is the book's estimator (12.6): P(x_t | ctx) = P_n(ctx, x_t) / P_{n-1}(ctx), with P_{n-1}
trained on the sequences without their last token, so P(THE DOG RAN AWAY) = 1/6 on the book's toy corpus.

Modules: base (counting, MLE, the ratio estimator, perplexity), smoothing (additive, Jelinek-Mercer, Katz,
Kneser-Ney), classes (class-based bigram model and word clustering).
"""
from .base import NgramRatioModel, NgramLM, MLELM, perplexity  # noqa: F401
from .smoothing import LidstoneLM, LaplaceLM, JelinekMercerLM, KatzBackoffLM, KneserNeyLM  # noqa: F401
from .classes import ClassBigramLM, cluster_words  # noqa: F401

__all__ = ["NgramRatioModel", "NgramLM", "MLELM", "LidstoneLM", "LaplaceLM", "JelinekMercerLM", "KatzBackoffLM",
           "KneserNeyLM", "ClassBigramLM", "cluster_words", "perplexity"]
