"""chatbot recipe: the seeds' seq2seq chatbot (GRU, 3 layers, 256 units, shared embedding; Luong attention)
trained teacher-forced on examples/data/dialogues.tsv (templated public-domain pairs; see examples/chatbot.py,
which also shows beam-search candidates). Batches are (src, tgt_in, tgt_out) id arrays. After training the
runner prints the greedy replies to a few prompts. `--data-dir DIR` reads DIR/chatbot/dialogues.tsv when it
exists (the bundled corpus otherwise); `--quick` trains a 1-layer 32-unit model on the first 256 pairs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .registry import RecipeError, Setup, register

_DATA = Path(__file__).resolve().parents[3] / "examples" / "data" / "dialogues.tsv"


def load_dialogue_arrays(path=None, valid_fraction=0.1, seed=0):
    """(vocabulary list, train (src, tgt_in, tgt_out), test (...)) from a question<TAB>reply file."""
    path = Path(path) if path else _DATA
    if not path.exists():
        raise RecipeError(
            f"chatbot: corpus not found at {path} (expected examples/data/dialogues.tsv of the repository)"
        )
    pairs = [tuple(s.split() for s in line.split("\t")) for line in path.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    itos = ["<pad>", "<sos>", "<eos>", "<unk>"] + sorted({w for q, a in pairs for w in q + a})
    stoi = {w: i for i, w in enumerate(itos)}
    S = max(len(q) for q, _ in pairs)
    T = max(len(a) for _, a in pairs) + 2
    src = np.zeros((len(pairs), S), np.int64)
    tgt = np.zeros((len(pairs), T), np.int64)
    for i, (q, a) in enumerate(pairs):
        src[i, :len(q)] = [stoi[w] for w in q]
        ids = [1] + [stoi[w] for w in a] + [2]
        tgt[i, :len(ids)] = ids
    order = np.random.default_rng(seed).permutation(len(pairs))
    n_val = int(len(pairs) * valid_fraction)
    te, tr = order[:n_val], order[n_val:]
    split = lambda idx: (src[idx], tgt[idx, :-1], tgt[idx, 1:])  # noqa: E731
    return itos, split(tr), split(te)


PROMPTS = ("hello there .", "what is three plus four ?", "i live in paris .", "do you like dogs ?", "how are you ?")


def sample_replies(model, itos, prompts=PROMPTS, max_len=20):
    """'> prompt' / '  reply' lines: the model's greedy replies (words outside the vocabulary are <unk>)."""
    stoi = {w: i for i, w in enumerate(itos)}
    lines = []
    for text in prompts:
        ids = np.array([[stoi.get(w, 3) for w in text.split()] or [3]], np.int64)
        reply = " ".join(itos[i] for i in model.greedy(ids, max_len=max_len)[0])
        lines += [f"> {text}", f"  {reply}"]
    return lines


@register("chatbot", description="seq2seq chatbot (GRU 3x256, shared embedding, Luong attention) on the bundled "
          "dialogue corpus; teacher forcing, Adam; prints sample replies", epochs=30, batch_size=64, lr=2e-3,
          threads=1)
def chatbot(cfg):
    from .. import optim
    from ..models import Seq2Seq
    from ..nn import functional as F

    own = Path(cfg["data_dir"]) / "chatbot" / "dialogues.tsv" if cfg.get("data_dir") else None
    itos, train, test = load_dialogue_arrays(own if own is not None and own.is_file() else None,
                                             seed=int(cfg.get("seed", 0)))
    if cfg.get("quick"):
        train = tuple(a[:256] for a in train)
    V = len(itos)
    size, layers = (32, 1) if cfg.get("quick") else (256, 3)
    model = Seq2Seq(V, emb_dim=size, hidden_size=size, num_layers=layers, cell="GRU", attention="general")
    model.vocabulary = itos

    def loss(out, y):
        yy = y._data if hasattr(y, "_data") else np.asarray(y)
        return F.cross_entropy(out.reshape(-1, V), yy.reshape(-1).astype(np.int64), ignore_index=0)

    return Setup(model, loss, optim.Adam(model.parameters(), lr=cfg["lr"]), train, test, metrics=(),
                 report=lambda m: sample_replies(m, itos))
