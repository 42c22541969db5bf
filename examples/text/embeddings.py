"""Word embeddings of a neural language model (textbook 12.4.2, Fig. 12.3): train Bengio's NPLM on the
generated fables (examples/data/fables.txt), compare it with a Kneser-Ney trigram and their interpolation,
list nearest neighbours (cosine) of a few words, and draw the embeddings in 2-D with PCA and t-SNE.

    python examples/text/embeddings.py [--epochs 6] [--out runs/embeddings.png] [--quick]
"""
from __future__ import annotations

import argparse
import math
import os

import numpy as np

import shendu as sd
from shendu.nn import functional as F
from shendu.text import (NPLM, KneserNeyLM, Vocab, WordTokenizer, interpolate, nearest_neighbors, ngram_windows,
                         token_logprobs, tune_interpolation)
from shendu.text.corpus import load_fables


def sentences(text):
    tok = WordTokenizer(lower=True)
    out = []
    for para in text.split("\n\n"):
        for s in para.replace('"', "").split("."):
            words = [w for w in tok(s) if w.isalpha()]
            if words:
                out.append(words)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--out", default=os.path.join("runs", "embeddings.png"))
    ap.add_argument("--quick", action="store_true", help="a small part of the corpus, 2 epochs, PCA only")
    args = ap.parse_args(argv)
    sd.manual_seed(0)
    sents = sentences(load_fables())
    if args.quick:
        sents, args.epochs = sents[:3000], 2
    n = len(sents)
    train, val, test = sents[:int(0.8 * n)], sents[int(0.8 * n):int(0.9 * n)], sents[int(0.9 * n):]
    vocab = Vocab.build(train, pad=None)
    X, Y = ngram_windows(train, vocab, 3)
    model = NPLM(len(vocab), 2, embedding_dim=24, hidden_size=64, direct=True)
    opt = sd.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.3)
    rng = np.random.default_rng(0)
    for epoch in range(args.epochs):
        for idx in np.array_split(rng.permutation(len(Y)), max(1, len(Y) // 256)):
            loss = F.cross_entropy(model(sd.tensor(X[idx])), sd.tensor(Y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: training loss {float(loss.item()):.3f}")
    kn = KneserNeyLM(3).fit(train)
    itos = vocab.itos
    probs = {}
    for name, part in (("val", val), ("test", test)):
        Xp, Yp = ngram_windows(part, vocab, 3)
        probs[name] = (np.exp(token_logprobs(model, Xp, Yp)),
                       np.array([kn.prob(itos[y], [itos[c] for c in ctx]) for ctx, y in zip(Xp, Yp)]))
    lam, _ = tune_interpolation(*probs["val"])
    nn_p, kn_p = probs["test"]
    ppl = lambda p: math.exp(-np.log(p).mean())  # noqa: E731
    print(f"test perplexity: NPLM {ppl(nn_p):.2f}, Kneser-Ney trigram {ppl(kn_p):.2f}, "
          f"interpolated (lambda {lam:.2f} tuned on validation) {ppl(interpolate(nn_p, kn_p, lam)):.2f}")
    W = model.embedding.weight.numpy()
    for w in ("fox", "crow", "saw", "quickly", "ada"):
        if w in vocab:
            nbrs = ", ".join(f"{itos[i]} ({s:.2f})" for i, s in nearest_neighbors(W, vocab[w], k=4))
            print(f"nearest to {w!r}: {nbrs}")
    words = [i for i in range(len(itos)) if itos[i].isalpha()]
    from sklearn.decomposition import PCA

    views = [("PCA", PCA(n_components=2).fit_transform(W[words]))]
    if not args.quick:
        from sklearn.manifold import TSNE

        views.append(("t-SNE", TSNE(n_components=2, perplexity=10, random_state=0, init="pca").fit_transform(W[words])))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(views), figsize=(7 * len(views), 6))
    for ax, (title, xy) in zip(np.atleast_1d(axes), views):
        ax.scatter(xy[:, 0], xy[:, 1], s=8)
        for (x, y), i in zip(xy, words):
            ax.annotate(itos[i], (x, y), fontsize=7)
        ax.set_title(f"NPLM word embeddings, {title}")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"wrote {args.out}")
    return {"perplexity": ppl(nn_p), "kn": ppl(kn_p), "mix": ppl(interpolate(nn_p, kn_p, lam)), "lam": lam}


if __name__ == "__main__":
    main()
