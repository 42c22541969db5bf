"""Count-based word embeddings and the family-tree task (textbook 12.4 / 11.2 baseline, C4.6).

* :class:`LSAEmbedding`: latent semantic analysis: a word-context co-occurrence matrix (symmetric window),
  optionally PPMI-weighted, factored by a truncated SVD C ~ U_k S_k V_k^T; word vectors U_k S_k^power
  (power 0.5 by default). Unsupervised, fast: the baseline word representation before training an NPLM.
* :func:`family_tree_triples` / :class:`FamilyTreeNet`: Hinton's (1986) family-tree task: two isomorphic
  families (English, Italian) of 12 people, 12 relations; (person, relation) -> the set of people. The net
  learns a distributed representation of each person (a 6-unit embedding shared by all 12 relation tasks).
Host-side counting and SVD use NumPy (not tensor code)."""
from __future__ import annotations

import numpy as np

from .. import nn, ops
from .vocab import Vocab


def cooccurrence(sentences, vocab, window=2):
    """(V, V) counts of word j within ``window`` tokens of word i, summed over ``sentences`` (lists of tokens)."""
    if window < 1:
        raise ValueError(f"cooccurrence: window must be >= 1, got {window}")
    V = len(vocab)
    c = np.zeros((V, V), dtype=np.float64)
    for s in sentences:
        ids = [vocab[w] for w in s]
        for i, a in enumerate(ids):
            for j in range(max(0, i - window), min(len(ids), i + window + 1)):
                if j != i:
                    c[a, ids[j]] += 1.0
    return c


