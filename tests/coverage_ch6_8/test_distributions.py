"""nn.distributions (Textbook 6.2.1.1, 6.2.2.x, 6.2.2.4; notes A.5.5), reference-class logits (6.15), W6.7."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim
from shendu.autograd.gradcheck import gradcheck
from shendu.nn import distributions as D


def _t(a, grad=False):
    return sd.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_log_prob_and_entropy_gradcheck_float64():
    rng = np.random.default_rng(0)
    z, y = _t(rng.normal(size=(4, 3)), True), _t(rng.integers(0, 2, size=(4, 3)).astype(float))
    assert gradcheck(lambda z: D.Bernoulli(logits=z).log_prob(y), (z,))
    assert gradcheck(lambda z: D.Bernoulli(logits=z).entropy(), (z,))
    cls = rng.integers(0, 3, size=4)
    assert gradcheck(lambda z: D.Categorical(logits=z).log_prob(cls), (z,))
    assert gradcheck(lambda z: D.Categorical(logits=z).entropy(), (z,))
    mu, s = _t(rng.normal(size=(4, 3)), True), _t(rng.uniform(0.5, 2, size=(4, 3)), True)
    yv = _t(rng.normal(size=(4, 3)))
    assert gradcheck(lambda m, s: D.Normal(m, s).log_prob(yv), (mu, s))
    L = np.tril(rng.normal(size=(2, 3, 3)) * 0.3) + np.eye(3) * 1.5
    Lt, m2 = _t(L, True), _t(rng.normal(size=(2, 3)), True)
    y2 = _t(rng.normal(size=(2, 3)))
    assert gradcheck(lambda m, L: D.MultivariateNormal(m, scale_tril=L).log_prob(y2), (m2, Lt))


def test_match_torch_distributions_forward_and_backward():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    z = rng.normal(size=(5, 4))
    cls = rng.integers(0, 4, size=5)
    zs, zt = _t(z, True), torch.tensor(z, requires_grad=True)
    lp = D.Categorical(logits=zs).log_prob(cls)
    lt = torch.distributions.Categorical(logits=zt).log_prob(torch.tensor(cls))
    np.testing.assert_allclose(lp.numpy(), lt.detach().numpy(), rtol=1e-10)
    (lp.sum() + D.Categorical(logits=zs).entropy().sum()).backward()
    (lt.sum() + torch.distributions.Categorical(logits=zt).entropy().sum()).backward()
    np.testing.assert_allclose(zs.grad.numpy(), zt.grad.numpy(), rtol=1e-9, atol=1e-12)
    y = rng.integers(0, 2, size=(5, 4)).astype(float)
    np.testing.assert_allclose(D.Bernoulli(logits=_t(z)).log_prob(y).numpy(),
                               torch.distributions.Bernoulli(logits=torch.tensor(z)).log_prob(torch.tensor(y)).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(D.Bernoulli(logits=_t(z)).entropy().numpy(),
                               torch.distributions.Bernoulli(logits=torch.tensor(z)).entropy().numpy(), rtol=1e-10)
    s = rng.uniform(0.5, 2, size=(5, 4))
    np.testing.assert_allclose(D.Normal(_t(z), _t(s)).log_prob(y).numpy(),
                               torch.distributions.Normal(torch.tensor(z), torch.tensor(s)).log_prob(
                                   torch.tensor(y)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(D.Normal(_t(z), _t(s)).entropy().numpy(),
                               torch.distributions.Normal(torch.tensor(z), torch.tensor(s)).entropy().numpy(),
                               rtol=1e-10)
    L = np.tril(rng.normal(size=(5, 4, 4)) * 0.3) + np.eye(4) * 1.2
    got = D.MultivariateNormal(_t(z), scale_tril=_t(L)).log_prob(y).numpy()
    ref = torch.distributions.MultivariateNormal(torch.tensor(z), scale_tril=torch.tensor(L)).log_prob(
        torch.tensor(y)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    np.testing.assert_allclose(D.MultivariateNormal(_t(z), scale_tril=_t(L)).entropy().numpy(),
                               torch.distributions.MultivariateNormal(torch.tensor(z), scale_tril=torch.tensor(
                                   L)).entropy().numpy(), rtol=1e-9)
    cov = L @ np.swapaxes(L, -1, -2)
    got2 = D.MultivariateNormal(_t(z), covariance_matrix=_t(cov)).log_prob(y).numpy()
    np.testing.assert_allclose(got2, ref, rtol=1e-8)


def test_samples_have_the_right_moments():
    sd.manual_seed(0)
    p = np.array([0.2, 0.3, 0.5])
    c = D.Categorical(probs=_t(p)).sample((20000,)).numpy()
    assert c.dtype == np.int64 and c.shape == (20000,)
    np.testing.assert_allclose(np.bincount(c, minlength=3) / 20000, p, atol=0.015)
    b = D.Bernoulli(probs=_t([0.1, 0.9])).sample((20000,)).numpy()
    np.testing.assert_allclose(b.mean(0), [0.1, 0.9], atol=0.01)
    n = D.Normal(_t([1.0, -2.0]), _t([0.5, 2.0])).sample((20000,)).numpy()
    np.testing.assert_allclose(n.mean(0), [1, -2], atol=0.05)
    np.testing.assert_allclose(n.std(0), [0.5, 2.0], rtol=0.03)
    L = np.array([[1.0, 0.0], [0.8, 0.6]])
    m = D.MultivariateNormal(_t([0.0, 1.0]), scale_tril=_t(L)).sample((20000,)).numpy()
    np.testing.assert_allclose(np.cov(m.T), L @ L.T, atol=0.05)
    np.testing.assert_allclose(m.mean(0), [0, 1], atol=0.03)


def test_errors_name_the_distribution():
    with pytest.raises(ValueError, match="Bernoulli"):
        D.Bernoulli()
    with pytest.raises(TypeError, match="Categorical.log_prob"):
        D.Categorical(logits=_t([[0.0, 1.0]])).log_prob(np.array([0.5]))
    with pytest.raises(ValueError, match="DistributionHead"):
        D.DistributionHead(2, 2, kind="poisson")
    with pytest.raises(ValueError, match="MultivariateNormal"):
        D.MultivariateNormal(_t([0.0, 0.0]), scale_tril=_t(np.eye(3)))


def test_gaussian_heads_start_at_unit_variance_8_29():
    x = sd.tensor(np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32))
    for kind in ("normal", "multivariate_normal"):
        d = D.DistributionHead(4, 3, kind=kind)(x)
        var = d.variance.numpy() if kind == "normal" else d.covariance_matrix.numpy()
        target = np.ones((6, 3)) if kind == "normal" else np.broadcast_to(np.eye(3), (6, 3, 3))
        np.testing.assert_allclose(var, target, atol=1e-6)


def test_full_covariance_head_learns_input_dependent_correlation():
    # y = eps @ L(x)^T with L(x) = [[1, 0], [2x, 0.5]]: correlation sign flips with x (heteroscedastic, 6.2.2.4)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(512, 1)).astype(np.float32)
    eps = rng.normal(size=(512, 2)).astype(np.float32)
    y = np.stack([eps[:, 0], 2 * x[:, 0] * eps[:, 0] + 0.5 * eps[:, 1]], 1).astype(np.float32)
    sd.manual_seed(0)
    head = D.DistributionHead(1, 2, kind="multivariate_normal")
    opt = optim.Adam(head.parameters(), lr=0.05)
    xt, yt = sd.tensor(x), sd.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        loss = head(xt).nll(yt)
        loss.backward()
        opt.step()
    cov = head(sd.tensor(np.array([[-0.8], [0.8]], np.float32))).covariance_matrix.numpy()
    assert cov[0, 0, 1] < -1.0 and cov[1, 0, 1] > 1.0  # true +-1.6
    true_nll = -np.mean(-0.5 * (eps ** 2).sum(1) - np.log(0.5) - math.log(2 * math.pi))
    assert float(loss.item()) < true_nll + 0.1


def test_categorical_head_fits_class_frequencies_w6_8():
    # W6.8 (6.31): unregularised ML softmax on a constant input matches the empirical frequencies 0.2/0.3/0.5
    y = np.array([0] * 20 + [1] * 30 + [2] * 50)
    x = sd.tensor(np.ones((100, 1), np.float32))
    sd.manual_seed(0)
    head = D.DistributionHead(1, 3, kind="categorical")
    opt = optim.SGD(head.parameters(), lr=1.0)
    for _ in range(300):
        opt.zero_grad()
        loss = head(x).nll(y)
        loss.backward()
        opt.step()
    np.testing.assert_allclose(head(x).probs.numpy()[0], [0.2, 0.3, 0.5], atol=2e-3)


def test_reference_class_logits_6_15_and_w6_7():
    z = _t([[0.3, -1.2], [2.0, 0.5]], True)
    full = D.reference_class_logits(z)
    assert full.shape == (2, 3)
    np.testing.assert_array_equal(full.numpy()[:, 2], 0.0)
    assert gradcheck(lambda z: nn.functional.softmax(D.reference_class_logits(z), dim=-1), (z,))
    # W6.7: softmax(z + c) = softmax(z), so n logits -> n-1 free ones loses nothing
    w = np.array([[0.3, -1.2, 0.7], [2.0, 0.5, -3.0]])
    free = _t(w[:, :2] - w[:, 2:])
    np.testing.assert_allclose(nn.functional.softmax(D.reference_class_logits(free), dim=-1).numpy(),
                               nn.functional.softmax(_t(w), dim=-1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(nn.functional.softmax(_t(w) + 123.0, dim=-1).numpy(),
                               nn.functional.softmax(_t(w), dim=-1).numpy(), rtol=1e-10)
    # 2 classes with z_2 = 0: softmax([z, 0])_0 = sigma(z)
    zz = _t([[-3.0], [0.0], [0.7], [5.0]])
    np.testing.assert_allclose(nn.functional.softmax(D.reference_class_logits(zz), dim=-1).numpy()[:, 0],
                               zz.sigmoid().numpy()[:, 0], rtol=1e-12)
    layer = D.ReferenceClassLinear(4, 3)
    assert layer.linear.out_features == 2 and layer(sd.tensor(np.ones((5, 4), np.float32))).shape == (5, 3)
