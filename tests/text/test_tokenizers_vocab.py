"""shendu.text tokenizers (word, char, byte), Vocab (specials, cut-offs, JSON round trip) and batching."""
import json

import numpy as np
import pytest

from shendu.text import ByteTokenizer, CharTokenizer, Vocab, WordTokenizer, batchify, get_tokenizer, pad_batch


def test_word_tokenizer_splits_punctuation_and_lowercases():
    assert WordTokenizer()("The dog ran, away!") == ["The", "dog", "ran", ",", "away", "!"]
    assert WordTokenizer(lower=True)("The DOG don't run.") == ["the", "dog", "don't", "run", "."]
    tok = WordTokenizer()
    assert tok.detokenize(tok("The dog ran, away!")) == "The dog ran, away!"
    assert WordTokenizer(pattern=r"\S+")("a-b c") == ["a-b", "c"]
    with pytest.raises(TypeError, match="WordTokenizer"):
        WordTokenizer()(["not", "a", "str"])


def test_char_and_byte_tokenizers_round_trip_unicode():
    s = "héllo 深度"
    assert CharTokenizer()(s) == list(s)
    assert CharTokenizer(lower=True)("AbC") == ["a", "b", "c"]
    b = ByteTokenizer()
    ids = b.encode(s)
    assert len(ids) == len(s.encode("utf-8")) == 13 and max(ids) < 256
    assert b.decode(ids) == s
    with pytest.raises(ValueError, match="ByteTokenizer"):
        b.decode([300])
    assert isinstance(get_tokenizer("char"), CharTokenizer)
    with pytest.raises(ValueError, match="get_tokenizer"):
        get_tokenizer("subword")


def test_vocab_specials_cutoffs_encode_decode(tmp_path):
    seqs = [["a", "b", "a", "c"], ["a", "b", "d"], ["e"]]
    v = Vocab.build(seqs, min_freq=2)
    assert v.itos == ["<pad>", "<unk>", "<s>", "</s>", "a", "b"]   # by count, specials first
    assert (v.pad_id, v.unk_id, v.bos_id, v.eos_id) == (0, 1, 2, 3)
    assert v.encode(["a", "zzz", "b"], add_bos=True, add_eos=True) == [2, 4, 1, 5, 3]
    assert v.decode([2, 4, 1, 5, 3]) == ["a", "b"]                  # specials (unk too) are skipped
    assert v.decode([2, 4, 3], skip_specials=False) == ["<s>", "a", "</s>"]
    v3 = Vocab.build(seqs, max_size=3)
    assert v3.itos[4:] == ["a", "b", "c"]                           # ties broken alphabetically
    no_unk = Vocab.build(seqs, unk=None, pad=None)
    assert no_unk.itos[:2] == ["<s>", "</s>"]
    with pytest.raises(KeyError, match="zzz"):
        no_unk["zzz"]
    with pytest.raises(ValueError, match="no bos token"):
        Vocab.build(seqs, bos=None).encode(["a"], add_bos=True)
    p = tmp_path / "vocab.json"
    v.save(p)
    assert json.loads(p.read_text())["kind"] == "shendu-vocab"
    w = Vocab.load(p)
    assert w.itos == v.itos and w.specials == v.specials and w.counts == {"a": 3, "b": 2}
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build(seqs, min_freq=0)
    with pytest.raises(TypeError, match="tokenize it first"):
        Vocab.build(["abc"])


def test_pad_batch_and_batchify():
    x, lengths = pad_batch([[5, 6, 7], [8], [9, 10]], pad_id=0)
    assert x.dtype == np.int64 and x.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]]
    assert lengths.tolist() == [3, 1, 2]
    xt, _ = pad_batch([[5, 6, 7], [8]], batch_first=False, max_len=2)
    assert xt.tolist() == [[5, 8], [6, 0]]
    b = batchify(np.arange(23), 4)
    assert b.shape == (4, 5) and b[1].tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="batchify"):
        batchify([1, 2, 3], 4)
