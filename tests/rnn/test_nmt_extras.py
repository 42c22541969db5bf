"""NMT extras: BLEU, a toy translation task, bridge between encoder and decoder sizes, sampling decoders,
scheduled sampling."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu.models.nmt import ToyTranslation, corpus_bleu, sentence_bleu
from shendu.models.seq2seq import Seq2Seq, teacher_forcing_schedule

REF = "the cat is on the mat".split()


def test_bleu_hand_vectors():
    hyp = "the cat sat on the mat".split()
    # clipped precisions 5/6, 3/5, 1/4 (and 0/3 for 4-grams); equal lengths, so BP = 1
    assert corpus_bleu([REF], [hyp], max_n=3) == pytest.approx((5 / 6 * 3 / 5 * 1 / 4) ** (1 / 3))
    assert corpus_bleu([REF], [hyp], max_n=3) == pytest.approx(0.5)
    assert corpus_bleu([REF], [hyp]) == 0.0  # no 4-gram match, unsmoothed
    assert sentence_bleu(REF, hyp) == pytest.approx((5 / 6 * 4 / 6 * 2 / 5 * 1 / 4) ** 0.25)  # add-1 for n > 1
    # clipping: "the" x 7 against a reference with two "the" -> 2/7 (Papineni's example)
    assert corpus_bleu([REF], [["the"] * 7], max_n=1) == pytest.approx(2 / 7)
    # brevity penalty exp(1 - r/c) = exp(1 - 6/2)
    assert corpus_bleu([REF], [["the", "cat"]], max_n=2) == pytest.approx(math.exp(-2))
    assert corpus_bleu([REF], [REF]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="1 references but 2 hypotheses"):
        corpus_bleu([REF], [REF, REF])


def test_bleu_matches_nltk_on_a_random_corpus():
    nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
    rng = np.random.default_rng(0)
    words = list("abcdefgh")
    refs, hyps = [], []
    for _ in range(30):
        r = [words[i] for i in rng.integers(0, 8, rng.integers(5, 12))]
        r2 = [words[i] for i in rng.integers(0, 8, rng.integers(5, 12))]
        h = [w if rng.random() < 0.7 else words[rng.integers(8)] for w in r][:rng.integers(4, len(r) + 1)]
        refs.append([r, r2])
        hyps.append(h)
    ours = corpus_bleu(refs, hyps)
    theirs = nltk_bleu.corpus_bleu(refs, hyps)
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_toy_translation_reorders_adjectives():
    task = ToyTranslation()
    assert task.translate("le chat rouge voit la maison".split()) == "the red cat sees a house".split()
    src, tgt = task.encode(task.sentences(5))
    assert src.shape[0] == 5 and np.all(tgt[:, 0] == 1) and np.all((tgt == 2).sum(1) == 1)


def _train(task, steps_per_epoch=12, epochs=8, schedule=None, **kw):
    sd.manual_seed(0)
    tr = task.sentences(600, seed=0)
    src, tgt = task.encode(tr)
    m = Seq2Seq(task.src_vocab, task.tgt_vocab, emb_dim=24, hidden_size=48, num_layers=1, attention="general",
                share_embedding=False, **kw)
    opt = sd.optim.Adam(m.parameters(), lr=0.01)
    step = 0
    for ep in range(epochs):
        perm = np.random.default_rng(ep).permutation(600)
        for i in range(steps_per_epoch):
            idx = perm[i * 50:(i + 1) * 50]
            ratio = 1.0 if schedule is None else schedule(step)
            loss = m.loss(src[idx], tgt[idx], teacher_forcing_ratio=ratio)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    return m


def test_translation_with_bridge_and_scheduled_sampling_reaches_bleu_and_decoders_agree():
    """Encoder 48 units, decoder 32 (a bridge), general attention, trained with an inverse-sigmoid teacher-forcing
    schedule for 96 steps: held-out corpus BLEU > 0.9 by greedy, beam and cold sampling; hot sampling is worse."""
    task = ToyTranslation()
    sched = teacher_forcing_schedule("inverse_sigmoid", k=15.0)
    m = _train(task, schedule=sched, decoder_hidden_size=32)
    assert m.bridge.weight.shape == (32, 48) and m.decoder.hidden_size == 32
    assert sched(95) < 0.05 < 0.9 < sched(0)  # the run ended nearly free-running
    m.eval()
    te = task.sentences(80, seed=1)
    srcv, _ = task.encode(te)
    refs = [t for _, t in te]
    greedy = [task.words(h + [2]) for h in m.greedy(srcv, max_len=12)]
    bleu_greedy = corpus_bleu(refs, greedy)
    assert bleu_greedy > 0.9, bleu_greedy
    beam = [task.words(m.beam_search(srcv[i], beam_width=3, max_len=12)[0][0] + [2]) for i in range(20)]
    assert corpus_bleu(refs[:20], beam) > 0.9
    cold = [task.words(h + [2]) for h in m.sample(srcv, max_len=12, temperature=0.05)]
    assert corpus_bleu(refs, cold) > 0.9
    topk1 = [task.words(h + [2]) for h in m.sample(srcv, max_len=12, top_k=1)]
    assert topk1 == greedy  # top-1 sampling is greedy decoding
    hot = [task.words(h + [2]) for h in m.sample(srcv, max_len=12, temperature=5.0)]
    assert corpus_bleu(refs, hot, smooth="floor") < bleu_greedy - 0.3


def test_bridge_with_lstm_state_and_attention_size_checks():
    m = Seq2Seq(10, emb_dim=4, hidden_size=6, decoder_hidden_size=5, num_layers=2, cell="LSTM", attention="additive")
    src = np.array([[3, 4, 5], [6, 7, 0]])
    _, (h, c), _ = m.encode(src)
    assert h.shape == (2, 2, 5) and c.shape == (2, 2, 5)
    tgt = np.array([[1, 3, 2], [1, 4, 2]])
    assert m(src, tgt[:, :-1]).shape == (2, 2, 10)
    with pytest.raises(ValueError, match="'dot' attention needs equal"):
        Seq2Seq(10, hidden_size=6, decoder_hidden_size=5, attention="dot")


def test_teacher_forcing_schedules():
    lin = teacher_forcing_schedule("linear", k=1.0, c=0.01, eps=0.1)
    assert lin(0) == 1.0 and lin(50) == pytest.approx(0.5) and lin(1000) == 0.1
    assert teacher_forcing_schedule("exponential", k=0.9)(2) == pytest.approx(0.81)
    inv = teacher_forcing_schedule("inverse_sigmoid", k=10.0)
    assert inv(0) == pytest.approx(10 / 11) and inv(100) == pytest.approx(10 / (10 + math.exp(10)))
    assert all(inv(i) >= inv(i + 1) for i in range(200))
    with pytest.raises(ValueError, match="kind"):
        teacher_forcing_schedule("cosine")


@pytest.mark.parametrize("feed", ["argmax", "sample"])
def test_scheduled_sampling_feeds_true_tokens_with_the_given_probability(feed):
    m = Seq2Seq(12, emb_dim=8, hidden_size=8, num_layers=1)
    rng = np.random.default_rng(0)
    src = rng.integers(3, 12, (400, 5))
    tgt = np.concatenate([np.ones((400, 1), np.int64), rng.integers(3, 12, (400, 6))], 1)
    fed, logits = [], []
    orig = m.decode_step

    def record(tokens, state, enc, mask):
        fed.append(sd.tensor(tokens).numpy())
        out = orig(tokens, state, enc, mask)
        logits.append(out[0].numpy())
        return out

    m.decode_step = record
    m(src, tgt, teacher_forcing_ratio=0.7, feed=feed)
    fed = np.stack(fed, 1)  # (B, T): token fed at each step
    np.testing.assert_array_equal(fed[:, 0], tgt[:, 0])  # <sos> first
    true = fed[:, 1:] == tgt[:, 1:]
    if feed == "argmax":
        own = np.stack(logits, 1)[:, :-1].argmax(-1)
        differs = own != tgt[:, 1:]
        assert np.all(true | (fed[:, 1:] == own))  # each fed token is the true one or the model's argmax
        frac = true[differs].mean()
        assert abs(frac - 0.7) < 0.05, frac
    else:  # P(fed = true) = r + (1 - r) P(sample = true), the second term from the recorded logits
        z = np.stack(logits, 1)[:, :-1].astype(np.float64)
        p = np.exp(z - z.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        p_true = np.take_along_axis(p, tgt[:, 1:, None], -1)[..., 0]
        expected = (0.7 + 0.3 * p_true).mean()
        assert abs(true.mean() - expected) < 0.03, (true.mean(), expected)
    with pytest.raises(ValueError, match="teacher_forcing_ratio"):
        m(src, tgt, teacher_forcing_ratio=1.5)


def test_phrase_scorer_prefers_the_reordered_translation():
    """Devlin-style MLP P(t | s) on 3-word phrases det noun adj -> det adj noun ('apple red' vs 'red apple')."""
    from shendu.models.nmt import PhraseScorer

    sd.manual_seed(0)
    task = ToyTranslation()
    rng = np.random.default_rng(0)

    def phrases(n):
        s = [[task.SRC["det"][rng.integers(2)], task.SRC["noun"][rng.integers(6)], task.SRC["adj"][rng.integers(4)]]
             for _ in range(n)]
        return (np.array([[task.src_id[w] for w in p] for p in s]),
                np.array([[task.tgt_id[w] for w in task.translate(p)] for p in s]))

    src, tgt = phrases(300)
    m = PhraseScorer(task.src_vocab, task.tgt_vocab, 3, emb_dim=8, hidden_size=32)
    opt = sd.optim.Adam(m.parameters(), lr=0.02)
    for _ in range(60):
        loss = m.loss(src, tgt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    s2, t2 = phrases(50)
    unordered = t2[:, [0, 2, 1]]  # word-by-word: noun before adjective
    good, bad = m.log_prob(s2, t2).numpy(), m.log_prob(s2, unordered).numpy()
    assert np.all(good > bad) and np.exp(good).mean() > 0.9
    with pytest.raises(ValueError, match=r"expected phrases \(B, 3\)"):
        m(np.zeros((2, 4), np.int64))


def test_translation_matrix_recovers_a_rotation_from_a_seed_dictionary():
    from shendu.models.nmt import translate_embeddings, translation_matrix

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10))
    R, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    Y = X @ R + 0.01 * rng.standard_normal((200, 10))
    W = translation_matrix(X[:50], Y[:50], orthogonal=True)  # the seed dictionary: 50 word pairs
    np.testing.assert_allclose(W @ W.T, np.eye(10), atol=1e-10)
    assert np.abs(W - R).max() < 0.02
    assert (translate_embeddings(X[50:], W, Y) == np.arange(50, 200)).all()  # the other 150 words
    L = translation_matrix(X[:50], Y[:50])
    assert np.abs(L - R).max() < 0.05
    with pytest.raises(ValueError, match="d_x = d_y"):
        translation_matrix(X[:, :5], Y, orthogonal=True)
