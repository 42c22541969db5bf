"""Tokenizers at word, character and byte level (textbook 12.4: tokens are words, characters or bytes).

Host-side Python: a tokenizer maps a string to a list of string tokens (``tokenize``) and back (``detokenize``).
``ByteTokenizer`` maps text to its UTF-8 bytes (ids 0..255), so it has no unknown tokens (Gillick 2015).
"""
from __future__ import annotations

import re

__all__ = ["WordTokenizer", "CharTokenizer", "ByteTokenizer", "get_tokenizer"]

_WORD = r"[A-Za-z0-9\u00C0-\uFFFF]+(?:['’][A-Za-z]+)*|[^\sA-Za-z0-9\u00C0-\uFFFF]"


class WordTokenizer:
    """Words and single punctuation marks by a regular expression; ``lower=True`` lower-cases first.

    WordTokenizer()("The dog ran, away!") -> ['The', 'dog', 'ran', ',', 'away', '!'].
    """

    def __init__(self, lower=False, pattern=None):
        if pattern is not None and not isinstance(pattern, str):
            raise TypeError(f"WordTokenizer: pattern must be a str regex, got {type(pattern).__name__}")
        self.lower = bool(lower)
        self.pattern = pattern or _WORD
        self._re = re.compile(self.pattern)

    def tokenize(self, text):
        if not isinstance(text, str):
            raise TypeError(f"WordTokenizer: expected a str, got {type(text).__name__}")
        return self._re.findall(text.lower() if self.lower else text)

    __call__ = tokenize

    def detokenize(self, tokens):
        """Join with spaces, without a space before punctuation."""
        out = ""
        for t in tokens:
            if out and not (len(t) == 1 and not t.isalnum() and t not in "([{\"'"):
                out += " "
            out += t
        return out


class CharTokenizer:
    """One token per Unicode character (``lower=True`` lower-cases first)."""

    def __init__(self, lower=False):
        self.lower = bool(lower)

    def tokenize(self, text):
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer: expected a str, got {type(text).__name__}")
        return list(text.lower() if self.lower else text)

    __call__ = tokenize

    def detokenize(self, tokens):
        return "".join(tokens)


class ByteTokenizer:
    """UTF-8 bytes as integer ids 0..255: ``encode`` -> list[int], ``decode`` -> str (invalid bytes replaced)."""

    vocab_size = 256

    def tokenize(self, text):
        if not isinstance(text, str):
            raise TypeError(f"ByteTokenizer: expected a str, got {type(text).__name__}")
        return list(text.encode("utf-8"))

    __call__ = tokenize
    encode = tokenize

    def detokenize(self, ids):
        bad = [i for i in ids if not (isinstance(i, int) or hasattr(i, "__index__")) or not 0 <= int(i) < 256]
        if bad:
            raise ValueError(f"ByteTokenizer: ids must be ints in [0, 255], got {bad[:5]}")
        return bytes(int(i) for i in ids).decode("utf-8", errors="replace")

    decode = detokenize


def get_tokenizer(level="word", **kw):
    """Tokenizer by level name: 'word', 'char' or 'byte'."""
    table = {"word": WordTokenizer, "char": CharTokenizer, "byte": ByteTokenizer}
    if level not in table:
        raise ValueError(f"get_tokenizer: level must be one of {sorted(table)}, got {level!r}")
    return table[level](**kw)
