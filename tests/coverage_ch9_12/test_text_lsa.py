"""11.15 / 12.59: LSA (SVD) word embeddings as an unsupervised baseline, Hinton's family-tree task, and
multi-task learning through a shared embedding."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.text import (
    FamilyTreeNet,
    LSAEmbedding,
    Vocab,
    cooccurrence,
    family_tree_arrays,
    family_tree_correct,
    family_tree_loss,
    family_tree_triples,
    ppmi,
)

ANIMALS = [f"animal{i}" for i in range(20)]
VEHICLES = [f"vehicle{i}" for i in range(20)]
FUNCTION = ["the", "a", "and", "is", "of"]


def corpus(n, rng, max_index=20, min_index=0):
    sents, labels, words = [], [], []
    for _ in range(n):
        topic = int(rng.integers(2))
        pool = (ANIMALS, VEHICLES)[topic][min_index:max_index]
        idx = rng.integers(len(pool), size=4)
        s = [pool[i] for i in idx] + list(rng.choice(FUNCTION, size=4))
        rng.shuffle(s)
        sents.append(s)
        labels.append(topic)
        words.append(idx + min_index)
    return sents, np.array(labels, np.int64), words


def test_cooccurrence_ppmi_and_svd_factorisation():
    vocab = Vocab.build([["a", "b", "c"]])
    c = cooccurrence([["a", "b", "c"]], vocab, window=1)
    a, b, cc = vocab["a"], vocab["b"], vocab["c"]
    assert c[a, b] == c[b, a] == c[b, cc] == c[cc, b] == 1 and c[a, cc] == 0 and c.sum() == 4
    m = np.array([[2.0, 1.0], [1.0, 0.0]])
    p = ppmi(m)
    assert p[0, 0] == pytest.approx(max(0, np.log(2 / 4 / (3 / 4 * 3 / 4))))
    assert p[0, 1] == pytest.approx(max(0, np.log(1 / 4 / (3 / 4 * 1 / 4))))
    assert p[1, 1] == 0
    sents, _, _ = corpus(50, np.random.default_rng(0))
    full = LSAEmbedding(dim=1000, weighting="count", power=1.0).fit(sents)
    C = cooccurrence(sents, full.vocab, 2)
    np.testing.assert_allclose(full.vectors.astype(np.float64) @ full.vectors.T, C @ C.T, rtol=1e-3, atol=1e-2)


def test_lsa_neighbours_share_the_topic_and_embedding_init():
    sents, _, _ = corpus(1500, np.random.default_rng(0))
    lsa = LSAEmbedding(dim=8).fit(sents)
    for w in ("animal3", "vehicle7"):
        near = [n for n, _ in lsa.most_similar(w, k=5)]
        assert all(n.startswith(w[:6]) for n in near), near
    emb = lsa.embedding(freeze=True)
    np.testing.assert_allclose(emb(sd.tensor(np.array([lsa.vocab["animal3"]]))).numpy()[0], lsa["animal3"])
    assert not emb.weight.requires_grad


def _logreg(feats, y, steps=300):
    sd.manual_seed(0)
    clf = nn.Linear(feats.shape[1], 2)
    opt = sd.optim.Adam(clf.parameters(), lr=0.1)
    for _ in range(steps):
        loss = F.cross_entropy(clf(sd.tensor(feats)), sd.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return clf


def test_unsupervised_lsa_embeddings_baseline_generalises_to_words_never_labelled():
    rng = np.random.default_rng(1)
    unlabeled, _, _ = corpus(2000, rng)                       # plenty of unlabelled text
    train, ytr, _ = corpus(40, rng, max_index=5)               # 40 labels, only words 0-4 of each topic
    test, yte, _ = corpus(300, rng, min_index=5)               # words 5-19: never seen with a label
    lsa = LSAEmbedding(dim=10).fit(unlabeled)
    clf = _logreg(lsa.sentence_features(train), ytr)
    acc_lsa = (clf(sd.tensor(lsa.sentence_features(test))).numpy().argmax(1) == yte).mean()
    rand = LSAEmbedding(dim=10).fit(unlabeled)
    rand.vectors = np.random.default_rng(0).normal(size=rand.vectors.shape).astype(np.float32)
    clf_r = _logreg(rand.sentence_features(train), ytr)
    acc_rand = (clf_r(sd.tensor(rand.sentence_features(test))).numpy().argmax(1) == yte).mean()
    assert acc_lsa > 0.95 and acc_rand < 0.75, (acc_lsa, acc_rand)


def test_family_tree_data_and_the_network_learns_the_relations():
    people, triples = family_tree_triples()
    assert len(people) == 24 and len(triples) == 104
    facts = {(p, r): a for p, r, a in triples}
    assert facts[("Colin", "mother")] == {"Victoria"}
    assert facts[("Colin", "uncle")] == {"Arthur", "Charles"}
    assert facts[("Arthur", "niece")] == {"Charlotte"}
    assert facts[("Alfonso", "aunt")] == {"Angela", "Gina"}
    assert ("Christopher", "father") not in facts
    x, r, y = family_tree_arrays(triples, people)
    held_out_correct = 0
    for seed in (0, 2):
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(x))
        te, tr = perm[:4], perm[4:]                             # Hinton: train on 100, test on 4
        sd.manual_seed(seed)
        net = FamilyTreeNet()
        opt = sd.optim.Adam(net.parameters(), lr=0.03, weight_decay=3e-4)
        for _ in range(1500):
            loss = family_tree_loss(net(sd.tensor(x[tr]), sd.tensor(r[tr])), sd.tensor(y[tr]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        ok = family_tree_correct(net(sd.tensor(x), sd.tensor(r)).numpy(), y)
        assert ok[tr].all()                                     # every training pattern exactly right
        held_out_correct += int(ok[te].sum())
    assert held_out_correct >= 5, held_out_correct             # chance is about 1/24 per pattern


def test_multitask_shared_embedding_transfers_topic_knowledge():
    """Task A (topic, 400 labelled sentences) and task B (topic x size, 4 classes, only 6 labelled sentences)
    share one embedding (Collobert-Weston style multi-task). On test sentences, the shared model gets the topic
    half of task B right far more often than task B trained alone, where most words were never labelled."""
    vocab = Vocab.build([ANIMALS + VEHICLES + FUNCTION])
    size = {w: i % 2 for i, w in enumerate(ANIMALS)} | {w: i % 2 for i, w in enumerate(VEHICLES)}

    def enc(sents):
        return sd.tensor(np.array([[vocab[w] for w in s] for s in sents], np.int64))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(len(vocab), 8)
            self.head_a, self.head_b = nn.Linear(8, 2), nn.Linear(8, 4)

        def forward(self, ids):
            h = self.emb(ids).mean(1)
            return self.head_a(h), self.head_b(h)

    def topic_accuracy_of_b(shared, sa, ya, sb, yb, st, tt):
        sd.manual_seed(0)
        net = Net()
        opt = sd.optim.Adam(net.parameters(), lr=0.05)
        for _ in range(200):
            la, lb = net(enc(sa))[0], net(enc(sb))[1]
            loss = F.cross_entropy(lb, sd.tensor(yb)) + (F.cross_entropy(la, sd.tensor(ya)) if shared else 0)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return (net(enc(st))[1].numpy().argmax(1) // 2 == tt).mean()

    gains, shared_accs = [], []
    for seed in (2, 3, 4):
        rng = np.random.default_rng(seed)
        sa, ya, _ = corpus(400, rng)
        sb, tb, _ = corpus(6, rng)
        yb = tb * 2 + np.array([int(np.mean([size[w] for w in s if w in size]) > 0.5) for s in sb])
        st, tt, _ = corpus(300, rng)
        alone = topic_accuracy_of_b(False, sa, ya, sb, yb, st, tt)
        shared = topic_accuracy_of_b(True, sa, ya, sb, yb, st, tt)
        assert shared > alone + 0.05, (seed, alone, shared)
        gains.append(shared - alone)
        shared_accs.append(shared)
    assert np.mean(shared_accs) > 0.9 and np.mean(gains) > 0.1, (shared_accs, gains)
