"""Coverage at a target accuracy (textbook 11.1), against a brute-force threshold search."""
import numpy as np
import pytest

from shendu.metrics import accuracy_at_coverage, coverage


def _brute_coverage(probs, y, target):
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    best = 0.0
    for thr in np.unique(conf):
        answered = conf >= thr
        if (pred[answered] == y[answered]).mean() >= target:
            best = max(best, answered.mean())
    return best


def _probs(seed, n=200, k=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[y]
    logits = np.round(logits, 1)  # create confidence ties
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return p, y


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("target", [0.5, 0.8, 0.95, 1.0])
def test_coverage_matches_brute_force(seed, target):
    p, y = _probs(seed)
    assert coverage(p, y, target) == pytest.approx(_brute_coverage(p, y, target))


def test_coverage_threshold_and_accuracy_at_coverage_agree():
    p, y = _probs(5)
    cov, thr = coverage(p, y, 0.9, return_threshold=True)
    answered = p.max(axis=1) >= thr
    assert answered.mean() == pytest.approx(cov)
    assert (p.argmax(axis=1)[answered] == y[answered]).mean() >= 0.9
    assert accuracy_at_coverage(p, y, cov) >= 0.9
    assert accuracy_at_coverage(p, y, 1.0) == pytest.approx((p.argmax(axis=1) == y).mean())
    assert accuracy_at_coverage(p, y, 0.0) == 1.0


def test_coverage_street_view_style_example():
    # 100 examples: the 95 most confident are 97.9% correct, the 5 least confident are all wrong
    conf = np.linspace(0.99, 0.55, 100)
    y = np.zeros(100, dtype=int)
    pred = np.zeros(100, dtype=int)
    pred[[10, 50]] = 1  # 2 mistakes among the first 95: 93/95 = 0.9789
    pred[95:] = 1
    probs = np.where(pred[:, None] == np.arange(2), conf[:, None], (1 - conf)[:, None])
    assert coverage(probs, y, 0.978) == pytest.approx(0.95)
    assert coverage(probs, y, 0.98) == pytest.approx(0.50)  # first 50: 49/50 = 98%
    assert coverage(probs, y, 1.0) == pytest.approx(0.10)
    # binary probabilities P(y=1|x) give the same answer
    assert coverage(probs[:, 1], y, 0.978) == pytest.approx(0.95)


def test_coverage_nothing_reaches_target_and_errors():
    p = np.array([[0.9, 0.1], [0.8, 0.2]])
    assert coverage(p, [1, 1], 0.5, return_threshold=True) == (0.0, float("inf"))
    with pytest.raises(ValueError, match="target_accuracy"):
        coverage(p, [0, 1], 1.5)
    with pytest.raises(ValueError, match="same N"):
        coverage(p, [0, 1, 1], 0.5)
