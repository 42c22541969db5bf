"""Edit distance and error rates for recognisers (textbook 12.3: phoneme error rate on TIMIT, word error rate).

edit_distance(ref, hyp) = minimum number of substitutions, deletions and insertions (Levenshtein, unit costs).
error_rate = sum_i edit(ref_i, hyp_i) / sum_i |ref_i| over a corpus (not a mean of per-sentence rates).
wer splits strings on whitespace, cer compares characters, per compares label sequences.
"""
from __future__ import annotations

__all__ = ["edit_distance", "edit_operations", "error_rate", "wer", "cer", "per"]


def _dp(ref, hyp):
    n, m = len(ref), len(hyp)
    D = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        D[i][0] = i
    for j in range(m + 1):
        D[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            D[i][j] = min(D[i - 1][j] + 1, D[i][j - 1] + 1, D[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    return D


def edit_distance(ref, hyp):
    """Levenshtein distance between two sequences (lists, tuples or strings)."""
    return _dp(list(ref), list(hyp))[-1][-1]


def edit_operations(ref, hyp):
    """(substitutions, deletions, insertions) of one minimum-cost alignment."""
    ref, hyp = list(ref), list(hyp)
    D = _dp(ref, hyp)
    i, j, s, d, ins = len(ref), len(hyp), 0, 0, 0
    while i or j:
        if i and j and D[i][j] == D[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            s += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i and D[i][j] == D[i - 1][j] + 1:
            d, i = d + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return s, d, ins


def _corpus(refs, hyps, who):
    if isinstance(refs, (str, bytes)) or (refs and not isinstance(refs[0], (list, tuple, str))):
        refs, hyps = [refs], [hyps]
    if len(refs) != len(hyps):
        raise ValueError(f"{who}: {len(refs)} references but {len(hyps)} hypotheses")
    return refs, hyps


def error_rate(refs, hyps):
    """Corpus error rate sum edit / sum |ref| for sequences of labels (a pair or lists of pairs)."""
    refs, hyps = _corpus(refs, hyps, "error_rate")
    n = sum(len(r) for r in refs)
    if n == 0:
        raise ValueError("error_rate: the references are empty")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / n


def wer(refs, hyps):
    """Word error rate: strings split on whitespace."""
    refs, hyps = _corpus(refs, hyps, "wer")
    return error_rate([r.split() for r in refs], [h.split() for h in hyps])


def cer(refs, hyps):
    """Character error rate."""
    refs, hyps = _corpus(refs, hyps, "cer")
    return error_rate([list(r) for r in refs], [list(h) for h in hyps])


per = error_rate  #: phoneme error rate: label sequences
