"""Coverage: the fraction of examples a system answers when it may refuse low-confidence ones.

Textbook 11.1: a system that can abstain trades accuracy on the answered examples against
coverage (refusing everything gives 100% accuracy at 0% coverage); the Street View goal was
human-level 98% accuracy at 95% coverage. Answering = confidence (max class probability) >= t.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_labels, to_numpy

__all__ = ["coverage", "accuracy_at_coverage"]


def _sorted_confidence(probs, y_true, who):
    """Confidences sorted decreasingly, correctness in the same order, and tie-group end mask."""
    p = to_numpy(probs, who, "probs").astype(np.float64)
    t = as_labels(y_true, who, "y_true")
    if p.ndim == 1:  # binary: P(y = 1 | x)
        pred, conf = (p > 0.5).astype(np.int64), np.maximum(p, 1.0 - p)  # a tie at 0.5 -> class 0, as argmax
    elif p.ndim == 2:
        pred, conf = np.argmax(p, axis=1), np.max(p, axis=1)
    else:
        raise ValueError(f"{who}: probs must be (N,) binary P(y=1|x) or (N, K), got shape {p.shape}")
    if t.shape[0] != p.shape[0] or t.shape[0] == 0:
        raise ValueError(f"{who}: probs {p.shape} and y_true {t.shape} must have the same N >= 1")
    order = np.argsort(-conf, kind="stable")
    conf, correct = conf[order], (pred == t)[order]
    group_end = np.r_[conf[1:] != conf[:-1], True]  # a threshold cannot split equal confidences
    return conf, correct, group_end


def coverage(probs, y_true, target_accuracy, return_threshold=False):
    """Largest fraction of examples answerable (confidence >= threshold) with accuracy >= target on them.

    probs: (N, K) class probabilities (prediction argmax, confidence max), or (N,) P(y=1|x).
    Returns 0.0 (threshold inf) when no threshold reaches the target.
    """
    who = "coverage"
    if not 0.0 <= float(target_accuracy) <= 1.0:
        raise ValueError(f"{who}: target_accuracy must lie in [0, 1], got {target_accuracy}")
    conf, correct, group_end = _sorted_confidence(probs, y_true, who)
    m = np.arange(1, conf.size + 1)
    ok = group_end & (np.cumsum(correct) >= float(target_accuracy) * m - 1e-9)
    if not ok.any():
        return (0.0, float("inf")) if return_threshold else 0.0
    i = int(np.flatnonzero(ok)[-1])
    cov = (i + 1) / conf.size
    return (cov, float(conf[i])) if return_threshold else cov


def accuracy_at_coverage(probs, y_true, coverage_fraction):
    """Accuracy on the examples whose confidence >= that of the ceil(c N)-th most confident one (1.0 at c = 0)."""
    who = "accuracy_at_coverage"
    c = float(coverage_fraction)
    if not 0.0 <= c <= 1.0:
        raise ValueError(f"{who}: coverage_fraction must lie in [0, 1], got {coverage_fraction}")
    conf, correct, group_end = _sorted_confidence(probs, y_true, who)
    m = int(np.ceil(c * conf.size - 1e-9))
    if m == 0:
        return 1.0
    i = m - 1 + int(np.argmax(group_end[m - 1:]))  # extend to the end of the tie group
    return float(correct[: i + 1].mean())
