"""A generated English-like corpus for the char-lm recipe and examples: short fables from a small probabilistic
grammar (seeded, so the shipped file examples/data/fables.txt is exactly ``generate_fables()``; no licence issues).
"""
from __future__ import annotations

import random
from pathlib import Path

__all__ = ["generate_fables", "load_fables", "FABLES_PATH"]

FABLES_PATH = Path(__file__).resolve().parents[3] / "examples" / "data" / "fables.txt"

_G = {
    "name": ["Ada", "Bruno", "Clara", "Dimitri", "Elsa", "Farid", "Greta", "Hugo"],
    "det": ["the", "the", "the", "a", "a", "every", "one", "that"],
    "adj": ["old", "young", "clever", "lazy", "brave", "small", "quiet", "hungry", "wise", "proud", "green", "red"],
    "noun": ["fox", "crow", "lion", "mouse", "farmer", "miller", "king", "river", "stone", "garden", "wolf",
             "rabbit", "boat", "lantern", "tree", "village", "baker", "shepherd", "goat", "bridge"],
    "vt": ["saw", "found", "helped", "followed", "watched", "carried", "feared", "called", "thanked", "fed",
           "crossed", "painted", "visited", "praised"],
    "vi": ["slept", "laughed", "waited", "sang", "ran away", "walked home", "fell silent", "stayed", "wept",
           "smiled"],
    "adv": ["slowly", "quickly", "at dawn", "at night", "again", "in the rain", "without a word", "for a while"],
    "prep": ["near", "under", "behind", "beside", "across", "inside"],
    "say": ["said", "whispered", "shouted", "asked", "replied"],
    "conj": ["and", "but", "so", "because", "while"],
    "moral": ["slow and steady wins the race", "a friend in need is a friend indeed", "pride comes before a fall",
              "look before you leap", "little by little the bird builds its nest", "kindness is never wasted"],
}


def generate_fables(n_chars=160_000, seed=12):
    """About n_chars characters of fables (paragraphs separated by blank lines), deterministic for a seed."""
    r = random.Random(seed)
    pick = r.choice

    def np_():
        if r.random() < 0.25:
            return pick(_G["name"])
        adj = f"{pick(_G['adj'])} " if r.random() < 0.5 else ""
        return f"{pick(_G['det'])} {adj}{pick(_G['noun'])}"

    def vp():
        u = r.random()
        if u < 0.45:
            s = f"{pick(_G['vt'])} {np_()}"
            if r.random() < 0.3:
                s += f" {pick(_G['prep'])} {np_()}"
        else:
            s = pick(_G["vi"])
        if r.random() < 0.3:
            s += f" {pick(_G['adv'])}"
        return s

    def clause():
        return f"{np_()} {vp()}"

    def sentence():
        u = r.random()
        if u < 0.45:
            s = clause()
        elif u < 0.75:
            s = f"{clause()} {pick(_G['conj'])} {clause()}"
        elif u < 0.9:
            s = f"{pick(_G['prep'])} {np_()}, {clause()}"
        else:
            return f'{_cap(np_())} {pick(_G["say"])}, "{_cap(clause())}."'
        return _cap(s) + "."

    out, size = [], 0
    while size < n_chars:
        para = " ".join(sentence() for _ in range(r.randint(3, 7)))
        if r.random() < 0.4:
            para += f" The moral: {pick(_G['moral'])}."
        out.append(para)
        size += len(para) + 2
    return "\n\n".join(out) + "\n"


def _cap(s):
    return s[:1].upper() + s[1:]


def load_fables(path=None):
    """The shipped fables text (generated again if the file is missing)."""
    p = Path(path) if path else FABLES_PATH
    return p.read_text(encoding="utf-8") if p.exists() else generate_fables()
