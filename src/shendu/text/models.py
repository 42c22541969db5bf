"""Neural language models (textbook 12.4.2): Bengio's NPLM and an RNN/LSTM LM with truncated BPTT, perplexity,
sampling with temperature and top-k, nearest neighbours of embeddings, and interpolation with an n-gram model
(12.4.4) with the weight tuned on validation data (EM)."""
from __future__ import annotations

import math

import numpy as np

from .. import nn, ops
from ..autograd import no_grad
from ..autograd.tensor import Tensor
from ..backend import device_of, get_generator, to_device, to_host
from ..nn import functional as F

__all__ = ["NPLM", "RNNLM", "ngram_windows", "detach_state", "train_tbptt", "evaluate_perplexity",
           "token_logprobs", "sample", "nearest_neighbors", "tune_interpolation", "interpolate"]


class NPLM(nn.Module):
    """Bengio et al. (2003) neural probabilistic LM: the embeddings of the n-1 previous words, concatenated, go
    through a tanh hidden layer to a softmax over V; ``direct=True`` adds direct embedding -> output connections.

    logits = b + W x + U tanh(d + H x), x = [C(w_{t-1}), ..., C(w_{t-n+1})]. forward(ctx (B, n-1) ids) -> (B, V)."""

    def __init__(self, vocab_size, context_size, embedding_dim=32, hidden_size=64, direct=False):
        super().__init__()
        self.vocab_size, self.context_size = vocab_size, context_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.hidden = nn.Linear(context_size * embedding_dim, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)
        self.direct = nn.Linear(context_size * embedding_dim, vocab_size, bias=False) if direct else None

    def forward(self, ctx):
        if ctx.ndim != 2 or ctx.shape[1] != self.context_size:
            raise ValueError(f"NPLM: context ids must be (B, {self.context_size}), got {tuple(ctx.shape)}")
        x = self.embedding(ctx).reshape(ctx.shape[0], -1)
        logits = self.out(ops.tanh(self.hidden(x)))
        return logits + self.direct(x) if self.direct is not None else logits


