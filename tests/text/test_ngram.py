"""n-gram language models (textbook 12.4.1): the book's 1/6 vector, normalisation of every smoothed model, a
hand-computed Kneser-Ney value, back-off behaviour, perplexity, and NLTK's nltk.lm as an oracle."""
import math

import numpy as np
import pytest

from shendu.text import (
    MLELM,
    ClassBigramLM,
    JelinekMercerLM,
    KatzBackoffLM,
    KneserNeyLM,
    LaplaceLM,
    LidstoneLM,
    NgramRatioModel,
    perplexity,
)

BOOK = [s.split() for s in ("THE DOG RAN AWAY", "THE DOG RAN HOME", "THE CAT RAN AWAY")]


def corpus(n, seed):
    rng = np.random.default_rng(seed)
    subj, verb, obj = ["the dog", "a cat", "my friend", "the bird"], ["sees", "likes", "eats", "finds"], \
        ["the food", "a ball", "the tree", "some seeds", "it"]
    out = []
    for _ in range(n):
        s = f"{rng.choice(subj)} {rng.choice(verb)} {rng.choice(obj)}"
        if rng.random() < 0.3:
            s += f" and {rng.choice(verb)} {rng.choice(obj)}"
        out.append(s.split())
    return out


def test_w12_3_the_dog_ran_away_is_one_sixth():
    m = NgramRatioModel(3).fit(BOOK)
    assert m.joint(("THE", "DOG", "RAN")) == pytest.approx(2 / 6)
    assert m.joint(("DOG", "RAN", "AWAY")) == pytest.approx(1 / 6)
    assert m.joint(("DOG", "RAN")) == pytest.approx(2 / 6)      # P_2 trained without each last token
    assert m.cond("AWAY", ("DOG", "RAN")) == pytest.approx(1 / 2)
    assert m.sequence_prob("THE DOG RAN AWAY".split()) == pytest.approx(1 / 6)
    assert m.sequence_prob("THE CAT RAN HOME".split()) == 0.0   # unseen n-gram: the MLE failure mode
    assert math.isnan(m.cond("AWAY", ("CAT", "SAT")))          # unseen context: 0/0
    with pytest.raises(ValueError, match="NgramRatioModel"):
        NgramRatioModel(1)


MODELS = [
    lambda: MLELM(2), lambda: LidstoneLM(3, alpha=0.1), lambda: LaplaceLM(2),
    lambda: JelinekMercerLM(3, [0.3, 0.6, 0.8]),
    lambda: KatzBackoffLM(3), lambda: KatzBackoffLM(3, cutoff=1), lambda: KneserNeyLM(3), lambda: KneserNeyLM(4, 0.5),
    lambda: ClassBigramLM({"dog": "animal", "cat": "animal", "bird": "animal", "sees": "v", "likes": "v"}),
]


@pytest.mark.parametrize("make", MODELS, ids=["mle", "lidstone", "laplace", "jm", "katz", "katz_cutoff", "kn3", "kn4",
                                              "class"])
def test_every_conditional_sums_to_one(make):
    m = make().fit(corpus(200, 0))
    contexts = [(), ("the",), ("the", "dog"), ("dog", "sees"), ("and", "eats", "the"), ("unseen", "words"),
                ("<s>",), ("it", "and")]
    for ctx in contexts:
        d = m.distribution(ctx)
        assert len(d) == len(m.vocab)
        if isinstance(m, MLELM) and any(math.isnan(p) for p in d.values()):
            continue                                           # unseen context: undefined for the MLE
        assert sum(d.values()) == pytest.approx(1.0, abs=1e-9), ctx
        assert min(d.values()) >= 0.0


def test_smoothing_gives_finite_held_out_perplexity():
    train, test = corpus(300, 1), corpus(50, 2) + [["the", "zebra", "sees", "it"]]
    assert MLELM(3).fit(train).perplexity(test) == math.inf    # an unseen word has probability 0
    ppl = {type(m).__name__: m.fit(train).perplexity(test)
           for m in (LaplaceLM(3), LidstoneLM(3, alpha=0.05), JelinekMercerLM(3), KatzBackoffLM(3), KneserNeyLM(3))}
    assert all(math.isfinite(p) and 1 < p < 30 for p in ppl.values()), ppl
    assert ppl["KneserNeyLM"] < ppl["LaplaceLM"]               # add-one wastes mass on the unseen n-grams
    assert perplexity(-2 * math.log(4), 2) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="perplexity"):
        perplexity(0.0, 0)


