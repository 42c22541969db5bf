"""CTC decoding: greedy (best path) and prefix beam search (Graves 2006; Hannun et al. 2014).

The CTC collapse B removes repeated labels, then blanks: B(a a - b - b b) = (a, b, b).
Greedy: B(argmax_c lp_t(c)). Prefix beam search keeps, for each label prefix, the log-probability of all
alignments ending in a blank (p_b) and in a non-blank (p_nb), extends by every label per frame and keeps the
``beam_width`` best prefixes by logaddexp(p_b, p_nb); with a wide enough beam it returns the most probable
labelling argmax_l sum_{pi: B(pi) = l} p(pi | x). Inputs are log-probabilities (T, C) or (T, N, C) (a Tensor
or array; read back to the host: decoding is sequential bookkeeping).
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..backend import to_host

__all__ = ["ctc_collapse", "ctc_greedy_decode", "ctc_prefix_beam_search"]


def _host_lp(lp):
    a = to_host(lp._data) if isinstance(lp, Tensor) else to_host(lp) if not isinstance(lp, np.ndarray) else lp
    return np.asarray(a, dtype=np.float64)


def ctc_collapse(path, blank=0):
    """B(path): merge repeats, then drop blanks."""
    out, prev = [], None
    for p in path:
        p = int(p)
        if p != prev and p != blank:
            out.append(p)
        prev = p
    return out


def ctc_greedy_decode(log_probs, lengths=None, blank=0):
    """Best-path decoding. (T, C) -> a label list; (T, N, C) -> a list of N label lists (``lengths`` (N,))."""
    lp = _host_lp(log_probs)
    if lp.ndim == 2:
        return ctc_collapse(lp.argmax(-1), blank)
    T, N, _ = lp.shape
    if lengths is None:
        lengths = [T] * N
    else:
        lengths = [int(v) for v in np.asarray(to_host(lengths._data) if isinstance(lengths, Tensor) else lengths)]
    best = lp.argmax(-1)
    return [ctc_collapse(best[:lengths[n], n], blank) for n in range(N)]


def ctc_prefix_beam_search(log_probs, beam_width=8, blank=0, lengths=None, prune=None):
    """Prefix beam search. (T, C) -> list of (labels, log-probability) best first (up to beam_width);
    (T, N, C) -> one such list per sample. ``prune``: only labels with lp_t(c) >= prune are tried."""
    lp = _host_lp(log_probs)
    if lp.ndim == 3:
        T, N, _ = lp.shape
        lengths = [T] * N if lengths is None else [int(v) for v in np.asarray(lengths)]
        return [ctc_prefix_beam_search(lp[:lengths[n], n], beam_width, blank, None, prune) for n in range(N)]
    if lp.ndim != 2:
        raise ValueError(f"ctc_prefix_beam_search: expected log-probabilities (T, C) or (T, N, C), got {lp.shape}")
    if beam_width < 1:
        raise ValueError(f"ctc_prefix_beam_search: beam_width must be >= 1, got {beam_width}")
    NEG = -np.inf
    lae = np.logaddexp
    beams = {(): (0.0, NEG)}  # prefix -> (log p_blank, log p_nonblank)
    C = lp.shape[1]
    for t in range(lp.shape[0]):
        row = lp[t]
        labels = range(C) if prune is None else [c for c in range(C) if row[c] >= prune]
        nxt = {}

        def add(prefix, pb, pnb):
            ob, onb = nxt.get(prefix, (NEG, NEG))
            nxt[prefix] = (lae(ob, pb), lae(onb, pnb))

        for prefix, (pb, pnb) in beams.items():
            total = lae(pb, pnb)
            for c in labels:
                p = row[c]
                if c == blank:
                    add(prefix, total + p, NEG)
                    continue
                last = prefix[-1] if prefix else None
                ext = prefix + (c,)
                if c == last:
                    add(ext, NEG, pb + p)  # a repeat needs a blank in between
                    add(prefix, NEG, pnb + p)  # or it merges with the previous frame's label
                else:
                    add(ext, NEG, total + p)
        beams = dict(sorted(nxt.items(), key=lambda kv: -lae(*kv[1]))[:beam_width])
    out = [(list(k), float(lae(*v))) for k, v in beams.items()]
    out.sort(key=lambda kv: -kv[1])
    return out
