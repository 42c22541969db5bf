"""Neural language models (textbook 12.4.2, 12.4.4): NPLM learning, truncated BPTT, sampling, nearest
neighbours of embeddings, and interpolation with an n-gram model tuned on validation data."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu.nn import functional as F
from shendu.text import (
    NPLM,
    RNNLM,
    KneserNeyLM,
    Vocab,
    batchify,
    detach_state,
    evaluate_perplexity,
    interpolate,
    nearest_neighbors,
    ngram_windows,
    sample,
    token_logprobs,
    train_tbptt,
    tune_interpolation,
)

from .test_ngram import corpus


def _fit_nplm(model, X, Y, epochs=20, lr=0.01, batch=128, weight_decay=0.5):
    opt = sd.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)   # decay shrinks unused directions
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        for idx in np.array_split(rng.permutation(len(Y)), max(1, len(Y) // batch)):
            loss = F.cross_entropy(model(sd.tensor(X[idx])), sd.tensor(Y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def test_nplm_learns_interpolates_with_kneser_ney_and_embeds_similar_words():
    train, val, test = corpus(600, 10), corpus(150, 11), corpus(150, 12)
    vocab = Vocab.build(train, pad=None)
    Xtr, Ytr = ngram_windows(train, vocab, 3)
    Xva, Yva = ngram_windows(val, vocab, 3)
    Xte, Yte = ngram_windows(test, vocab, 3)
    kn = KneserNeyLM(3).fit(train)
    assert len(Yva) == sum(len(s) + 1 for s in val)                # the n-gram models' predicted positions
    model = _fit_nplm(NPLM(len(vocab), 2, embedding_dim=16, hidden_size=32, direct=True), Xtr, Ytr)
    lp_va, lp_te = token_logprobs(model, Xva, Yva), token_logprobs(model, Xte, Yte)
    ppl_nn = math.exp(-lp_te.mean())
    ppl_kn = kn.perplexity(test)
    assert ppl_nn < 1.15 * ppl_kn and ppl_nn < 6.0, (ppl_nn, ppl_kn)   # uniform over V would be ~20
    # the n-gram model's probabilities of the same tokens
    itos = vocab.itos

    def kn_probs(X, Y):
        return np.array([kn.prob(itos[y], [itos[c] for c in ctx]) for ctx, y in zip(X, Y)])

    pk_va, pk_te = kn_probs(Xva, Yva), kn_probs(Xte, Yte)
    assert math.exp(-np.log(pk_te).mean()) == pytest.approx(ppl_kn, rel=1e-9)
    lam, ppl_mix_va = tune_interpolation(np.exp(lp_va), pk_va)
    assert 0 < lam < 1
    ppl_va = [math.exp(-lp_va.mean()), math.exp(-np.log(pk_va).mean())]
    assert ppl_mix_va <= min(ppl_va) + 1e-9
    grid = [math.exp(-np.log(interpolate(np.exp(lp_va), pk_va, g)).mean()) for g in np.linspace(0, 1, 21)]
    assert ppl_mix_va <= min(grid) + 1e-9                          # the best mixture weight
    lam_em, _ = tune_interpolation(np.exp(lp_va), pk_va, method="em", iters=5000)
    assert lam_em == pytest.approx(lam, abs=2e-3)
    ppl_mix_te = math.exp(-np.log(interpolate(np.exp(lp_te), pk_te, lam)).mean())
    assert ppl_mix_te <= min(ppl_nn, ppl_kn) * 1.01
    # words used in the same slots get similar embeddings: nouns' nearest neighbours are nouns, verbs' are verbs
    for group, least in ((("dog", "cat", "friend", "bird"), 8), (("sees", "likes", "eats", "finds"), 10)):
        ids = {vocab[w] for w in group}
        hits = sum(len({i for i, _ in nearest_neighbors(model.embedding.weight, w, k=3)} & ids) for w in ids)
        assert hits >= least, (group, hits)                        # of 12 possible (chance: about 2)
    with pytest.raises(ValueError, match="NPLM"):
        model(sd.tensor(np.zeros((2, 3), np.int64)))


def test_nearest_neighbors_cosine():
    W = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0], [2.0, 0.1]])
    assert [i for i, _ in nearest_neighbors(W, 0, k=4)] == [4, 1, 2, 3]
    assert nearest_neighbors(W, 0, k=1)[0][1] == pytest.approx(2.0 / math.hypot(2.0, 0.1))


def test_truncated_bptt_detaches_between_chunks_and_learns():
    sd.manual_seed(0)
    lm = RNNLM(8, embedding_dim=8, hidden_size=16)
    x1 = sd.tensor(np.array([[0, 1, 2, 3]]))
    x2 = sd.tensor(np.array([[4, 5, 6, 7]]))
    _, state = lm.step(x1)
    assert state[0].requires_grad
    cut = detach_state(state)
    assert not cut[0].requires_grad and not cut[1].requires_grad
    logits, _ = lm.step(x2, cut)
    logits.sum().backward()
    g = lm.embedding.weight.grad.numpy()
    assert np.abs(g[:4]).sum() == 0 and np.abs(g[4:]).sum() > 0   # no gradient reaches the first chunk
    # a periodic stream with period 9 over 6 symbols: the next symbol needs more than the current one
    period = np.array([0, 1, 2, 0, 3, 4, 0, 5, 2])
    stream = np.tile(period, 120)
    data = batchify(stream, 4)
    lm = RNNLM(6, embedding_dim=8, hidden_size=32)
    before = evaluate_perplexity(lm, data, bptt=20)
    losses = train_tbptt(lm, data, sd.optim.Adam(lm.parameters(), lr=0.02), bptt=15, epochs=8, clip=1.0)
    after = evaluate_perplexity(lm, data, bptt=20)
    assert before > 4.0 and after < 1.3, (before, after)
    assert losses[-1] < losses[0]
    with pytest.raises(TypeError, match="RNNLM"):
        train_tbptt(NPLM(6, 2), data, None)


def test_sample_temperature_and_top_k():
    sd.manual_seed(0)
    model = NPLM(5, 2, embedding_dim=2, hidden_size=3)
    for p in model.parameters():
        p._data[...] = 0
    bias = np.array([2.0, 1.0, 0.0, -1.0, 0.5])
    model.out.bias._data[...] = sd.tensor(bias, dtype=sd.float32)._data
    rng = np.random.default_rng(0)
    draws = sample(model, [0, 0], 4000, temperature=2.0, rng=rng)
    p = np.exp(bias / 2) / np.exp(bias / 2).sum()
    np.testing.assert_allclose(np.bincount(draws, minlength=5) / 4000, p, atol=0.03)
    top2 = sample(model, [0, 0], 500, top_k=2, rng=rng)
    assert set(top2) == {0, 1}
    assert sample(model, [0, 0], 20, temperature=1e-3, rng=rng) == [0] * 20
    # an RNN-LM: top_k=1 is greedy decoding
    lm = RNNLM(7, 4, 8)
    greedy, x, state = [], sd.tensor(np.array([[3]])), None
    for _ in range(6):
        logits, state = lm.step(x, state)
        nxt = int(np.argmax(logits.numpy()[0, -1]))
        greedy.append(nxt)
        x = sd.tensor(np.array([[nxt]]))
    assert sample(lm, [3], 6, top_k=1) == greedy
    with pytest.raises(ValueError, match="temperature"):
        sample(lm, [3], 2, temperature=0)
    with pytest.raises(ValueError, match="prefix"):
        sample(model, [1], 2)
