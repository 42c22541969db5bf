"""Gallery: an n-gram model vs a neural language model (textbook 12.4.1-12.4.2): on little text the NPLM's word
embeddings share statistics between similar words and beat the best smoothed n-gram model's perplexity."""
from __future__ import annotations

import math
import re

import numpy as np

from ._core import experiment, new_figure, tensor


def _sentences(n_chars, seed):
    from ..text import WordTokenizer
    from ..text.corpus import generate_fables

    tok = WordTokenizer(lower=True)
    raw = generate_fables(n_chars, seed=seed)
    return [s for s in (tok.tokenize(p) for p in re.split(r'(?<=[.!?"])\s+', raw) if p.strip()) if s]


@experiment("ngram_vs_neural_lm", title="n-gram vs neural language model perplexity",
            claim="An n-gram model treats every word as a separate symbol, so it needs to have seen each context; a "
                  "neural language model maps words to learned embeddings, so what it learns about one word "
                  "carries over to words used in the same slots, and from little text it predicts held-out text "
                  "better (lower perplexity).",
            section="textbook 12.4.1 (n-grams), 12.4.2 (neural language models)",
            criterion="NPLM test perplexity < 0.9 x the best interpolated Kneser-Ney model's (orders 2, 3, 4)",
            judge=lambda n: n["ppl_nplm"] < 0.9 * n["ppl_best_kneser_ney"])
def ngram_vs_neural_lm(quick=True, seed=0):
    from .. import manual_seed, optim
    from ..nn import functional as F
    from ..text import NPLM, KneserNeyLM, Vocab, ngram_windows, token_logprobs

    sents = _sentences(60_000, 3)
    n_train = 300 if quick else 1000
    train, test = sents[:n_train], sents[-400:]
    vocab = Vocab.build(train, pad=None)
    n = {
        "train_sentences": n_train,
        "nplm_context": 2 if quick else 3,
        "train_tokens": sum(len(s) + 1 for s in train),
        "vocab": len(vocab),
    }
    kn = {order: KneserNeyLM(order).fit(train).perplexity(test) for order in (2, 3, 4)}
    for order, p in kn.items():
        n[f"ppl_kneser_ney_{order}gram"] = p
    n["ppl_best_kneser_ney"] = min(kn.values())
    ctx = 2 if quick else 3          # a neural model can afford a longer context without sparsity
    Xtr, Ytr = ngram_windows(train, vocab, ctx + 1)
    Xte, Yte = ngram_windows(test, vocab, ctx + 1)
    manual_seed(seed)
    model = NPLM(len(vocab), ctx, embedding_dim=16, hidden_size=64, direct=True)
    opt = optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.5)
    rng = np.random.default_rng(seed)
    curve = []
    for _ in range(15 if quick else 20):
        model.train()
        for idx in np.array_split(rng.permutation(len(Ytr)), max(1, len(Ytr) // 128)):
            loss = F.cross_entropy(model(tensor(Xtr[idx])), tensor(Ytr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        curve.append(math.exp(-token_logprobs(model, Xte, Yte).mean()))
    n["ppl_nplm"] = curve[-1]
    fig, ax = new_figure()
    ax.plot(range(1, len(curve) + 1), curve, "o-", label=f"NPLM ({ctx} previous words, 16-d embeddings)")
    for order, p in kn.items():
        ax.axhline(p, ls="--", color=f"C{order}", label=f"Kneser-Ney {order}-gram")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test perplexity")
    ax.set_title(f"{n_train} training sentences of generated fables")
    ax.legend(fontsize=8)
    return n, [fig]