def ppmi(counts):
    """Positive pointwise mutual information max(0, log p(i, j) / (p(i) p(j))) of a count matrix."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        raise ValueError("ppmi: the count matrix is empty")
    pi, pj = counts.sum(1, keepdims=True) / total, counts.sum(0, keepdims=True) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(counts / total / (pi * pj))
    return np.where(np.isfinite(pmi) & (pmi > 0), pmi, 0.0)


class LSAEmbedding:
    """LSA / SVD word embeddings. ``fit(sentences)`` builds the vocabulary (``min_freq``), the co-occurrence
    matrix within ``window``, weights it (``weighting`` 'ppmi', 'log' = log(1 + c), or 'count'), and keeps
    ``vectors`` = U_k S_k^power, float32 (V, dim)."""

    def __init__(self, dim=50, window=2, weighting="ppmi", power=0.5, min_freq=1):
        if weighting not in ("ppmi", "log", "count"):
            raise ValueError(f"LSAEmbedding: weighting must be 'ppmi', 'log' or 'count', got {weighting!r}")
        if dim < 1:
            raise ValueError(f"LSAEmbedding: dim must be >= 1, got {dim}")
        self.dim, self.window, self.weighting, self.power, self.min_freq = dim, window, weighting, power, min_freq
        self.vocab = self.vectors = self.singular_values = None

    def fit(self, sentences, vocab=None):
        sentences = [list(s) for s in sentences]
        self.vocab = vocab if vocab is not None else Vocab.build(sentences, min_freq=self.min_freq)
        c = cooccurrence(sentences, self.vocab, self.window)
        m = {"ppmi": ppmi, "log": np.log1p, "count": lambda a: a}[self.weighting](c)
        u, s, _ = np.linalg.svd(m, full_matrices=False)
        k = min(self.dim, len(s))
        self.singular_values = s[:k]
        self.vectors = (u[:, :k] * s[:k] ** self.power).astype(np.float32)
        return self

    def __getitem__(self, word):
        return self.vectors[self.vocab[word]]

    def most_similar(self, word, k=5):
        """The k nearest words by cosine similarity: [(word, similarity)]."""
        v = self.vectors / np.maximum(np.linalg.norm(self.vectors, axis=1, keepdims=True), 1e-12)
        i = self.vocab[word]
        sims = v @ v[i]
        order = [j for j in np.argsort(-sims) if j != i][:k]
        return [(self.vocab.itos[j], float(sims[j])) for j in order]

    def embedding(self, freeze=False):
        """An ``nn.Embedding`` initialised with the LSA vectors (trainable unless ``freeze``)."""
        emb = nn.Embedding(self.vectors.shape[0], self.vectors.shape[1])
        emb.weight.data[...] = self.vectors
        if freeze:
            emb.weight.requires_grad = False
        return emb

    def sentence_features(self, sentences):
        """Bag-of-embeddings features: the mean word vector of each sentence, (N, dim) float32."""
        out = np.zeros((len(sentences), self.vectors.shape[1]), np.float32)
        for n, s in enumerate(sentences):
            ids = [self.vocab[w] for w in s]
            if ids:
                out[n] = self.vectors[ids].mean(0)
        return out


# ---------------------------------------------------------------------------------------------- family tree
RELATIONS = ("father", "mother", "husband", "wife", "son", "daughter", "uncle", "aunt", "brother", "sister",
             "nephew", "niece")

_FAMILIES = {
    "english": {"people": {"Christopher": "m", "Penelope": "f", "Andrew": "m", "Christine": "f", "Margaret": "f",
                           "Arthur": "m", "Victoria": "f", "James": "m", "Jennifer": "f", "Charles": "m",
                           "Colin": "m", "Charlotte": "f"},
                "couples": [("Christopher", "Penelope"), ("Andrew", "Christine"), ("Arthur", "Margaret"),
                            ("James", "Victoria"), ("Charles", "Jennifer")],
                "children": {("Christopher", "Penelope"): ["Arthur", "Victoria"],
                             ("Andrew", "Christine"): ["James", "Jennifer"],
                             ("James", "Victoria"): ["Colin", "Charlotte"]}},
    "italian": {"people": {"Roberto": "m", "Maria": "f", "Pierro": "m", "Francesca": "f", "Gina": "f",
                           "Emilio": "m", "Lucia": "f", "Marco": "m", "Angela": "f", "Tomaso": "m",
                           "Alfonso": "m", "Sophia": "f"},
                "couples": [("Roberto", "Maria"), ("Pierro", "Francesca"), ("Emilio", "Gina"),
                            ("Marco", "Lucia"), ("Tomaso", "Angela")],
                "children": {("Roberto", "Maria"): ["Emilio", "Lucia"],
                             ("Pierro", "Francesca"): ["Marco", "Angela"],
                             ("Marco", "Lucia"): ["Alfonso", "Sophia"]}},
}


def family_tree_triples():
    """Hinton's family-tree data: (people (24 names, English then Italian), triples [(person, relation,
    frozenset of answers)]) with relations from :data:`RELATIONS`: 104 (person, relation) patterns (Hinton's 104
    triples), 112 answers."""
    people, triples = [], []
    for fam in _FAMILIES.values():
        sex, names = fam["people"], list(fam["people"])
        people += names
        spouse = {}
        for h, w in fam["couples"]:
            spouse[h], spouse[w] = w, h
        parents = {c: p for p, cs in fam["children"].items() for c in cs}
        children = {n: [] for n in names}
        for (f, m), cs in fam["children"].items():
            children[f] += cs
            children[m] += cs

        def siblings(x):
            return [c for c in children[parents[x][0]] if c != x] if x in parents else []

        for x in names:
            rel = {r: set() for r in RELATIONS}
            if x in parents:
                rel["father"].add(parents[x][0])
                rel["mother"].add(parents[x][1])
            if x in spouse:
                rel["husband" if sex[spouse[x]] == "m" else "wife"].add(spouse[x])
            for c in children[x]:
                rel["son" if sex[c] == "m" else "daughter"].add(c)
            for s in siblings(x):
                rel["brother" if sex[s] == "m" else "sister"].add(s)
            for p in parents.get(x, ()):
                for s in siblings(p):
                    for u in [s] + ([spouse[s]] if s in spouse else []):
                        rel["uncle" if sex[u] == "m" else "aunt"].add(u)
            for s in siblings(x) + (siblings(spouse[x]) if x in spouse else []):
                for c in children[s]:
                    rel["nephew" if sex[c] == "m" else "niece"].add(c)
            triples += [(x, r, frozenset(a)) for r, a in rel.items() if a]
    return people, triples


class FamilyTreeNet(nn.Module):
    """Hinton (1986): person one-hot -> 6-unit embedding, relation one-hot -> 6-unit embedding, a hidden layer
    of 12 sigmoid units, 6 units, 24 outputs (sigmoid; each correct relative should be on). Returns logits
    (N, n_people); ``person_embedding`` is the distributed representation shared by all relation tasks."""

    def __init__(self, n_people=24, n_relations=12, emb=6, hidden=12):
        super().__init__()
        self.person_embedding = nn.Embedding(n_people, emb)
        self.relation_embedding = nn.Embedding(n_relations, emb)
        self.hidden = nn.Linear(2 * emb, hidden)
        self.pre_out = nn.Linear(hidden, emb)
        self.out = nn.Linear(emb, n_people)

    def forward(self, person, relation):
        h = ops.cat([self.person_embedding(person), self.relation_embedding(relation)], dim=-1)
        return self.out(self.pre_out(self.hidden(h).sigmoid()).sigmoid())


def family_tree_arrays(triples, people):
    """(person ids (N,), relation ids (N,), multi-hot targets (N, n_people) float32) for the triples."""
    pid = {p: i for i, p in enumerate(people)}
    x = np.array([pid[p] for p, _, _ in triples], np.int64)
    r = np.array([RELATIONS.index(rel) for _, rel, _ in triples], np.int64)
    y = np.zeros((len(triples), len(people)), np.float32)
    for n, (_, _, ans) in enumerate(triples):
        y[n, [pid[a] for a in ans]] = 1.0
    return x, r, y


def family_tree_loss(logits, targets):
    """Cross-entropy of softmax(logits) against the targets normalised to a distribution over the correct
    relatives: -sum_j t_j / |t| log softmax(logits)_j, averaged over the batch."""
    t = targets / targets.sum(1, keepdim=True)
    return -(ops.log_softmax(logits, dim=1) * t).sum(1).mean()


def family_tree_correct(logits, targets):
    """(N,) bool: the top-|answers| outputs of each pattern are exactly its correct relatives (NumPy arrays)."""
    logits, targets = np.asarray(logits), np.asarray(targets) > 0.5
    k = targets.sum(1)
    pred = np.zeros_like(targets)
    for i in range(len(k)):
        pred[i, np.argsort(-logits[i], kind="stable")[:k[i]]] = True
    return (pred == targets).all(1)