def test_kneser_ney_hand_computed():
    m = KneserNeyLM(2, discount=0.75).fit([["a", "b"], ["a", "c"], ["b", "c"]])
    # V = {a, b, c, </s>, <unk>}; continuation counts N1+(. w): a 1, b 2, c 2, </s> 2 (total 7, 4 types)
    p1_c = (2 - 0.75) / 7 + 0.75 * 4 / 7 / 5
    p1_unk = 0.75 * 4 / 7 / 5
    # no context = sentence start (<s>): c(<s> .) = 3 over 2 types (a, b), c unseen there
    assert m.prob("c") == pytest.approx(0.75 * 2 / 3 * p1_c)
    assert m.prob("c", ["a"]) == pytest.approx((1 - 0.75) / 2 + 0.75 * 2 / 2 * p1_c)
    assert m.prob("zebra", ["a"]) == pytest.approx(0.75 * 2 / 2 * p1_unk)   # unknown word -> <unk>
    assert m.prob("a", ["nothing"]) == pytest.approx((1 - 0.75) / 7 + 0.75 * 4 / 7 / 5)  # unseen context


def test_katz_backs_off_to_the_lower_order():
    m = KatzBackoffLM(3, cutoff=0).fit(corpus(200, 3))
    # unseen context (unknown words -> <unk>, never seen as context): the lower-order estimate itself
    unigram = m._p("the", ())
    assert m.prob("the", ["never", "seen"]) == pytest.approx(unigram)
    assert m.prob("the", ["seen"]) == pytest.approx(unigram)          # (<s>, <unk>) -> (<unk>,) -> ()
    assert m.prob("the", []) != pytest.approx(unigram)                # (<s>, <s>) is a seen context
    # seen word: the discounted estimate (absolute discounting here: Good-Turing counts-of-counts are too sparse)
    ctx = ("and", "likes")
    assert m.discounts[3] is None and m.counts[3][ctx] == {"the": 8, "a": 4, "it": 3, "some": 3}
    assert m._p("the", ctx) == pytest.approx((8 - 0.5) / 18)        # _p: the exact-order context, unpadded
    # unseen words in a seen context: one alpha(h) times the lower order, alpha(h) = left mass / lower mass
    ratio = m._p("ball", ctx) / m._p("ball", ctx[1:])
    assert m._p("friend", ctx) / m._p("friend", ctx[1:]) == pytest.approx(ratio)
    lower_unseen = 1 - sum(m._p(w, ctx[1:]) for w in ("the", "a", "it", "some"))
    assert ratio == pytest.approx((4 * 0.5 / 18) / lower_unseen)
    # a count at or below the cut-off is treated as unseen
    m2 = KatzBackoffLM(2, cutoff=5).fit([["x", "y"]] * 3 + [["x", "z"]] * 9)
    assert m2._p("y", ("x",)) / m2._p("y", ()) == pytest.approx(m2._p("<unk>", ("x",)) / m2._p("<unk>", ()))
    assert m2._p("z", ("x",)) > m2._p("y", ("x",))


def test_jelinek_mercer_lambda_tuned_on_held_out():
    train, val = corpus(300, 4), corpus(80, 5)
    m = JelinekMercerLM(3).fit(train)
    lam = m.fit_lambda(val)
    best = m.perplexity(val)
    for other in (0.05, 0.95):
        m.set_lambdas(other)
        assert best <= m.perplexity(val) + 1e-12
    assert 0 < lam < 1
    with pytest.raises(ValueError, match="lambdas"):
        m.set_lambdas([0.5, 2.0, 0.1])


def test_class_bigram_factorises():
    c2 = {"dog": "N", "cat": "N", "ran": "V", "sat": "V"}
    m = ClassBigramLM(c2, alpha=0.5).fit([["dog", "ran"], ["cat", "sat"], ["dog", "sat"]])
    # classes: N, V, <eos>, <other> (for <unk>); transitions N->V 3 times; emissions N: dog 2 cat 1; V: ran 1 sat 2
    p_class = (3 + 0.5) / (3 + 0.5 * 4)
    assert m.prob("sat", ["cat"]) == pytest.approx(p_class * (2 + 0.5) / (3 + 0.5 * 2))
    assert m.prob("ran", ["cat"]) == pytest.approx(p_class * (1 + 0.5) / (3 + 0.5 * 2))
    assert m.prob("sat", ["dog"]) == m.prob("sat", ["cat"])    # the same class context
    with pytest.raises(TypeError, match="word_to_class"):
        ClassBigramLM([("dog", "N")])


