"""Classification metrics: accuracy, top-k accuracy, confusion matrix, precision, recall, F-score.

Textbook 11.1 (performance metrics): accuracy / error rate; precision = TP / (TP + FP), the
fraction of reported detections that are correct; recall = TP / (TP + FN), the fraction of true
events detected; F = 2pr / (p + r) (eq. 11.1). Outputs match scikit-learn.
"""
from __future__ import annotations

import numpy as np

from ._validation import check_pair, nan_average, safe_divide, to_numpy

__all__ = ["accuracy", "top_k_accuracy", "confusion_matrix", "precision", "recall", "f1_score",
           "precision_recall_fscore"]

_AVERAGES = ("binary", "macro", "micro", "weighted", None)


def accuracy(y_true, y_pred):
    """Fraction of examples with y_pred == y_true; y (N,) labels, or (N, K) scores/one-hot (argmax)."""
    t, p = check_pair(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def top_k_accuracy(y_true, y_score, k=5):
    """Fraction of examples whose true label is among the k highest scores; y_true (N,), y_score (N, K)."""
    who = "top_k_accuracy"
    t = to_numpy(y_true, who, "y_true")
    s = to_numpy(y_score, who, "y_score")
    if t.ndim != 1 or s.ndim != 2 or s.shape[0] != t.shape[0]:
        raise ValueError(f"{who}: expected y_true (N,) and y_score (N, K), got {t.shape} and {s.shape}")
    if not 1 <= int(k) or t.shape[0] == 0:
        raise ValueError(f"{who}: need k >= 1 and at least one example, got k={k}, N={t.shape[0]}")
    if np.any((t < 0) | (t >= s.shape[1])) or not np.all(t == np.round(t)):
        raise ValueError(f"{who}: y_true must hold class indices in [0, {s.shape[1]})")
    k = min(int(k), s.shape[1])
    top = np.argsort(s, axis=1, kind="mergesort")[:, ::-1][:, :k]  # ties as scikit-learn
    return float(np.mean(np.any(top == t.astype(np.int64)[:, None], axis=1)))


def _positions(y, labels):
    """Index of each y in `labels` (any order), -1 where absent."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    pos = np.clip(np.searchsorted(sorted_labels, y), 0, len(labels) - 1)
    found = sorted_labels[pos] == y
    return np.where(found, order[pos], -1)


def _resolve_labels(t, p, labels, who):
    if labels is None:
        return np.unique(np.concatenate([t, p]))
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0 or np.unique(labels).size != labels.size:
        raise ValueError(f"{who}: labels must be a non-empty 1-D array of distinct values, got {labels!r}")
    return labels


def confusion_matrix(y_true, y_pred, labels=None, normalize=None):
    """C[i, j] = number of examples of true class labels[i] predicted as labels[j]; (K, K).

    labels: classes in row/column order (default: sorted union of y_true and y_pred); examples
    with other labels are ignored. normalize: None, 'true' (rows sum to 1), 'pred' or 'all'.
    """
    who = "confusion_matrix"
    t, p = check_pair(y_true, y_pred, who)
    labels = _resolve_labels(t, p, labels, who)
    k = len(labels)
    ti, pi = _positions(t, labels), _positions(p, labels)
    keep = (ti >= 0) & (pi >= 0)
    cm = np.bincount(ti[keep] * k + pi[keep], minlength=k * k).reshape(k, k).astype(np.int64)
    if normalize is None:
        return cm
    sums = {"true": cm.sum(axis=1, keepdims=True), "pred": cm.sum(axis=0, keepdims=True), "all": cm.sum()}
    if normalize not in sums:
        raise ValueError(f"{who}: normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
    return safe_divide(cm, sums[normalize], 0.0)


def precision_recall_fscore(y_true, y_pred, average="binary", labels=None, pos_label=1, zero_division=0.0):
    """(precision, recall, F1) from labels (N,); floats, or arrays (K,) with average=None.

    average: 'binary' (class pos_label only), 'macro' (unweighted mean over labels), 'micro'
    (from the summed TP/FP/FN), 'weighted' (mean weighted by support), None (per label).
    zero_division: value for 0/0 (0.0 as scikit-learn's default; the textbook's always-"no"
    detector has "perfect precision", i.e. zero_division=1.0; np.nan is skipped in averages).
    """
    who = "precision_recall_fscore"
    if average not in _AVERAGES:
        raise ValueError(f"{who}: average must be one of {_AVERAGES}, got {average!r}")
    t, p = check_pair(y_true, y_pred, who)
    if average == "binary":
        present = np.unique(np.concatenate([t, p]))
        if present.size > 2:
            raise ValueError(f"{who}: average='binary' needs at most 2 classes, got labels {present.tolist()}; "
                             "use average='macro', 'micro' or 'weighted'")
        if present.size == 2 and pos_label not in present:
            raise ValueError(f"{who}: pos_label={pos_label!r} is not one of the labels {present.tolist()}")
        labels = np.asarray([pos_label])
    else:
        labels = _resolve_labels(t, p, labels, who)
    ti, pi = _positions(t, labels), _positions(p, labels)
    k = len(labels)
    true_sum = np.bincount(ti[ti >= 0], minlength=k)
    pred_sum = np.bincount(pi[pi >= 0], minlength=k)
    tp_sum = np.bincount(ti[(ti >= 0) & (ti == pi)], minlength=k)
    if average == "micro":
        tp_sum, pred_sum, true_sum = tp_sum.sum(keepdims=True), pred_sum.sum(keepdims=True), true_sum.sum(keepdims=True)
    prec = safe_divide(tp_sum, pred_sum, zero_division)
    rec = safe_divide(tp_sum, true_sum, zero_division)
    f1 = safe_divide(2 * tp_sum, true_sum + pred_sum, zero_division)
    if average is None:
        return prec, rec, f1
    weights = true_sum if average == "weighted" else None
    return nan_average(prec, weights), nan_average(rec, weights), nan_average(f1, weights)


def precision(y_true, y_pred, average="binary", labels=None, pos_label=1, zero_division=0.0):
    """Precision TP / (TP + FP) (textbook 11.1); see `precision_recall_fscore` for the options."""
    return precision_recall_fscore(y_true, y_pred, average, labels, pos_label, zero_division)[0]


def recall(y_true, y_pred, average="binary", labels=None, pos_label=1, zero_division=0.0):
    """Recall TP / (TP + FN) (textbook 11.1); see `precision_recall_fscore` for the options."""
    return precision_recall_fscore(y_true, y_pred, average, labels, pos_label, zero_division)[1]


def f1_score(y_true, y_pred, average="binary", labels=None, pos_label=1, zero_division=0.0):
    """F-score 2pr / (p + r) = 2TP / (2TP + FP + FN) (textbook eq. 11.1); options as `precision_recall_fscore`."""
    return precision_recall_fscore(y_true, y_pred, average, labels, pos_label, zero_division)[2]
