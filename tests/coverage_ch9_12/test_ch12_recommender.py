"""12.60 recommender systems (matrix factorisation) and 12.61 relational embeddings (TransE on the family tree)."""
import numpy as np

import shendu as sd
from shendu.models import MatrixFactorization, TransE
from shendu.text import family_tree_triples
from shendu.text.lsa import RELATIONS


def test_matrix_factorisation_formula_and_it_fills_in_unobserved_ratings():
    rng = np.random.default_rng(0)
    U, I, k = 60, 40, 3
    R = rng.normal(size=(U, k)) @ rng.normal(size=(I, k)).T + 3.0 + rng.normal(0, 0.1, (U, I))
    mask = rng.random((U, I)) < 0.3                       # 30 % of the ratings observed
    u, i = np.nonzero(mask)
    ut, it = np.nonzero(~mask)
    sd.manual_seed(0)
    mf = MatrixFactorization(U, I, 3, global_mean=R[mask].mean())
    p, q = mf.user.weight.numpy(), mf.item.weight.numpy()
    mf.user_bias.weight.data[...] = 0.5
    np.testing.assert_allclose(mf(sd.tensor(np.array([2])), sd.tensor(np.array([5]))).numpy(),
                               [R[mask].mean() + 0.5 + p[2] @ q[5]], rtol=1e-5)
    sd.nn.init.zeros_(mf.user_bias.weight)
    opt = sd.optim.Adam(mf.parameters(), lr=0.05)
    target = sd.tensor(R[u, i].astype(np.float32))
    for _ in range(300):
        loss = ((mf(sd.tensor(u), sd.tensor(i)) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    rmse = np.sqrt(np.mean((mf(sd.tensor(ut), sd.tensor(it)).numpy() - R[ut, it]) ** 2))
    baseline = np.sqrt(np.mean((R[mask].mean() - R[ut, it]) ** 2))
    assert rmse < 0.3 < 1.5 < baseline, (rmse, baseline)


def test_transe_learns_family_relations_and_predicts_held_out_facts():
    people, triples = family_tree_triples()
    pid = {p: j for j, p in enumerate(people)}
    facts = np.array([(pid[h], RELATIONS.index(r), pid[t]) for h, r, ans in triples for t in ans])
    known = set(map(tuple, facts))
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(facts))
    held, train = facts[perm[:10]], facts[perm[10:]]
    sd.manual_seed(0)
    model = TransE(len(people), len(RELATIONS), 16)
    e, w = model.entity.weight.numpy(), model.relation.weight.numpy()
    np.testing.assert_allclose(model(sd.tensor([1]), sd.tensor([2]), sd.tensor([3])).numpy(),
                               [-np.linalg.norm(e[1] + w[2] - e[3])], rtol=1e-4)

    def hits_at(fs, k):
        """Filtered tail ranking: fewer than k other (unknown-true) entities score above the true tail."""
        out = []
        for h, r, t in fs:
            sc = model(sd.tensor(np.full(24, h)), sd.tensor(np.full(24, r)), sd.tensor(np.arange(24))).numpy()
            out.append(sum(sc[x] > sc[t] and (h, r, x) not in known for x in range(24)) < k)
        return np.mean(out)

    assert hits_at(train, 3) < 0.3                        # untrained
    opt = sd.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(400):
        neg = train.copy()
        tail = rng.random(len(neg)) < 0.5
        neg[tail, 2] = rng.integers(24, size=tail.sum())
        neg[~tail, 0] = rng.integers(24, size=(~tail).sum())
        loss = model.margin_loss(tuple(sd.tensor(train[:, j]) for j in range(3)),
                                 tuple(sd.tensor(neg[:, j]) for j in range(3)), margin=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert hits_at(train, 3) > 0.95
    assert hits_at(held, 5) >= 0.7                        # chance is about 5/24