@pytest.mark.parametrize("kind", ["mle", "laplace", "lidstone"])
def test_matches_nltk(kind):
    lm_mod = pytest.importorskip("nltk.lm")
    from nltk.lm.preprocessing import padded_everygram_pipeline

    sents = corpus(150, 6)
    train, vocab = padded_everygram_pipeline(3, sents)
    ref = {"mle": lambda: lm_mod.MLE(3), "laplace": lambda: lm_mod.Laplace(3),
           "lidstone": lambda: lm_mod.Lidstone(0.1, 3)}[kind]()
    ref.fit(train, vocab)
    ours = {"mle": MLELM, "laplace": LaplaceLM, "lidstone": lambda *a, **k: LidstoneLM(*a, alpha=0.1, **k)}[kind](
        3, vocabulary=list(ref.vocab), unk="<UNK>").fit(sents)
    assert len(ours.vocab) == len(ref.vocab)
    words = sorted({w for s in sents for w in s})
    checked = 0
    for ctx in [("<s>", "<s>"), ("<s>", "the"), ("the", "dog"), ("dog", "sees"), ("sees", "the"), ("and", "likes"),
                ("a", "ball")]:
        for w in words + ["</s>"]:
            r = ref.score(w, list(ctx))
            if kind == "mle" and sum(ours.counts[3][ctx].values()) == 0:
                continue
            assert ours.prob(w, ctx) == pytest.approx(r, rel=1e-12, abs=1e-15), (ctx, w)
            checked += 1
    assert checked > 100


def test_katz_good_turing_discounts_on_a_larger_corpus():
    from shendu.text import WordTokenizer
    from shendu.text.corpus import generate_fables

    tok = WordTokenizer(lower=True)
    sents = [[w for w in tok(s) if w.isalpha()] for s in generate_fables(40000).replace("\n", " ").split(".")]
    m = KatzBackoffLM(3).fit([s for s in sents if s])
    d = m.discounts[3]
    assert d is not None                                            # Good-Turing is valid for the trigrams here
    from collections import Counter

    nr = Counter(c for cnt in m.counts[3].values() for c in cnt.values())
    A = 6 * nr[6] / nr[1]
    for r in range(1, 6):                                           # Katz (1987) with k = 5
        assert d[r] == pytest.approx(((r + 1) * nr[r + 1] / nr[r] / r - A) / (1 - A))
    ctx, cnt = next((h, c) for h, c in m.counts[3].items() if 1 in c.values() and sum(c.values()) > 5)
    w = next(w for w, r in cnt.items() if r == 1)
    assert m._p(w, ctx) == pytest.approx(d[1] / sum(cnt.values()))
    for h in list(m.counts[3])[:20]:
        assert sum(m._p(w, h) for w in m.vocab) == pytest.approx(1.0, abs=1e-9)


def test_cluster_words_by_cooccurrence_for_a_class_model():
    from shendu.text import cluster_words

    train, test = corpus(300, 0), corpus(100, 1)
    classes = cluster_words(train, 5)
    groups = {}
    for w, c in classes.items():
        groups.setdefault(c, set()).add(w)
    found = sorted(map(sorted, groups.values()))
    assert ["eats", "finds", "likes", "sees"] in found and ["a", "my", "the"] in found
    assert ["ball", "food", "seeds", "tree"] in found
    ppl_class = ClassBigramLM(classes, alpha=0.1).fit(train).perplexity(test)
    ppl_word = LidstoneLM(2, alpha=0.1).fit(train).perplexity(test)
    ppl_unigram = LidstoneLM(1, alpha=0.1).fit(train).perplexity(test)
    assert ppl_word < ppl_class < ppl_unigram       # classes keep most of the context, lose the word identity
    with pytest.raises(ValueError, match="n_classes"):
        cluster_words(train, 0)
