"""Bagging and model averaging (textbook 7.11): bootstrap (W7.12), the ensemble error formula (W7.11),
arithmetic/geometric averaging, Bagging on digits and the ensembles example."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.autograd import gradcheck
from shendu.regularize import (
    Bagging,
    Ensemble,
    average,
    bootstrap_indices,
    bootstrap_sample,
    ensemble_mse,
    expected_unique_fraction,
    simulate_ensemble_mse,
)

from ._examples import load_example


def test_bootstrap_keeps_one_minus_one_over_e_of_unique_examples():
    # W7.12: 1 - (1 - 1/m)^m -> 1 - 1/e = 0.632
    assert expected_unique_fraction(2) == pytest.approx(0.75)
    assert expected_unique_fraction(100_000) == pytest.approx(1 - math.exp(-1), abs=2e-6)
    idx = bootstrap_indices(100_000, generator=0)
    assert idx.shape == (100_000,) and idx.dtype == np.int64 and idx.min() >= 0 and idx.max() < 100_000
    assert len(np.unique(idx)) / 1e5 == pytest.approx(1 - math.exp(-1), abs=0.004)
    # small m: the exact expectation, not the limit
    frac = np.mean([len(np.unique(bootstrap_indices(10, generator=g))) / 10 for g in range(3000)])
    assert frac == pytest.approx(expected_unique_fraction(10), abs=0.006)
    assert abs(expected_unique_fraction(10) - (1 - math.exp(-1))) > 0.015


def test_bootstrap_sample_pairs_rows_and_is_seeded():
    x = np.arange(20.0).reshape(10, 2).astype(np.float32)
    y = np.arange(10)
    (xs, ys), idx = bootstrap_sample(x, y, generator=1)
    assert np.array_equal(xs[:, 0] // 2, ys) and np.array_equal(ys, idx)
    (xt, yt), idx2 = bootstrap_sample(sd.tensor(x), sd.tensor(y), generator=1)
    assert np.array_equal(idx, idx2) and np.array_equal(xt.numpy(), xs) and np.array_equal(yt.numpy(), ys)
    with pytest.raises(ValueError, match="first dimension"):
        bootstrap_sample(x, y[:5])
    with pytest.raises(ValueError, match="positive int"):
        bootstrap_indices(0)


@pytest.mark.parametrize("v,c,k,expected", [(1.0, 0.3, 5, 0.44), (1.0, 0.0, 5, 0.2), (2.0, 2.0, 5, 2.0),
                                            (1.0, 0.5, 1, 1.0)])
def test_ensemble_mse_formula_and_monte_carlo(v, c, k, expected):
    # W7.11 (7.50-7.51): v/k + (k-1)c/k; c = 0 -> v/k; c = v -> no gain
    assert ensemble_mse(v, c, k) == pytest.approx(expected)
    assert simulate_ensemble_mse(v, c, k, n_samples=200_000, generator=0) == pytest.approx(expected, rel=0.02)


def test_ensemble_mse_rejects_invalid_covariance():
    with pytest.raises(ValueError, match="covariance"):
        ensemble_mse(1.0, 1.5, 3)
    with pytest.raises(ValueError, match="k"):
        ensemble_mse(1.0, 0.5, 0)


def _members(k=3, scale=2.0):
    ms = [nn.Linear(4, 3) for _ in range(k)]
    with sd.no_grad():
        for m in ms:
            m.weight.mul_(scale)
    return ms


def test_average_arithmetic_and_renormalized_geometric_mean():
    ms = _members()
    x = sd.randn(5, 4)
    ps = [sd.nn.functional.softmax(m(x), dim=-1).numpy().astype(np.float64) for m in ms]
    arith = np.mean(ps, axis=0)
    geo = np.prod(ps, axis=0) ** (1 / 3)
    geo /= geo.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(average(ms, x).numpy(), arith, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(average(ms, x, rule="geometric").numpy(), geo, rtol=1e-5, atol=1e-7)
    assert not np.allclose(arith, geo, atol=1e-4)
    # members that output probabilities or log-probabilities give the same ensemble
    pm = [nn.Sequential(m, nn.Softmax(dim=-1)) for m in ms]
    np.testing.assert_allclose(average(pm, x, inputs="probs").numpy(), arith, rtol=1e-5, atol=1e-7)
    ens = Ensemble(ms, rule="geometric")
    np.testing.assert_allclose(ens(x).numpy(), np.log(geo), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ens.predict_proba(x).numpy(), geo, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="rule"):
        average(ms, x, rule="harmonic")


@pytest.mark.parametrize("rule", ["arithmetic", "geometric"])
def test_average_gradcheck(rule):
    with sd.default_dtype(np.float64):
        ms = [nn.Linear(3, 4) for _ in range(3)]
        x = sd.randn(2, 3, requires_grad=True)
        w = ms[0].weight
        assert gradcheck(lambda x, w: average(ms, x, rule=rule), [x, w], eps=1e-6, atol=1e-6, rtol=1e-5)


def test_bagging_on_digits_beats_its_average_member():
    from shendu.data.datasets import load_digits

    (x, y), (xt, yt) = load_digits()
    bag = Bagging(lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)), k=4, generator=0)
    hist = bag.fit(x, y, epochs=6, lr=3e-3)
    assert len(bag.members) == 4 and len(hist) == 4
    # each member saw its own resample, with about 63% distinct examples
    assert len({tuple(i[:20]) for i in bag.indices}) == 4
    assert all(abs(len(np.unique(i)) / len(x) - 0.632) < 0.03 for i in bag.indices)
    bag.eval()

    def err(m):
        with sd.no_grad():
            return float((m(sd.tensor(xt)).argmax(dim=-1).numpy() != yt).mean())

    member = [err(m) for m in bag.members]
    ens = err(bag)
    assert ens <= np.mean(member) and ens < 0.1


def test_bagging_rejects_bad_arguments():
    with pytest.raises(ValueError, match="k"):
        Bagging(lambda: nn.Linear(2, 2), k=0)
    with pytest.raises(TypeError, match="make_model"):
        Bagging(nn.Linear(2, 2), k=2)
    with pytest.raises(ValueError, match="no members"):
        Bagging(lambda: nn.Linear(2, 2), k=2)(sd.randn(1, 2))


def test_ensembles_example_quick_bagging_not_worse_than_members(tmp_path):
    out = tmp_path / "ens.png"
    res = load_example("ensembles").main(["--quick", "--k", "4", "--out", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and len(res["curve"]) == 4
    assert res["ensemble_error"] <= res["mean_member_error"]
    assert res["ensemble_error"] < 0.1
    assert abs(res["unique_fraction"] - 0.632) < 0.02


def test_adaboost_builds_a_higher_capacity_ensemble_from_weak_networks():
    # textbook 7.11: boosting (unlike bagging) raises capacity; SAMME over 3-hidden-unit MLPs on digits
    from shendu.data.datasets import load_digits
    from shendu.regularize import AdaBoost

    (x, y), (xt, yt) = load_digits()
    boost = AdaBoost(lambda: nn.Sequential(nn.Linear(64, 3), nn.ReLU(), nn.Linear(3, 10)), k=6, generator=0)
    errs = boost.fit(x, y, epochs=5, lr=1e-2)
    assert len(boost.members) == len(boost.alphas) >= 4
    # votes: alpha_m = log((1 - err)/err) + log(K - 1) for the members kept
    np.testing.assert_allclose(boost.alphas, [math.log((1 - e) / e) + math.log(9) for e in errs[:len(boost.alphas)]])
    boost.eval()

    def err(m, a, b):
        with sd.no_grad():
            return float((m(sd.tensor(a)).argmax(dim=-1).numpy() != b).mean())

    members_train = [err(m, x, y) for m in boost.members]
    assert errs[0] == pytest.approx(members_train[0], abs=1e-9)  # first member: uniform weights
    assert err(boost, x, y) < min(members_train) - 0.1  # lower training error than any member: more capacity
    assert err(boost, xt, yt) < min(err(m, xt, yt) for m in boost.members) - 0.1
    scores = boost(sd.tensor(xt[:5])).numpy()
    assert scores.shape == (5, 10) and scores.sum(axis=1) == pytest.approx(sum(boost.alphas))
    with pytest.raises(ValueError, match="no members"):
        AdaBoost(lambda: nn.Linear(2, 2), k=2)(sd.randn(1, 2))
