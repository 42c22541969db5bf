"""High-dimensional output layers (textbook 12.4.3): W12.4-W12.7 vectors, normalisation over the vocabulary,
float64 gradchecks, PyTorch as oracle for the ranking loss, and NCE / importance sampling converging to the
full-softmax model on a small vocabulary."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu.autograd.gradcheck import gradcheck
from shendu.nn import functional as F
from shendu.text import (
    HierarchicalSoftmax,
    NCELoss,
    SampledSoftmaxLoss,
    ShortlistSoftmax,
    TwoLevelSoftmax,
    balanced_tree,
    bigram_proposal,
    huffman_tree,
    importance_weights,
    leaf_probabilities,
    nce_loss,
    ranking_loss,
    sampled_softmax_loss,
    shortlist_mixture,
    unigram_proposal,
)

P_RIGHT = {(): .6, (0,): .3, (1,): .7, (0, 0): .5, (0, 1): .2, (1, 0): .6, (1, 1): .9}
W12_4 = [0.14, 0.14, 0.096, 0.024, 0.072, 0.108, 0.042, 0.378]


def test_w12_4_hierarchical_softmax_leaf_probabilities():
    t = balanced_tree(8)
    assert t.prefixes == [(), (0,), (1,), (0, 0), (0, 1), (1, 0), (1, 1)]
    assert [t.prefixes[n] for n in t.nodes[4]] == [(), (1,), (1, 0)] and t.bits[4] == [1, 0, 0]
    p = [P_RIGHT[q] for q in t.prefixes]
    np.testing.assert_allclose(leaf_probabilities(t, p), W12_4, atol=1e-12)
    # the layer with zero weights and bias logit(p) gives the same vector
    hs = HierarchicalSoftmax(3, t)
    hs.weight._data[...] = 0
    hs.bias._data[...] = sd.tensor(np.log(np.array(p) / (1 - np.array(p))), dtype=sd.float32)._data
    h = sd.randn(2, 3)
    np.testing.assert_allclose(hs.full_log_prob(h).exp().numpy(), [W12_4] * 2, atol=1e-6)
    np.testing.assert_allclose(hs(h, [4, 7]).exp().numpy(), [0.072, 0.378], atol=1e-6)


@pytest.mark.parametrize("tree", ["balanced", "huffman"])
def test_hierarchical_softmax_sums_to_one_and_touches_only_the_path(tree):
    counts = np.random.default_rng(0).integers(1, 100, 13)
    t = balanced_tree(13) if tree == "balanced" else huffman_tree(counts)
    hs = HierarchicalSoftmax(6, t)
    h = sd.randn(5, 6)
    full = hs.full_log_prob(h)
    np.testing.assert_allclose(full.exp().sum(dim=1).numpy(), np.ones(5), atol=1e-5)
    y = np.array([0, 3, 12, 7, 7])
    lp = hs(h, y)
    np.testing.assert_allclose(lp.numpy(), full.numpy()[np.arange(5), y], atol=1e-5)
    hs(h[:1], y[:1]).sum().backward()
    touched = np.flatnonzero(np.abs(hs.weight.grad.numpy()).sum(1))
    assert sorted(touched) == sorted(t.nodes[0])                   # depth-many nodes, no more
    with pytest.raises(ValueError, match="HierarchicalSoftmax"):
        hs(h, [0, 1, 2, 3, 13])


def test_huffman_tree_code_lengths():
    t = huffman_tree([45, 13, 12, 16, 9, 5])                      # the textbook Huffman example (CLRS)
    assert [len(p) for p in t.nodes] == [1, 3, 3, 3, 4, 4]
    counts = np.random.default_rng(1).zipf(1.5, 200).clip(1, 10**4)
    assert huffman_tree(counts).mean_depth(counts) < balanced_tree(200).mean_depth(counts)
    assert balanced_tree(200).depth == math.ceil(math.log2(200))
    with pytest.raises(ValueError, match="huffman_tree"):
        huffman_tree([3])


def test_two_level_class_softmax():
    cls = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2, 0])
    tl = TwoLevelSoftmax(4, cls)
    h = sd.randn(3, 4)
    full = tl.full_log_prob(h)
    np.testing.assert_allclose(full.exp().sum(dim=1).numpy(), np.ones(3), atol=1e-5)
    y = np.array([9, 4, 5])
    np.testing.assert_allclose(tl(h, y).numpy(), full.numpy()[np.arange(3), y], atol=1e-5)
    # P(w) = P(class) P(w | class): a class's words together carry the class probability
    pc = F.softmax(h @ tl.class_weight.t() + tl.class_bias, dim=1).numpy()
    np.testing.assert_allclose(full.exp().numpy()[:, cls == 2].sum(1), pc[:, 2], atol=1e-5)
    with pytest.raises(ValueError, match="TwoLevelSoftmax"):
        TwoLevelSoftmax(4, [0, 2, 2])


def test_gradcheck_tree_and_class_softmax_float64():
    with sd.default_dtype(sd.float64):
        hs = HierarchicalSoftmax(3, huffman_tree([5, 1, 2, 7, 3]))
        tl = TwoLevelSoftmax(3, [0, 1, 0, 1, 2])
    h = sd.tensor(np.random.default_rng(2).normal(size=(4, 3)), requires_grad=True)
    y = np.array([0, 1, 3, 4])
    assert gradcheck(lambda h, w, b: hs(h, y), [h, hs.weight, hs.bias], eps=1e-6, atol=1e-6)
    assert gradcheck(lambda h: hs.full_log_prob(h), [h], eps=1e-6, atol=1e-6)
    assert gradcheck(lambda h, w, cw: tl(h, y), [h, tl.weight, tl.class_weight], eps=1e-6, atol=1e-6)


def test_w12_5_shortlist_mixture_sums_to_one():
    rng = np.random.default_rng(3)
    L, T = np.array([0, 3, 5]), np.array([1, 2, 4, 6])
    short = sd.tensor(rng.normal(size=(2, 3)))
    tail = sd.tensor(np.full((2, 1), math.log(0.2 / 0.8)))         # P(i in T | C) = 0.2
    ng = sd.tensor(rng.random((2, 4)))
    p = shortlist_mixture(short, tail, ng, L, T).numpy()
    np.testing.assert_allclose(p.sum(1), [1, 1], atol=1e-6)
    np.testing.assert_allclose(p[:, L].sum(1), [0.8, 0.8], atol=1e-6)
    np.testing.assert_allclose(p[:, T], 0.2 * ng.numpy() / ng.numpy().sum(1, keepdims=True), atol=1e-6)
    with pytest.raises(ValueError, match="partition"):
        shortlist_mixture(short, tail, ng, L, np.array([1, 2, 4, 7]))
    s64 = sd.tensor(rng.normal(size=(2, 3)), dtype=sd.float64, requires_grad=True)
    t64 = sd.tensor(rng.normal(size=(2, 1)), dtype=sd.float64, requires_grad=True)
    assert gradcheck(lambda a, b: shortlist_mixture(a, b, sd.tensor(ng.numpy(), dtype=sd.float64), L, T), [s64, t64])
    layer = ShortlistSoftmax(4, L, 7)
    out = layer(sd.randn(2, 4), ng)
    assert out.shape == (2, 7)
    np.testing.assert_allclose(out.sum(dim=1).numpy(), [1, 1], atol=1e-5)


def test_w12_6_importance_weights_and_sampled_gradient():
    np.testing.assert_allclose(importance_weights([0.1, 0.2], [0.2, 0.1]), [0.2, 0.8])
    # the gradient of the sampled loss w.r.t. the scores is -1 at y and the self-normalised weights at the samples
    a_y = sd.tensor([1.0], dtype=sd.float64, requires_grad=True)
    a_n = sd.tensor([[np.log(0.1), np.log(0.2)]], dtype=sd.float64, requires_grad=True)
    loss = sampled_softmax_loss(a_y, a_n, np.log([0.2, 0.1]))
    loss.sum().backward()
    np.testing.assert_allclose(a_y.grad.numpy(), [-1.0])
    np.testing.assert_allclose(a_n.grad.numpy(), [[0.2, 0.8]])
    assert gradcheck(lambda a, b: sampled_softmax_loss(a, b, np.log([0.2, 0.1])), [a_y, a_n])
    # with the target among the candidates (Jean et al. 2015): -log softmax([a_y - log q_y, a_n - log q_n])_0,
    # and a masked accidental hit drops out
    z = np.array([1.0 - np.log(0.5), np.log(0.1) - np.log(0.2), np.log(0.2) - np.log(0.1)])
    got = sampled_softmax_loss(a_y, a_n, np.log([0.2, 0.1]), np.log([0.5])).numpy()
    np.testing.assert_allclose(got, [np.log(np.exp(z).sum()) - z[0]], rtol=1e-12)
    got = sampled_softmax_loss(a_y, a_n, np.log([0.2, 0.1]), np.log([0.5]), hit_mask=[[False, True]]).numpy()
    np.testing.assert_allclose(got, [np.log(np.exp(z[:2]).sum()) - z[0]], rtol=1e-12)
    assert gradcheck(lambda a, b: sampled_softmax_loss(a, b, np.log([0.2, 0.1]), np.log([0.5])), [a_y, a_n])


@pytest.mark.parametrize("include_target", [False, True], ids=["book", "with_target"])
def test_importance_sampling_estimate_converges_to_the_exact_negative_phase(include_target):
    V = 12
    rng = np.random.default_rng(4)
    with sd.default_dtype(sd.float64):
        layer = SampledSoftmaxLoss(5, V, num_sampled=20000, proposal=unigram_proposal(rng.integers(1, 50, V)),
                                   include_target=include_target)
    h = sd.tensor(rng.normal(size=(1, 5)))
    exact = F.cross_entropy(layer.logits(h), np.array([3]))
    g_exact = sd.grad(exact, [layer.weight])[0].numpy()
    g_is = sd.grad(layer(h, [3]), [layer.weight])[0].numpy()
    np.testing.assert_allclose(g_is, g_exact, atol=0.03)
    offset = 0.0 if not include_target else math.log(20000 * layer.proposal.probs[3])   # value up to log m q(y)
    assert float(layer(h, [3]).item()) - offset == pytest.approx(float(exact.item()), abs=0.03)


def test_nce_loss_formula_and_gradcheck():
    s_t = sd.tensor([0.3, -1.0], dtype=sd.float64, requires_grad=True)
    s_n = sd.tensor([[0.1, 0.5, -0.2], [1.0, 0.0, 2.0]], dtype=sd.float64, requires_grad=True)
    lq_t, lq_n = np.log([0.1, 0.3]), np.log([[0.2, 0.2, 0.1], [0.3, 0.1, 0.05]])
    got = nce_loss(s_t, s_n, lq_t, lq_n, 3).numpy()
    sig = lambda x: 1 / (1 + np.exp(-x))                           # noqa: E731
    d_t = s_t.numpy() - lq_t - np.log(3)
    d_n = s_n.numpy() - lq_n - np.log(3)
    np.testing.assert_allclose(got, -np.log(sig(d_t)) - np.log(1 - sig(d_n)).sum(1), rtol=1e-12)
    assert gradcheck(lambda a, b: nce_loss(a, b, lq_t, lq_n, 3), [s_t, s_n])
    with sd.default_dtype(sd.float64):
        layer = NCELoss(3, 6, num_noise=4, proposal=bigram_proposal([[0, 1, 2, 3, 4, 5, 0, 2]], 6))
    h = sd.tensor(np.random.default_rng(5).normal(size=(2, 3)), requires_grad=True)
    samples = np.array([[1, 2, 2, 5], [0, 0, 3, 4]])
    assert gradcheck(lambda h, w: layer(h, [1, 4], context=[0, 3], samples=samples), [h, layer.weight])


def test_bigram_proposal_samples_its_rows():
    q = bigram_proposal([[0, 1, 0, 2, 0, 1]], 3, alpha=0.5)
    np.testing.assert_allclose(q.probs[0], [0.5 / 4.5, 2.5 / 4.5, 1.5 / 4.5])
    s = q.sample(20000, context=[0, 2], rng=np.random.default_rng(6))
    assert s.shape == (2, 20000)
    np.testing.assert_allclose(np.bincount(s[0], minlength=3) / 20000, q.probs[0], atol=0.015)
    np.testing.assert_allclose(np.bincount(s[1], minlength=3) / 20000, q.probs[2], atol=0.015)
    with pytest.raises(ValueError, match="context"):
        q.sample(3)


def _train_output(kind, data_c, data_w, V, C, proposal, steps=120, lr=0.2, step_size=40):
    sd.manual_seed(0)
    if kind == "full":
        layer = sd.nn.Linear(C, V)
    elif kind == "is":
        layer = SampledSoftmaxLoss(C, V, num_sampled=25, proposal=proposal)
    else:
        layer = NCELoss(C, V, num_noise=25, proposal=proposal)
    opt = sd.optim.Adam(layer.parameters(), lr=lr)
    sched = sd.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=0.3)
    eye = np.eye(C, dtype=np.float32)
    h = sd.tensor(eye[data_c])
    for _ in range(steps):                                             # full batch: only the sampling is noisy
        loss = F.cross_entropy(layer(h), data_w) if kind == "full" else layer(h, data_w)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    logits = (layer(sd.tensor(eye)) if kind == "full" else layer.logits(sd.tensor(eye))).numpy().astype(np.float64)
    return logits


def test_nce_and_importance_sampling_converge_to_the_full_softmax_model():
    rng = np.random.default_rng(8)
    V, C = 10, 3
    P = rng.dirichlet(np.ones(V), size=C)                            # the true P(w | context)
    data_c = rng.integers(0, C, 2000)
    data_w = np.array([rng.choice(V, p=P[c]) for c in data_c])
    emp = np.stack([np.bincount(data_w[data_c == c], minlength=V) / (data_c == c).sum() for c in range(C)])
    q = unigram_proposal(np.bincount(data_w, minlength=V), alpha=1.0)
    def soft(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    tv = {}
    for kind in ("full", "is", "nce"):
        logits = _train_output(kind, data_c, data_w, V, C, q)
        tv[kind] = 0.5 * np.abs(soft(logits) - emp).sum(1).max()
        if kind == "nce":                                             # self-normalised: sum exp(s) ~ 1
            np.testing.assert_allclose(np.exp(logits).sum(1), np.ones(C), atol=0.15)
    assert tv["full"] < 0.01, tv
    assert tv["is"] < 0.08 and tv["nce"] < 0.08, tv


def test_w12_7_ranking_loss_and_torch_oracle():
    a = sd.tensor([2.0, 0.5, 1.5, 3.0])
    assert float(ranking_loss(a, 0).item()) == pytest.approx(2.5)
    assert float(ranking_loss(a, 0, include_target=True).item()) == pytest.approx(3.5)
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4, 6))
    y = np.array([0, 5, 2, 2])
    xs = sd.tensor(x, requires_grad=True)
    loss = ranking_loss(xs, y, reduction="sum")
    loss.backward()
    assert gradcheck(lambda s: ranking_loss(s, y), [sd.tensor(x, requires_grad=True)])
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.multi_margin_loss(xt, torch.tensor(y), reduction="sum") * 6   # torch divides by C
    ref.backward()
    assert float(loss.item()) == pytest.approx(ref.item(), rel=1e-6)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        ranking_loss(a, 0, reduction="avg")


def test_sampled_reconstruction_of_sparse_targets_is_unbiased():
    from shendu.text import SampledReconstructionLoss

    layer = SampledReconstructionLoss(4, 30, num_sampled=6, proposal=unigram_proposal(np.arange(1, 31)))
    h = sd.randn(3, 4)
    pos = [[1, 2, -1], [0, -1, -1], [25, 26, 29]]
    full = float(layer.full_loss(h, pos).item())
    est = np.mean([float(layer(h, pos).item()) for _ in range(1500)])
    assert est == pytest.approx(full, rel=0.02)
    # only the positives and the 6 sampled rows receive a gradient (the output cost is O((P + m) n_h))
    samples = np.array([3, 3, 7, 10, 26, 11])
    layer(h, pos, samples=samples).backward()
    touched = set(np.flatnonzero(np.abs(layer.weight.grad.numpy()).sum(1)).tolist())
    assert touched == {1, 2, 0, 25, 26, 29, 3, 7, 10, 11}
    with sd.default_dtype(sd.float64):
        l64 = SampledReconstructionLoss(3, 8, num_sampled=3)
    h64 = sd.tensor(np.random.default_rng(10).normal(size=(2, 3)), requires_grad=True)
    assert gradcheck(lambda h, w: l64(h, [[1, -1], [2, 5]], samples=np.array([0, 5, 7])), [h64, l64.weight])
    with pytest.raises(ValueError, match="positives"):
        layer(h, [1, 2, 3])


def test_direct_ngram_features_learn_a_max_ent_bigram():
    from shendu.text import DirectNgramFeatures, LidstoneLM, Vocab, ngram_windows

    from .test_ngram import corpus

    sents = corpus(300, 13)
    vocab = Vocab.build(sents, pad=None)
    X, Y = ngram_windows(sents, vocab, 2)
    d = DirectNgramFeatures(len(vocab), orders=(1,), hash_size=4096)
    idx = d.indices(X[:2])
    assert idx.shape == (2, 1, len(vocab)) and (idx == d.indices(X[:2])).all()
    opt = sd.optim.Adam(d.parameters(), lr=0.1)
    for _ in range(150):
        loss = F.cross_entropy(d(X), sd.tensor(Y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    ppl = math.exp(float(F.cross_entropy(d(X), sd.tensor(Y)).item()))
    ref = LidstoneLM(2, alpha=0.01, vocabulary=vocab.itos[1:]).fit(sents).perplexity(sents)   # no-pad vocab
    assert ppl == pytest.approx(ref, rel=0.05), (ppl, ref)   # max-ent with bigram indicators = the bigram MLE
    with sd.default_dtype(sd.float64):
        d64 = DirectNgramFeatures(5, orders=(1, 2), hash_size=64)
    d64.weight._data[...] = sd.tensor(np.random.default_rng(11).normal(size=64), dtype=sd.float64)._data
    assert gradcheck(lambda w: F.log_softmax(d64(np.array([[1, 2], [3, 4]])), dim=1), [d64.weight])
    with pytest.raises(ValueError, match="DirectNgramFeatures"):
        d64(np.array([[1]]))
