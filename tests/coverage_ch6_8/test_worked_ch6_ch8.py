"""Worked vectors W6.2, W6.3, W6.4, W8.16, W8.17; random-walk init (8.24); sparse coding by alternating
minimisation (8.52, eq. 8.38)."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim
from shendu.nn import distributions as D
from shendu.nn.random_walk import random_walk_gain, random_walk_init


def test_w6_2_least_squares_on_xor_gives_w_0_b_half():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    Xb = sd.tensor(np.hstack([X, np.ones((4, 1))]))
    theta = sd.linalg.pinv(Xb) @ sd.tensor(y)  # normal equations (X^T X)^{-1} X^T y
    np.testing.assert_allclose(theta.numpy()[:, 0], [0.0, 0.0, 0.5], atol=1e-12)
    theta2 = sd.linalg.solve(Xb.T @ Xb, Xb.T @ sd.tensor(y))
    np.testing.assert_allclose(theta2.numpy()[:, 0], [0.0, 0.0, 0.5], atol=1e-12)
    np.testing.assert_allclose((Xb @ theta).numpy(), 0.5, atol=1e-12)  # the linear model outputs 0.5 everywhere


@pytest.mark.parametrize("loss, target", [("mse", 13 / 3), ("mae", 2.0)])
def test_w6_3_constant_predictor_mse_gives_the_mean_mae_the_median(loss, target):
    y = sd.tensor(np.array([1.0, 2.0, 10.0]))
    c = sd.tensor(np.array([0.0]), requires_grad=True)
    opt = optim.SGD([c], lr=0.2 if loss == "mse" else 0.05)
    fn = nn.functional.mse_loss if loss == "mse" else nn.functional.l1_loss
    for i in range(600):
        if loss == "mae" and i == 400:
            opt.param_groups[0]["lr"] = 0.002
        opt.zero_grad()
        fn(c.expand((3,)), y).backward()
        opt.step()
    assert c.numpy()[0] == pytest.approx(target, abs=5e-3)


def test_w6_4_identity_gaussian_nll_and_learned_variance_diverges_on_one_point():
    rng = np.random.default_rng(0)
    y, yhat = rng.normal(size=5), rng.normal(size=5)
    nll = -D.Normal(sd.tensor(yhat), sd.tensor(np.ones(5))).log_prob(sd.tensor(y)).sum().item()
    assert nll == pytest.approx(0.5 * np.sum((y - yhat) ** 2) + 2.5 * math.log(2 * math.pi), rel=1e-12)
    full = nn.functional.gaussian_nll_loss(sd.tensor(yhat), sd.tensor(y), sd.tensor(np.ones(5)), full=True,
                                           reduction="sum").item()
    assert full == pytest.approx(nll, rel=1e-12)
    # one training point, learned mean and log sigma: the NLL has no lower bound (-> -inf as sigma -> 0)
    mu = sd.tensor(np.array([0.0]), requires_grad=True)
    log_s = sd.tensor(np.array([0.0]), requires_grad=True)
    opt = optim.Adam([mu, log_s], lr=0.1)
    vals = []
    for _ in range(300):
        opt.zero_grad()
        loss = -D.Normal(mu, log_s.exp()).log_prob(sd.tensor(np.array([1.5]))).sum()
        loss.backward()
        opt.step()
        vals.append(loss.item())
    assert vals[-1] < -3 and vals[-1] < vals[-100] - 1  # still falling: no minimum
    assert mu.numpy()[0] == pytest.approx(1.5, abs=1e-3)
    for k in (1, 5, 10, 20):  # at mu = y: NLL = log sigma + log(2 pi) / 2, unbounded below
        s = 10.0 ** -k
        val = -D.Normal(sd.tensor(np.array([1.5])), sd.tensor(np.array([s]))).log_prob(
            sd.tensor(np.array([1.5]))).item()
        assert val == pytest.approx(math.log(s) + 0.5 * math.log(2 * math.pi), rel=1e-12)


def test_w8_16_batchnorm_motivating_chain():
    w = sd.tensor(np.array([2.0, 2.0, 2.0]), requires_grad=True)
    yhat = w[0] * w[1] * w[2]  # x = 1
    yhat.backward()
    g = w.grad.numpy()
    np.testing.assert_allclose(g, [4.0, 4.0, 4.0])
    gg = float(g @ g)
    assert yhat.item() == 8.0 and gg == 48.0
    # (the notes swap the eps = 0.05 figures: new y = 1.8^3 = 5.832, a decrease of 2.168 vs 2.4 predicted)
    for eps, new in ((0.1 / gg, 7.9004161), (0.05, 5.832)):
        w2 = w.numpy() - eps * g
        assert float(np.prod(w2)) == pytest.approx(new, abs=1e-6)  # first order predicts 8 - eps g'g
    assert 8 - np.prod(w.numpy() - 0.1 / gg * g) == pytest.approx(0.0995839, abs=1e-7)


def test_w8_17_batchnorm_of_the_worked_matrix():
    H = sd.tensor(np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]], np.float32))
    bn = nn.BatchNorm1d(2, eps=1e-8, affine=False)
    out = bn(H).numpy()
    col = np.array([-1.22474487, 0.0, 1.22474487])
    np.testing.assert_allclose(out, np.stack([col, col], 1), atol=1e-6)
    np.testing.assert_allclose(np.sqrt(((H.numpy() - H.numpy().mean(0)) ** 2).mean(0)), [1.63299316, 3.26598633],
                               rtol=1e-6)


def _log_gain(kind, init, N, L, runs=30):
    out = []
    for r in range(runs):
        sd.manual_seed(r)
        layers = []
        for _ in range(L):
            layers += [nn.Linear(N, N)] + ([nn.ReLU()] if kind == "relu" else [])
        m = nn.Sequential(*layers)
        if init == "random_walk":
            random_walk_init(m, kind)
        else:  # variance-preserving scale without the random-walk correction (LeCun / He)
            for layer in m:
                if isinstance(layer, nn.Linear):
                    nn.init.normal_(layer.weight, 0, math.sqrt((2.0 if kind == "relu" else 1.0) / N))
                    nn.init.zeros_(layer.bias)
        x = np.random.default_rng(r).normal(size=(1, N)).astype(np.float32)
        out.append(np.log(np.linalg.norm(m(sd.tensor(x)).numpy()) / np.linalg.norm(x)))
    return float(np.mean(out))


def test_8_24_sussillo_random_walk_init_keeps_log_norm_drift_near_zero():
    assert random_walk_gain(10) == pytest.approx(math.exp(0.05))
    assert random_walk_gain(10, "relu") == pytest.approx(math.sqrt(2) * math.exp(1.2 / 7.6))
    # 100 layers: log ||h_L|| / ||h_0|| drifts by about -L / (2N) with g = 1 (or sqrt 2), ~0 with random walk g
    assert abs(_log_gain("linear", "random_walk", 10, 100)) < 1.2
    assert _log_gain("linear", "plain", 10, 100) < -4.0
    assert abs(_log_gain("relu", "random_walk", 20, 100)) < 1.2
    assert _log_gain("relu", "plain", 20, 100) < -5.0
    with pytest.raises(ValueError, match="random_walk_gain"):
        random_walk_gain(10, "tanh")


def test_8_52_sparse_coding_alternating_minimisation_decreases_j_and_finds_sparse_codes():
    rng = np.random.default_rng(0)
    W_true = rng.normal(size=(8, 20))
    W_true /= np.linalg.norm(W_true, axis=1, keepdims=True)
    H_true = rng.normal(size=(200, 8)) * (rng.random((200, 8)) < 0.25)
    X = sd.tensor(H_true @ W_true)
    H, W, hist = optim.sparse_coding(X, 8, lam=0.2, n_iter=100, seed=1)
    assert all(b <= a + 1e-9 for a, b in zip(hist, hist[1:]))  # each block step lowers J (8.38)
    assert hist[-1] < 0.2 * hist[0]
    Hn, Wn = H.numpy(), W.numpy()
    assert np.mean(np.abs(Hn) < 1e-12) > 0.7  # sparse codes (the true ones are 75 % zeros)
    rel = np.linalg.norm(Hn @ Wn - X.numpy()) / np.linalg.norm(X.numpy())
    assert rel < 0.15
    assert np.all(np.abs(Wn @ W_true.T).max(axis=1) > 0.95)  # every learned atom matches a true one
    assert np.all(np.linalg.norm(Wn, axis=1) <= 1 + 1e-9)
    assert optim.sparse_coding_objective(X, H, W, 0.2) == pytest.approx(hist[-1], rel=1e-9)
    # the literal 8.38 with exact least squares for W also decreases J monotonically
    _, _, hist2 = optim.sparse_coding(X, 8, lam=0.05, n_iter=10, max_norm=None, seed=1)
    assert all(b <= a + 1e-9 for a, b in zip(hist2, hist2[1:]))
    with pytest.raises(ValueError, match="sparse_coding"):
        optim.sparse_coding(sd.tensor(np.ones(3)), 2)
