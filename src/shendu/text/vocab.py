"""Vocabulary (token <-> id) with special tokens and frequency cut-offs; batching of variable-length sequences.

Host-side Python/NumPy (token bookkeeping is not tensor work). Saved as JSON, written atomically.
"""
from __future__ import annotations

import json
from collections import Counter

import numpy as np

__all__ = ["Vocab", "pad_batch", "batchify"]

_SPECIAL_KEYS = ("pad", "unk", "bos", "eos")


class Vocab:
    """Token <-> id map. Specials first (ids 0..), then tokens by decreasing count (ties: alphabetical).

    Vocab.build(token_lists, min_freq=1, max_size=None, pad="<pad>", unk="<unk>", bos="<s>", eos="</s>");
    any special may be None to leave it out. ``max_size`` counts the non-special tokens. Unknown tokens map to
    ``unk_id`` (a KeyError when there is no unk token).
    """

    def __init__(self, tokens, *, pad="<pad>", unk="<unk>", bos="<s>", eos="</s>", counts=None):
        self.specials = {k: v for k, v in zip(_SPECIAL_KEYS, (pad, unk, bos, eos))}
        itos = [s for s in self.specials.values() if s is not None]
        if len(set(itos)) != len(itos):
            raise ValueError(f"Vocab: special tokens must be distinct, got {itos}")
        seen = set(itos)
        for t in tokens:
            if not isinstance(t, str):
                raise TypeError(f"Vocab: tokens must be str, got {type(t).__name__} ({t!r})")
            if t not in seen:
                seen.add(t)
                itos.append(t)
        self.itos = itos
        self.stoi = {t: i for i, t in enumerate(itos)}
        self.counts = dict(counts or {})

    @classmethod
    def build(cls, sequences, *, min_freq=1, max_size=None, **specials):
        """Count the tokens of ``sequences`` (an iterable of token lists) and keep those with count >= min_freq."""
        if not (isinstance(min_freq, int) and min_freq >= 1):
            raise ValueError(f"Vocab.build: min_freq must be an int >= 1, got {min_freq!r}")
        if max_size is not None and not (isinstance(max_size, int) and max_size >= 0):
            raise ValueError(f"Vocab.build: max_size must be None or an int >= 0, got {max_size!r}")
        c = Counter()
        for seq in sequences:
            if isinstance(seq, str):
                raise TypeError("Vocab.build: expected an iterable of token lists, got a str (tokenize it first)")
            c.update(seq)
        kept = sorted((t for t, n in c.items() if n >= min_freq), key=lambda t: (-c[t], t))
        v = cls([], **specials)
        kept = [t for t in kept if t not in v.stoi]
        if max_size is not None:
            kept = kept[:max_size]
        return cls(kept, counts={t: c[t] for t in kept}, **specials)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        i = self.stoi.get(token)
        if i is None:
            if self.unk_id is None:
                raise KeyError(f"Vocab: token {token!r} is not in the vocabulary and there is no unk token")
            return self.unk_id
        return i

    def _id(self, key):
        s = self.specials[key]
        return None if s is None else self.stoi[s]

    pad_id = property(lambda self: self._id("pad"))
    unk_id = property(lambda self: self._id("unk"))
    bos_id = property(lambda self: self._id("bos"))
    eos_id = property(lambda self: self._id("eos"))

    def encode(self, tokens, add_bos=False, add_eos=False):
        """Token list -> list of ids (unknown tokens -> unk_id), optionally framed by bos/eos."""
        if isinstance(tokens, str):
            raise TypeError("Vocab.encode: expected a list of tokens, got a str (tokenize it first)")
        for flag, key in ((add_bos, "bos"), (add_eos, "eos")):
            if flag and self._id(key) is None:
                raise ValueError(f"Vocab.encode: add_{key}=True but the vocabulary has no {key} token")
        ids = [self[t] for t in tokens]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids, skip_specials=True):
        """Ids -> tokens (specials dropped when skip_specials)."""
        special = {self.stoi[s] for s in self.specials.values() if s is not None} if skip_specials else set()
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"Vocab.decode: id {i} out of range [0, {len(self.itos)})")
            if i not in special:
                out.append(self.itos[i])
        return out

    def to_dict(self):
        return {"kind": "shendu-vocab", "itos": self.itos, "specials": self.specials, "counts": self.counts}

    @classmethod
    def from_dict(cls, d):
        if not isinstance(d, dict) or d.get("kind") != "shendu-vocab":
            raise ValueError("Vocab.from_dict: not a shendu vocabulary (missing kind='shendu-vocab')")
        sp = d["specials"]
        specials = set(v for v in sp.values() if v is not None)
        return cls([t for t in d["itos"] if t not in specials], counts=d.get("counts"), **sp)

    def save(self, path):
        """Write the vocabulary as JSON, atomically."""
        from ..serialization import atomic_write_bytes

        atomic_write_bytes(path, json.dumps(self.to_dict(), ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def __repr__(self):
        return f"Vocab(size={len(self)}, specials={ {k: v for k, v in self.specials.items() if v is not None} })"


def pad_batch(sequences, pad_id=0, batch_first=True, max_len=None):
    """Pad id sequences to one int64 array: (B, T) (or (T, B)) and their lengths (B,) int64.

    max_len truncates longer sequences. Use the lengths with ``shendu.nn.utils.rnn.pack_padded_sequence``
    or ``F.lengths_to_mask``."""
    seqs = [list(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_batch: received no sequences")
    if max_len is not None:
        seqs = [s[:max_len] for s in seqs]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    out = np.full((len(seqs), int(lengths.max(initial=0))), pad_id, dtype=np.int64)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
    return (out if batch_first else out.T.copy()), lengths


def batchify(ids, batch_size):
    """A token-id stream as (batch_size, T) int64: row b is the b-th contiguous slice (the tail is dropped), for
    truncated BPTT over a long text."""
    ids = np.asarray(ids, dtype=np.int64).ravel()
    T = len(ids) // int(batch_size)
    if T < 2:
        raise ValueError(f"batchify: {len(ids)} tokens are too few for batch_size {batch_size}")
    return ids[:T * batch_size].reshape(batch_size, T)
