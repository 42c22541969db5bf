"""Seq2seq chatbot (the seeds' TensorLayer example, doc 003 §1.10.6; textbook 10.4 encoder-decoder).

Trains ``shendu.models.Seq2Seq`` (GRU, 3 layers, 256 units, shared embedding, as the seeds' example;
plus Luong 'general' attention) with teacher forcing on examples/data/dialogues.tsv: ~2,400 templated
English question/reply pairs written for shendu (public domain; regenerate with
examples/data/make_dialogues.py). Then it answers a few prompts with greedy decoding and lists the top
beam-search candidates with their scores.

    python examples/chatbot.py                 # full run (a few minutes on 2 cores)
    python examples/chatbot.py --quick         # tiny smoke run (CI)
    python examples/chatbot.py --chat          # then talk to it on stdin
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import shendu as sd
from shendu.models import Seq2Seq

DATA = Path(__file__).resolve().parent / "data" / "dialogues.tsv"
PAD, SOS, EOS, UNK = "<pad>", "<sos>", "<eos>", "<unk>"


def load_pairs(path=DATA):
    pairs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            q, a = line.split("\t")
            pairs.append((q.split(), a.split()))
    return pairs


class Vocab:
    def __init__(self, sentences):
        words = sorted({w for s in sentences for w in s})
        self.itos = [PAD, SOS, EOS, UNK] + words
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def encode(self, words):
        return [self.stoi.get(w, 3) for w in words]

    def decode(self, ids):
        return " ".join(self.itos[i] for i in ids)


def tokenize(text):
    for p in "?!.,":
        text = text.replace(p, f" {p} ")
    return text.lower().split()


def make_batch(pairs, vocab):
    """(src (B, S) padded with 0, tgt (B, T) = <sos> reply <eos> padded)."""
    S = max(len(q) for q, _ in pairs)
    T = max(len(a) for _, a in pairs) + 2
    src = np.zeros((len(pairs), S), np.int64)
    tgt = np.zeros((len(pairs), T), np.int64)
    for i, (q, a) in enumerate(pairs):
        src[i, :len(q)] = vocab.encode(q)
        ids = [1] + vocab.encode(a) + [2]
        tgt[i, :len(ids)] = ids
    return src, tgt


def train(args):
    sd.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    pairs = load_pairs()
    if args.quick:
        pairs = pairs[:256]
    vocab = Vocab([q for q, _ in pairs] + [a for _, a in pairs])
    model = Seq2Seq(len(vocab.itos), emb_dim=args.hidden, hidden_size=args.hidden, num_layers=args.layers,
                    cell=args.cell, attention=args.attention)
    opt = sd.optim.Adam(model.parameters(), lr=args.lr)
    clip = getattr(sd.optim, "clip_grad_norm_", None)
    print(f"{len(pairs)} pairs, vocabulary {len(vocab.itos)}, {sum(p.numel() for p in model.parameters()):,} parameters")
    t0 = time.time()
    for epoch in range(args.epochs):
        order = rng.permutation(len(pairs))
        total = n = 0
        model.train()
        for s in range(0, len(pairs), args.batch_size):
            src, tgt = make_batch([pairs[i] for i in order[s:s + args.batch_size]], vocab)
            opt.zero_grad()
            loss = model.loss(src, tgt)
            loss.backward()
            if clip is not None:
                clip(model.parameters(), 5.0)
            opt.step()
            total, n = total + loss.item(), n + 1
        print(f"epoch {epoch + 1:3d}  loss {total / n:.4f}  ({time.time() - t0:.0f} s)")
    model.eval()
    src, tgt = make_batch(pairs, vocab)
    pred = model.greedy(src, max_len=tgt.shape[1])
    exact = np.mean([p == vocab.encode(a) for p, (_, a) in zip(pred, pairs)])
    print(f"exact-match replies on the training pairs: {exact:.1%}")
    return model, vocab


def reply(model, vocab, text, beam=3):
    ids = np.array(vocab.encode(tokenize(text)) or [3])
    greedy = vocab.decode(model.greedy(ids[None], max_len=20)[0])
    cands = [(vocab.decode(seq), score) for seq, score in model.beam_search(ids, beam_width=beam, max_len=20)]
    return greedy, cands


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--cell", default="GRU")
    ap.add_argument("--attention", default="general")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="tiny model and data, 2 epochs (smoke test)")
    ap.add_argument("--chat", action="store_true", help="read prompts from stdin after training")
    args = ap.parse_args()
    if args.quick:
        args.epochs, args.hidden, args.layers = 2, 32, 1
    model, vocab = train(args)
    for text in ["hello there .", "what is three plus four ?", "i live in paris .", "do you like dogs ?",
                 "how are you ?"]:
        g, cands = reply(model, vocab, text)
        print(f"> {text}\n  {g}")
        for c, s in cands:
            print(f"     {s:7.3f}  {c}")
    if args.chat:
        try:
            while True:
                g, _ = reply(model, vocab, input("you> "))
                print("bot>", g)
        except EOFError:
            pass


if __name__ == "__main__":
    main()
