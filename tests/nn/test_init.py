"""Statistical tests of the initializers: mean, variance and bounds match their formulas (textbook 8.4)."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.nn import init

SHAPE = (300, 400)  # fan_out = 300, fan_in = 400; 120,000 draws


def _w(shape=SHAPE, dtype=np.float64):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


def _close(got, want, rel=0.03):
    assert abs(got - want) <= rel * abs(want), (got, want)


def test_constant_zeros_ones_eye():
    assert (init.constant_(_w((3, 4)), 0.1).numpy() == 0.1).all()
    assert (init.ones_(_w((3, 4))).numpy() == 1).all()
    assert (init.zeros_(nn.Parameter(np.ones((3, 4)))).numpy() == 0).all()
    np.testing.assert_array_equal(init.eye_(_w((3, 4))).numpy(), np.eye(3, 4))


def test_uniform_and_normal_moments():
    w = init.uniform_(_w(), -2.0, 1.0).numpy()
    assert w.min() >= -2 and w.max() <= 1
    _close(w.mean() + 10, -0.5 + 10, 0.002)
    _close(w.var(), 9 / 12)
    w = init.normal_(_w(), 1.5, 0.3).numpy()
    _close(w.mean(), 1.5, 0.01)
    _close(w.std(), 0.3, 0.01)


def test_trunc_normal_cut_at_two_std():
    w = init.trunc_normal_(_w(), 0.0, 0.5).numpy()
    assert np.abs(w).max() <= 1.0
    assert abs(w.mean()) < 0.01
    # variance of N(0, s^2) truncated at +-2s is s^2 (1 - 2*2*phi(2)/(2 Phi(2) - 1))
    phi2 = math.exp(-2) / math.sqrt(2 * math.pi)
    z = math.erf(2 / math.sqrt(2))
    _close(w.var(), 0.25 * (1 - 4 * phi2 / z))
    w = init.trunc_normal_(_w((1000,)), 0.0, 1.0, a=-0.5, b=1.0).numpy()
    assert w.min() >= -0.5 and w.max() <= 1.0


def test_inverse_sqrt_normal_seeds():
    _close(init.inverse_sqrt_normal_(_w()).numpy().var(), 1 / 400)


def test_xavier_uniform_and_normal():
    a = math.sqrt(6 / 700)
    w = init.xavier_uniform_(_w()).numpy()
    assert np.abs(w).max() <= a and np.abs(w).max() > 0.99 * a
    _close(w.var(), a * a / 3)  # = 2 / (n_in + n_out)
    w = init.xavier_normal_(_w(), gain=2.0).numpy()
    _close(w.var(), 4 * 2 / 700)


def test_kaiming_uniform_and_normal():
    w = init.kaiming_uniform_(_w(), nonlinearity="relu").numpy()
    b = math.sqrt(2) * math.sqrt(3 / 400)
    assert np.abs(w).max() <= b
    _close(w.var(), 2 / 400)
    w = init.kaiming_normal_(_w(), mode="fan_out", nonlinearity="relu").numpy()
    _close(w.var(), 2 / 300)
    w = init.kaiming_normal_(_w((64, 16, 3, 3)), nonlinearity="relu").numpy()  # conv: fan_in = 16*9
    _close(w.var(), 2 / 144)
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(_w(), mode="fan")


def test_orthogonal_with_gain():
    for shape in [(20, 30), (30, 20), (8, 4, 3)]:
        w = init.orthogonal_(_w(shape), gain=1.5).numpy().reshape(shape[0], -1)
        if w.shape[0] <= w.shape[1]:
            np.testing.assert_allclose(w @ w.T, 2.25 * np.eye(w.shape[0]), atol=1e-10)
        else:
            np.testing.assert_allclose(w.T @ w, 2.25 * np.eye(w.shape[1]), atol=1e-10)


def test_sparse_k_nonzero_per_unit():
    w = init.sparse_(_w((50, 40)), k=5, std=1.0).numpy()
    assert ((w != 0).sum(axis=1) == 5).all()
    w = init.sparse_(_w((50, 40)), sparsity=0.2).numpy()
    assert ((w == 0).sum(axis=0) >= 10).all()
    with pytest.raises(ValueError, match="k="):
        init.sparse_(_w((5, 4)), k=9)


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("foo")


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for nl in ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu", "conv2d"):
        assert init.calculate_gain(nl) == pytest.approx(torch.nn.init.calculate_gain(nl))


def test_inits_keep_dtype_seed_and_bump_version():
    p = _w((4, 5), np.float32)
    v = p._version
    init.xavier_uniform_(p)
    assert p.dtype == sd.float32 and p._version > v
    sd.manual_seed(3)
    a = init.normal_(_w((4, 5))).numpy().copy()
    sd.manual_seed(3)
    np.testing.assert_array_equal(init.normal_(_w((4, 5))).numpy(), a)
    with pytest.raises(ValueError, match="at least 2"):
        init.xavier_uniform_(_w((5,)))
