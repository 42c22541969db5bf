"""PR curve, average precision, ROC curve and ROC AUC against scikit-learn."""
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from shendu.metrics import average_precision, precision_recall_curve, roc_auc_score, roc_curve


def _binary(seed, n=60, ties=False):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    s = rng.uniform(size=n) + 0.3 * t
    if ties:
        s = np.round(s, 1)
    return t, s


def _sk(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.mark.parametrize("seed,ties", [(0, False), (1, True), (2, True), (3, False)])
def test_curves_match_sklearn(seed, ties):
    t, s = _binary(seed, ties=ties)
    for ours, ref in zip(precision_recall_curve(t, s), skm.precision_recall_curve(t, s)):
        np.testing.assert_allclose(ours, ref, rtol=1e-12)
    for drop in (True, False):
        for ours, ref in zip(roc_curve(t, s, drop_intermediate=drop), skm.roc_curve(t, s, drop_intermediate=drop)):
            np.testing.assert_allclose(ours, ref, rtol=1e-12)
    assert average_precision(t, s) == pytest.approx(skm.average_precision_score(t, s), rel=1e-12)
    assert roc_auc_score(t, s) == pytest.approx(skm.roc_auc_score(t, s), rel=1e-12)


def test_pos_label_and_label_sets():
    t, s = _binary(4)
    tm = np.where(t == 1, 1, -1)
    np.testing.assert_allclose(roc_curve(tm, s)[1], skm.roc_curve(tm, s)[1])
    ts = np.where(t == 1, 5, 2)
    for ours, ref in zip(precision_recall_curve(ts, s, pos_label=2), skm.precision_recall_curve(ts, s, pos_label=2)):
        np.testing.assert_allclose(ours, ref)
    with pytest.raises(ValueError, match="pass pos_label"):
        roc_curve(ts, s)
    with pytest.raises(ValueError, match="must be binary"):
        roc_curve([0, 1, 2], [0.1, 0.2, 0.3], pos_label=1)


def test_degenerate_labels():
    s = np.array([0.2, 0.4, 0.4, 0.9])
    allneg = np.zeros(4, dtype=int)
    for ours, ref in zip(precision_recall_curve(allneg, s), _sk(skm.precision_recall_curve, allneg, s)):
        np.testing.assert_allclose(ours, ref)
    fpr, tpr, _ = roc_curve(allneg, s)
    assert np.all(np.isnan(tpr)) and fpr[-1] == 1.0
    with pytest.raises(ValueError, match="only one class"):
        roc_auc_score(allneg, s)
    assert average_precision(allneg, s) == pytest.approx(_sk(skm.average_precision_score, allneg, s))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
def test_multiclass_one_vs_rest(seed, average):
    rng = np.random.default_rng(seed)
    k = 4
    t = rng.integers(0, k, 80)
    logits = rng.normal(size=(80, k)) + 1.5 * np.eye(k)[t]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    ind = np.eye(k)[t]
    np.testing.assert_allclose(average_precision(t, p, average=average),
                               skm.average_precision_score(ind, p, average=average), rtol=1e-12)
    if average != "micro":
        np.testing.assert_allclose(roc_auc_score(t, p, average=average),
                                   skm.roc_auc_score(t, p, multi_class="ovr", average=average), rtol=1e-12)
    np.testing.assert_allclose(roc_auc_score(ind, p, average=average),
                               skm.roc_auc_score(ind, p, average=average), rtol=1e-12)


def test_ranking_input_errors():
    with pytest.raises(ValueError, match="same shape"):
        roc_curve([0, 1], [0.5])
    with pytest.raises(ValueError, match="NaN"):
        average_precision([0, 1], [0.5, np.nan])
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        roc_auc_score([0, 3], np.ones((2, 3)))
