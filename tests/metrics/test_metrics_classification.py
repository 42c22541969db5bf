"""Classification metrics against scikit-learn."""
import numpy as np
import pytest
from sklearn import metrics as skm

from shendu.metrics import (
    accuracy,
    confusion_matrix,
    f1_score,
    precision,
    precision_recall_fscore,
    recall,
    top_k_accuracy,
)

CASES = [(seed, k, n) for seed, k, n in [(0, 2, 30), (1, 3, 50), (2, 5, 40), (3, 4, 7)]]


def _labels(seed, k, n):
    rng = np.random.default_rng(seed)
    return rng.integers(0, k, n), rng.integers(0, k, n)


@pytest.mark.parametrize("seed,k,n", CASES)
def test_accuracy_and_confusion_matrix(seed, k, n):
    t, p = _labels(seed, k, n)
    assert accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    np.testing.assert_array_equal(confusion_matrix(t, p), skm.confusion_matrix(t, p))
    for norm in ("true", "pred", "all"):
        np.testing.assert_allclose(confusion_matrix(t, p, normalize=norm), skm.confusion_matrix(t, p, normalize=norm))


def test_accuracy_from_scores_onehot_and_tensors():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy([1, 0, 0], scores) == pytest.approx(2 / 3)
    assert accuracy(np.eye(2)[[1, 0, 0]], scores) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="ambiguous"):
        accuracy([1, 0, 0], scores[:, :1])
    with pytest.raises(ValueError, match="different lengths 3 and 2"):
        accuracy([1, 0, 0], [1, 0])
    sd = pytest.importorskip("shendu")
    if hasattr(sd, "as_tensor"):
        assert accuracy(sd.as_tensor(np.array([1, 0, 0])), sd.as_tensor(scores)) == pytest.approx(2 / 3)


def test_confusion_matrix_labels_order_and_class_never_predicted():
    t = np.array([2, 0, 2, 2, 0, 1])
    p = np.array([0, 0, 2, 2, 0, 0])  # class 1 never predicted
    labels = [2, 0, 1, 5]
    np.testing.assert_array_equal(confusion_matrix(t, p, labels=labels), skm.confusion_matrix(t, p, labels=labels))
    np.testing.assert_array_equal(confusion_matrix(t, p, labels=[0, 2]), skm.confusion_matrix(t, p, labels=[0, 2]))


@pytest.mark.parametrize("seed,k,n", CASES)
@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
@pytest.mark.parametrize("zero_division", [0.0, 1.0])
def test_prf_multiclass(seed, k, n, average, zero_division):
    t, p = _labels(seed, k, n)
    p = np.where(p == k - 1, 0, p)  # class k-1 never predicted: 0/0 precision
    ours = precision_recall_fscore(t, p, average=average, zero_division=zero_division)
    ref = skm.precision_recall_fscore_support(t, p, average=average, zero_division=zero_division)[:3]
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(f1_score(t, p, average=average, zero_division=zero_division),
                               skm.f1_score(t, p, average=average, zero_division=zero_division))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_prf_binary_and_pos_label(seed):
    t, p = _labels(seed, 2, 25)
    assert precision(t, p) == pytest.approx(skm.precision_score(t, p))
    assert recall(t, p) == pytest.approx(skm.recall_score(t, p))
    assert f1_score(t, p) == pytest.approx(skm.f1_score(t, p))
    assert f1_score(t, p, pos_label=0) == pytest.approx(skm.f1_score(t, p, pos_label=0))
    ts, ps = np.where(t == 1, 7, 3), np.where(p == 1, 7, 3)
    assert recall(ts, ps, pos_label=7) == pytest.approx(skm.recall_score(ts, ps, pos_label=7))


def test_prf_nan_zero_division_and_labels_subset():
    t = np.array([0, 1, 2, 2, 1, 0])
    p = np.array([0, 0, 0, 2, 0, 0])
    for avg in ("macro", "weighted", None):
        np.testing.assert_allclose(precision(t, p, average=avg, zero_division=np.nan),
                                   skm.precision_score(t, p, average=avg, zero_division=np.nan))
    np.testing.assert_allclose(recall(t, p, average="macro", labels=[1, 2]),
                               skm.recall_score(t, p, average="macro", labels=[1, 2]))
    np.testing.assert_allclose(f1_score(t, p, average="micro", labels=[0, 2]),
                               skm.f1_score(t, p, average="micro", labels=[0, 2]))


def test_rare_disease_textbook_vectors():
    # 1 sick person in a million (textbook 11.1)
    n = 1_000_000
    t = np.zeros(n, dtype=np.int64)
    t[123] = 1
    never = np.zeros(n, dtype=np.int64)
    assert accuracy(t, never) == pytest.approx(0.999999)
    assert recall(t, never) == 0.0
    assert precision(t, never, zero_division=1.0) == 1.0  # the book calls this "perfect precision"
    always = np.ones(n, dtype=np.int64)
    assert recall(t, always) == 1.0 and precision(t, always) == pytest.approx(1e-6)
    # F = 2pr / (p + r) (eq. 11.1), worked values from the notes
    t2, p2 = np.array([1, 1, 0, 0, 1]), np.array([1, 1, 1, 1, 1])  # p = 0.6, r = 1
    assert f1_score(t2, p2) == pytest.approx(2 * 0.6 / 1.6)


def test_binary_average_errors():
    with pytest.raises(ValueError, match="average='binary' needs at most 2 classes"):
        f1_score([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="pos_label=1 is not one of"):
        precision([3, 7], [3, 7])
    with pytest.raises(ValueError, match="average must be one of"):
        recall([0, 1], [0, 1], average="samples")


@pytest.mark.parametrize("seed,k", [(0, 5), (1, 10), (2, 3)])
def test_top_k_accuracy(seed, k):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(60, k))
    scores[:5] = np.round(scores[:5])  # some ties
    t = rng.integers(0, k, 60)
    for kk in (1, 2, k - 1):
        assert top_k_accuracy(t, scores, k=kk) == pytest.approx(
            skm.top_k_accuracy_score(t, scores, k=kk, labels=np.arange(k)))
    # without ties top-1 is the argmax accuracy (with ties scikit-learn ranks the later class first)
    assert top_k_accuracy(t[5:], scores[5:], k=1) == pytest.approx(accuracy(t[5:], scores[5:]))
    assert top_k_accuracy(t, scores, k=k) == 1.0
