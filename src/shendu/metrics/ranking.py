"""Threshold-sweep metrics: PR curve, average precision, ROC curve and ROC AUC.

Textbook 11.1: a detector reports an event when its score y_hat = P(y=1|x) exceeds a threshold;
sweeping the threshold trades precision against recall (the PR curve, precision on the y-axis,
recall on the x-axis), summarized by the area under it. Outputs match scikit-learn.
"""
from __future__ import annotations

import numpy as np

from ._validation import nan_average, to_numpy

__all__ = ["precision_recall_curve", "average_precision", "roc_curve", "roc_auc_score"]


def _binary_inputs(y_true, y_score, pos_label, who):
    t = to_numpy(y_true, who, "y_true")
    s = to_numpy(y_score, who, "y_score")
    if t.ndim != 1 or s.ndim != 1 or t.shape != s.shape or t.size == 0:
        raise ValueError(f"{who}: expected y_true and y_score of the same shape (N,), N >= 1, "
                         f"got {t.shape} and {s.shape}")
    present = np.unique(t)
    if pos_label is None:
        if present.size > 2 or not (set(present.tolist()) <= {0, 1} or set(present.tolist()) <= {-1, 1}):
            raise ValueError(f"{who}: y_true has labels {present.tolist()}; pass pos_label for labels "
                             "other than {0, 1} or {-1, 1}")
        pos_label = 1
    elif present.size > 2:
        raise ValueError(f"{who}: y_true must be binary, got labels {present.tolist()}")
    return (t == pos_label).astype(np.float64), s.astype(np.float64)


def _clf_curve(t, s):
    """(fps, tps, thresholds) at each distinct score, thresholds decreasing."""
    order = np.argsort(s, kind="stable")[::-1]
    s, t = s[order], t[order]
    idx = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tps = np.cumsum(t)[idx]
    fps = 1 + idx - tps
    return fps, tps, s[idx]


def precision_recall_curve(y_true, y_score, pos_label=None):
    """(precision, recall, thresholds) for thresholds = the distinct scores, increasing.

    precision/recall have one more entry than thresholds: the final point (precision 1, recall 0).
    If y_true has no positive, recall is 1 everywhere (as scikit-learn).
    """
    t, s = _binary_inputs(y_true, y_score, pos_label, "precision_recall_curve")
    fps, tps, thr = _clf_curve(t, s)
    prec = tps / (tps + fps)
    rec = np.ones_like(tps) if tps[-1] == 0 else tps / tps[-1]
    return np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0], thr[::-1]


def roc_curve(y_true, y_score, pos_label=None, drop_intermediate=True):
    """(fpr, tpr, thresholds): ROC points for decreasing thresholds, starting at (0, 0) with threshold inf.

    drop_intermediate removes collinear points (same AUC). fpr (tpr) is NaN without negatives (positives).
    """
    t, s = _binary_inputs(y_true, y_score, pos_label, "roc_curve")
    fps, tps, thr = _clf_curve(t, s)
    if drop_intermediate and fps.size > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    fps, tps, thr = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thr]
    fpr = np.full(fps.shape, np.nan) if fps[-1] <= 0 else fps / fps[-1]
    tpr = np.full(tps.shape, np.nan) if tps[-1] <= 0 else tps / tps[-1]
    return fpr, tpr, thr


def _binary_ap(t, s):
    prec, rec, _ = precision_recall_curve(t, s, pos_label=1)
    return max(0.0, float(-np.sum(np.diff(rec) * prec[:-1])))


def _binary_auc(t, s):
    if np.unique(t).size != 2:
        raise ValueError("roc_auc_score: only one class present in y_true; ROC AUC is undefined")
    fpr, tpr, _ = roc_curve(t, s, pos_label=1)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _multi(score_fn, y_true, y_score, average, who):
    """Binary, or one-vs-rest over the columns of y_score (N, K) with y_true (N,) classes or (N, K) indicators."""
    if average not in ("macro", "micro", "weighted", None):
        raise ValueError(f"{who}: average must be 'macro', 'micro', 'weighted' or None, got {average!r}")
    t = to_numpy(y_true, who, "y_true")
    s = to_numpy(y_score, who, "y_score")
    if s.ndim == 1:
        return score_fn(*_binary_inputs(t, s, None, who))
    if s.ndim != 2 or t.shape[0] != s.shape[0]:
        raise ValueError(f"{who}: expected y_score (N,) or (N, K) matching y_true, got {t.shape} and {s.shape}")
    k = s.shape[1]
    if t.ndim == 1:
        if np.any((t < 0) | (t >= k)) or not np.all(t == np.round(t)):
            raise ValueError(f"{who}: y_true must hold class indices in [0, {k}) for y_score of shape {s.shape}")
        t = (t.astype(np.int64)[:, None] == np.arange(k)).astype(np.float64)
    elif t.shape != s.shape:
        raise ValueError(f"{who}: indicator y_true {t.shape} must match y_score {s.shape}")
    t = t.astype(np.float64)
    if average == "micro":
        return score_fn(t.ravel(), s.ravel().astype(np.float64))
    scores = np.array([score_fn(t[:, j], s[:, j].astype(np.float64)) for j in range(k)])
    if average is None:
        return scores
    return nan_average(scores, t.sum(axis=0) if average == "weighted" else None)


def average_precision(y_true, y_score, average="macro"):
    """AP = sum_n (R_n - R_{n-1}) P_n over the PR curve's thresholds (area under the PR curve, textbook 11.1).

    y_score (N,) with binary y_true, or (N, K) with class indices (N,) / indicators (N, K),
    averaged over the K one-vs-rest problems ('macro', 'micro', 'weighted', None).
    """
    return _multi(_binary_ap, y_true, y_score, average, "average_precision")


def roc_auc_score(y_true, y_score, average="macro"):
    """Area under the ROC curve (trapezoidal); binary, or one-vs-rest for y_score (N, K) as `average_precision`."""
    return _multi(_binary_auc, y_true, y_score, average, "roc_auc_score")
