"""HMM acoustic models: Viterbi and forward vs brute force, GMM EM, forced alignment, GMM-HMM and hybrid
DNN-HMM (with an RBM-pretrained network) phone recognisers on the synthetic tone task."""
import itertools

import numpy as np
import pytest

import shendu as sd
from shendu.models.dbn import DBN
from shendu.speech import make_tone_dataset, per, stack_context
from shendu.speech.hmm import DiagGMM, HybridDNNHMM, PhoneLoopHMM, forward_loglik, viterbi


def _tiny_hmm(seed=0):
    rng = np.random.default_rng(seed)
    A = rng.dirichlet(np.ones(3), 3)
    pi = rng.dirichlet(np.ones(3))
    E = np.log(rng.dirichlet(np.ones(3), 4))  # (T=4, S=3) emission likelihoods
    return E, np.log(A), np.log(pi)


def test_viterbi_and_forward_equal_brute_force():
    E, lA, lpi = _tiny_hmm()
    scores = {}
    for path in itertools.product(range(3), repeat=4):
        scores[path] = lpi[path[0]] + E[0, path[0]] + sum(lA[path[t - 1], path[t]] + E[t, path[t]] for t in range(1, 4))
    best = max(scores, key=scores.get)
    path, score = viterbi(E, lA, lpi)
    assert tuple(path) == best and score == pytest.approx(scores[best])
    assert forward_loglik(E, lA, lpi) == pytest.approx(np.log(np.exp(list(scores.values())).sum()))


def test_diag_gmm_em_finds_two_clusters():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-3, 0.5, (200, 2)), rng.normal(3, 1.0, (100, 2))])
    g1 = DiagGMM(1).fit(X)
    g2 = DiagGMM(2, n_iter=30).fit(X)
    assert g2.score_samples(X).mean() > g1.score_samples(X).mean() + 0.5
    order = np.argsort(g2.mu[:, 0])
    np.testing.assert_allclose(g2.mu[order, 0], [-3, 3], atol=0.2)
    np.testing.assert_allclose(g2.w[order], [2 / 3, 1 / 3], atol=0.02)


def _data():
    X, L, _, _, labs = make_tone_dataset(80, n_phones=4, seed=0)
    Xv, Lv, _, _, labsv = make_tone_dataset(30, n_phones=4, seed=1)
    return [X[:L[i], i] for i in range(80)], labs, [Xv[:Lv[i], i] for i in range(30)], labsv


def test_gmm_hmm_and_hybrid_dnn_hmm_recognise_phones():
    """Viterbi-trained GMM-HMM (3 states per phone, 2 Gaussians per state), then a hybrid DNN-HMM whose network
    (RBM-pretrained, 12.3's 2009 recipe) learns the GMM-HMM's forced alignments: held-out PER < 0.1 for both."""
    feats, labs, fv, labsv = _data()
    hmm = PhoneLoopHMM(4, n_states=3, n_components=2)
    aligns = hmm.fit(feats, labs, n_iter=3)
    # forced alignments follow each transcript's state chain in order, every state used
    for a, y in zip(aligns[:10], labs):
        runs = [int(s) for i, s in enumerate(a) if i == 0 or s != a[i - 1]]
        assert runs == hmm.chain(y)
    assert hmm.states_to_phones(hmm.chain([2, 2, 3])) == [2, 2, 3]
    per_gmm = per(labsv, [hmm.decode(f) for f in fv])
    assert per_gmm < 0.1, per_gmm
    Xc = np.concatenate([stack_context(f, 2) for f in feats]).astype(np.float32)
    Z = np.concatenate(aligns)
    sd.manual_seed(0)
    dbn = DBN([Xc.shape[1], 48], visible="gaussian")
    w_before = dbn.rbms[0].W.numpy().copy()
    dbn.pretrain(Xc, epochs=2, lr=0.01, batch_size=64)
    assert np.abs(dbn.rbms[0].W.numpy() - w_before).max() > 1e-3
    hybrid = HybridDNNHMM(hmm, dbn.to_mlp(hmm.S)).fit(Xc, Z, epochs=8)
    per_hybrid = per(labsv, [hybrid.decode(stack_context(f, 2)) for f in fv])
    assert per_hybrid < 0.1, per_hybrid
    with pytest.raises(ValueError, match="cannot hold"):
        hmm.align(np.zeros((3, hmm.S)), [1, 2])
