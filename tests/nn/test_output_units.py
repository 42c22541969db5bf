"""Output units trained on data (textbook 6.2.2.4): heteroscedastic Gaussian and mixture density network."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn


def _adam_train(model, loss_fn, steps, lr=0.02):
    params = list(model.parameters())
    m = [np.zeros_like(p.numpy()) for p in params]
    v = [np.zeros_like(p.numpy()) for p in params]
    for t in range(1, steps + 1):
        model.zero_grad()
        loss = loss_fn()
        loss.backward()
        for p, mi, vi in zip(params, m, v):
            g = p.grad.numpy()
            mi[...] = 0.9 * mi + 0.1 * g
            vi[...] = 0.999 * vi + 0.001 * g * g
            p.data.sub_(sd.tensor(lr * (mi / (1 - 0.9**t)) / (np.sqrt(vi / (1 - 0.999**t)) + 1e-8), device=p.device))
    return loss.item()


def test_gaussian_head_learns_input_dependent_variance():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (512, 1)).astype(np.float32)
    std = 0.1 + 0.4 * (x > 0)  # noise level switches with the input
    y = (2 * x + std * rng.standard_normal((512, 1))).astype(np.float32)
    net = nn.Sequential(nn.Linear(1, 16), nn.Tanh())
    head = nn.GaussianHead(16, 1)
    model = nn.Sequential(net, head)
    xs = sd.tensor(x)
    _adam_train(model, lambda: _nll(model, xs, y), 300)
    _, var = model(sd.tensor(np.array([[-0.5], [0.5]], np.float32)))
    s = np.sqrt(var.numpy().ravel())
    assert 0.05 < s[0] < 0.2 and 0.35 < s[1] < 0.7, s
    with pytest.raises(ValueError, match="GaussianHead"):
        nn.GaussianHead(2, 2, param="bogus")


def _nll(model, xs, y):
    mean, var = model(xs)
    return F.gaussian_nll_loss(mean, y, var)


def test_mixture_density_network_fits_bimodal_target():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (512, 1)).astype(np.float32)
    branch = rng.random((512, 1)) < 0.5
    y = np.where(branch, x + 1.0, -x - 1.0) + 0.05 * rng.standard_normal((512, 1))
    y = y.astype(np.float32)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.MixtureDensity(32, 1, 2))
    xs = sd.tensor(x)
    final = _adam_train(model, lambda: F.mdn_nll(*model(xs), y), 400)
    logits, mu, _ = model(sd.tensor(np.array([[0.5]], np.float32)))
    means = np.sort(mu.numpy().ravel())
    assert abs(means[0] + 1.5) < 0.2 and abs(means[1] - 1.5) < 0.2, means  # both modes found
    assert final < 0.0  # NLL of a sharp bimodal fit
