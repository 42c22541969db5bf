"""char-lm recipe: a character-level LSTM language model (textbook 10.10, 12.4.2) on the generated fables corpus
shipped as examples/data/fables.txt (``shendu.text.corpus``). Windows of 100 characters from a zero state,
next-character cross-entropy, Adam; the last 10 % of the text is held out. Reports perplexity per character
(exp of the mean cross-entropy) and prints samples at temperatures 0.5 and 1.0 after training."""
from __future__ import annotations

import math

import numpy as np

from .registry import RecipeError, Setup, register

WINDOW = 100


def char_lm_data(text, window=WINDOW, held_out=0.1):
    """(itos, train (X, Y), test (X, Y)): non-overlapping windows of ids; Y is X shifted by one character."""
    if len(text) < 20 * window:
        raise RecipeError(f"char-lm: the corpus has {len(text)} characters, need at least {20 * window}")
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    ids = np.array([stoi[c] for c in text], np.int64)
    cut = int(len(ids) * (1 - held_out))

    def windows(a):
        n = (len(a) - 1) // window
        X = a[:n * window].reshape(n, window)
        Y = a[1:n * window + 1].reshape(n, window)
        return X, Y

    return itos, windows(ids[:cut]), windows(ids[cut:])


def perplexity(y_true, y_pred):
    """exp(mean cross-entropy) of logits y_pred (N, T, V) for ids y_true (N, T) (host arrays)."""
    z = np.asarray(y_pred, np.float64)
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    y = np.asarray(y_true, np.int64)
    return float(math.exp(-np.take_along_axis(logp, y[..., None], -1).mean()))


def _sample_callback(itos, print_fn=print, prefix="The ", n=160):
    from ..text import sample
    from ..train.callbacks.base import Callback

    stoi = {c: i for i, c in enumerate(itos)}

    class PrintSamples(Callback):
        def on_train_end(self, logs=None):
            rng = np.random.default_rng(0)
            for t in (0.5, 1.0):
                ids = sample(self.model, [stoi[c] for c in prefix if c in stoi], n, temperature=t, rng=rng)
                text = prefix + "".join(itos[i] for i in ids)
                print_fn(f"char-lm sample (temperature {t}): " + text.replace("\n", " / "))

    return PrintSamples()


@register("char-lm", description="character-level LSTM language model (Embedding 32, LSTM 128) on the bundled "
          "generated fables; windows of 100 chars, Adam; reports held-out perplexity per character and prints "
          "samples", epochs=10, batch_size=32, lr=1e-2, threads=1)
def char_lm(cfg):
    from .. import optim
    from ..nn import functional as F
    from ..text import RNNLM
    from ..text.corpus import load_fables

    path = None
    if cfg.get("data_dir"):
        from pathlib import Path

        path = Path(cfg["data_dir"]) / "fables.txt"
    itos, train, test = char_lm_data(load_fables(path))
    V = len(itos)
    model = RNNLM(V, embedding_dim=32, hidden_size=128)
    model.vocabulary = itos

    def loss(out, y):
        yy = y if hasattr(y, "_data") else np.asarray(y)
        return F.cross_entropy(out.reshape(-1, V), yy.reshape(-1))

    return Setup(model, loss, optim.Adam(model.parameters(), lr=cfg["lr"]), train, test, metrics=(perplexity,),
                 callbacks=[_sample_callback(itos)], fit_kwargs={"clip_grad_norm": 1.0})