class RNNLM(nn.Module):
    """Recurrent LM: Embedding -> LSTM/GRU/RNN (batch-first) -> Linear over V (textbook 10.2, 12.4.2).

    forward(x (B, T) ids) -> logits (B, T, V) from a zero state; step(x, state) -> (logits, state) carries the
    state (truncated BPTT, sampling). tie_weights shares the embedding with the output layer (needs
    embedding_dim == hidden_size)."""

    def __init__(self, vocab_size, embedding_dim=64, hidden_size=128, num_layers=1, cell="LSTM", dropout=0.0,
                 tie_weights=False):
        super().__init__()
        cells = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}
        if cell not in cells:
            raise ValueError(f"RNNLM: cell must be one of {sorted(cells)}, got {cell!r}")
        self.vocab_size, self.cell = vocab_size, cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = cells[cell](embedding_dim, hidden_size, num_layers=num_layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            if embedding_dim != hidden_size:
                raise ValueError(f"RNNLM: tie_weights needs embedding_dim == hidden_size, got {embedding_dim} and "
                                 f"{hidden_size}")
            self.out.weight = self.embedding.weight

    def step(self, x, state=None):
        if x.ndim != 2:
            raise ValueError(f"RNNLM: input ids must be (B, T), got {tuple(x.shape)}")
        y, state = self.rnn(self.drop(self.embedding(x)), state)
        return self.out(self.drop(y)), state

    def forward(self, x):
        return self.step(x)[0]


def ngram_windows(sentences, vocab, n):
    """(contexts (N, n-1), targets (N,)) int64 from token lists, with n-1 bos in front and one eos at the end,
    predicting the same positions as the n-gram models of ``shendu.text.ngram`` (vocab: a Vocab with bos/eos)."""
    ctxs, tgts = [], []
    for s in sentences:
        ids = [vocab.bos_id] * (n - 1) + vocab.encode(s) + [vocab.eos_id]
        for i in range(n - 1, len(ids)):
            ctxs.append(ids[i - n + 1:i])
            tgts.append(ids[i])
    return np.asarray(ctxs, np.int64).reshape(-1, n - 1), np.asarray(tgts, np.int64)


def detach_state(state):
    """The recurrent state cut from its graph (truncated BPTT: gradients stop at the chunk boundary)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(detach_state(s) for s in state)
    return state.detach()


def _dev_ids(a, model):
    p = next(iter(model.parameters()))
    return Tensor(to_device(np.ascontiguousarray(a, dtype=np.int64), device_of(p._data)))


def train_tbptt(model, data, optimizer, bptt=32, epochs=1, clip=1.0, max_steps=None):
    """Truncated BPTT (textbook 10.2.2): data (B, T) ids from ``batchify``; walk it in chunks of ``bptt`` steps,
    carrying the state between chunks but detaching it. Returns the mean training loss of each chunk."""
    if not isinstance(model, RNNLM):
        raise TypeError(f"train_tbptt: model must be an RNNLM, got {type(model).__name__}")
    data = np.asarray(data, np.int64)
    losses, steps = [], 0
    model.train()
    params = list(model.parameters())
    for _ in range(epochs):
        state = None
        for i in range(0, data.shape[1] - 1, bptt):
            x, y = data[:, i:i + bptt], data[:, i + 1:i + 1 + bptt]
            x = x[:, :y.shape[1]]
            logits, state = model.step(_dev_ids(x, model), detach_state(state))
            loss = F.cross_entropy(logits.reshape(-1, model.vocab_size), _dev_ids(y.reshape(-1), model))
            optimizer.zero_grad()
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(params, clip)
            optimizer.step()
            losses.append(float(loss.item()))
            steps += 1
            if max_steps is not None and steps >= max_steps:
                return losses
    return losses


def evaluate_perplexity(model, data, bptt=64):
    """Perplexity exp(mean NLL) of an RNNLM on batchified ids (B, T), carrying the state across chunks."""
    data = np.asarray(data, np.int64)
    model.eval()
    total, count, state = 0.0, 0, None
    with no_grad():
        for i in range(0, data.shape[1] - 1, bptt):
            x, y = data[:, i:i + bptt], data[:, i + 1:i + 1 + bptt]
            x = x[:, :y.shape[1]]
            logits, state = model.step(_dev_ids(x, model), state)
            loss = F.cross_entropy(logits.reshape(-1, model.vocab_size), _dev_ids(y.reshape(-1), model),
                                   reduction="sum")
            total += float(loss.item())
            count += y.size
    return math.exp(total / count)


def token_logprobs(model, contexts, targets, batch_size=1024):
    """log P(target | context) per example (host float64) from a model mapping context ids to logits (NPLM)."""
    model.eval()
    out = []
    with no_grad():
        for i in range(0, len(targets), batch_size):
            lp = F.log_softmax(model(_dev_ids(contexts[i:i + batch_size], model)), dim=-1)._data
            lp = to_host(lp)
            out.append(lp[np.arange(lp.shape[0]), targets[i:i + batch_size]])
    return np.concatenate(out).astype(np.float64)


def _pick(logits_row, temperature, top_k, rng):
    z = np.asarray(logits_row, np.float64) / temperature
    if top_k is not None and top_k < len(z):
        cut = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= cut, z, -np.inf)
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right").clip(0, len(p) - 1))


def sample(model, prefix, n, temperature=1.0, top_k=None, rng=None):
    """Draw n tokens after ``prefix`` (ids) from an RNNLM or NPLM: p proportional to exp(logits / temperature),
    restricted to the top_k largest when given (temperature -> 0 approaches greedy). Returns the n new ids."""
    if not temperature > 0:
        raise ValueError(f"sample: temperature must be > 0, got {temperature!r}")
    if top_k is not None and not (isinstance(top_k, int) and top_k >= 1):
        raise ValueError(f"sample: top_k must be None or an int >= 1, got {top_k!r}")
    prefix = [int(i) for i in prefix]
    if not prefix:
        raise ValueError("sample: prefix must hold at least one id")
    rng = rng or get_generator()
    model.eval()
    out = []
    with no_grad():
        if isinstance(model, RNNLM):
            logits, state = model.step(_dev_ids([prefix], model))
            for _ in range(n):
                nxt = _pick(to_host(logits._data[0, -1]), temperature, top_k, rng)
                out.append(nxt)
                logits, state = model.step(_dev_ids([[nxt]], model), state)
        else:
            k = model.context_size
            hist = prefix[:]
            if len(hist) < k:
                raise ValueError(f"sample: an NPLM needs a prefix of >= {k} ids, got {len(hist)}")
            for _ in range(n):
                nxt = _pick(to_host(model(_dev_ids([hist[-k:]], model))._data[0]), temperature, top_k, rng)
                out.append(nxt)
                hist.append(nxt)
    return out


def nearest_neighbors(weight, query, k=5):
    """The k rows of ``weight`` (V, d) most cosine-similar to row ``query`` (itself excluded): [(id, cos), ...]."""
    W = to_host(weight._data) if isinstance(weight, Tensor) else np.asarray(weight)
    W = W.astype(np.float64)
    norms = np.linalg.norm(W, axis=1)
    sims = W @ W[query] / np.maximum(norms * norms[query], 1e-12)
    sims[query] = -np.inf
    idx = np.argsort(-sims)[:k]
    return [(int(i), float(sims[i])) for i in idx]


def interpolate(p_a, p_b, lam):
    """Per-token probability of the mixture lam p_a + (1 - lam) p_b (textbook 12.4.4)."""
    return lam * np.asarray(p_a, np.float64) + (1 - lam) * np.asarray(p_b, np.float64)


def tune_interpolation(p_a, p_b, method="bisect", iters=200, tol=1e-12):
    """Mixture weight lam of lam p_a + (1 - lam) p_b maximising the likelihood of validation tokens.

    p_a, p_b: each model's probability of every validation token. The log-likelihood is concave in lam, so
    method='bisect' finds the root of its derivative sum (a - b) / mix on [0, 1]; method='em' iterates
    lam <- mean(lam a / mix) (Dempster et al. 1977). Returns (lam, validation perplexity), no worse than
    either model alone."""
    a, b = np.asarray(p_a, np.float64), np.asarray(p_b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(f"tune_interpolation: p_a and p_b must be equal-length 1-D, got {a.shape} and {b.shape}")
    if method not in ("bisect", "em"):
        raise ValueError(f"tune_interpolation: method must be 'bisect' or 'em', got {method!r}")
    if method == "em":
        lam = 0.5
        for _ in range(iters):
            new = float(np.mean(lam * a / (lam * a + (1 - lam) * b)))
            done = abs(new - lam) < tol
            lam = new
            if done:
                break
    else:
        def slope(lam):
            return float(np.sum((a - b) / np.maximum(lam * a + (1 - lam) * b, 1e-300)))

        if slope(0.0) <= 0:
            lam = 0.0
        elif slope(1.0) >= 0:
            lam = 1.0
        else:
            lo, hi = 0.0, 1.0
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if slope(mid) > 0 else (lo, mid)
                if hi - lo < tol:
                    break
            lam = 0.5 * (lo + hi)
    return lam, float(np.exp(-np.mean(np.log(interpolate(a, b, lam)))))
