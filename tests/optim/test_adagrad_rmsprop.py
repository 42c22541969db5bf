"""AdaGrad and RMSProp: torch trajectories (50 steps, float64) and the textbook's test vectors (8.5.1-8.5.2)."""
import numpy as np
import pytest

import shendu as sd
from shendu import optim
from shendu.backend import to_host

from ._oracle import assert_same

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, lr_decay=0.01, weight_decay=0.05),
                                dict(lr=0.05, initial_accumulator_value=0.1, eps=1e-6)])
def test_adagrad_matches_torch(kw):
    assert_same(lambda p: optim.Adagrad(p, **kw), lambda p: torch.optim.Adagrad(p, **kw))


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.01, alpha=0.9, weight_decay=0.1),
                                dict(lr=0.005, momentum=0.9), dict(lr=0.005, centered=True),
                                dict(lr=0.005, centered=True, momentum=0.5, eps=1e-4)])
def test_rmsprop_matches_torch(kw):
    assert_same(lambda p: optim.RMSprop(p, **kw), lambda p: torch.optim.RMSprop(p, **kw))


def _quadratic_run(opt, th, steps):
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (th * th).sum()).backward()
        opt.step()
        out.append(th.numpy().copy())
    return out


def test_adagrad_textbook_vectors():
    th = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
    opt = optim.AdaGrad([th], lr=0.1, eps=1e-7)
    s1, s2 = _quadratic_run(opt, th, 2)
    np.testing.assert_allclose(s1, [0.90000001, -1.9], atol=1e-8)
    np.testing.assert_allclose(s2, [0.83310354, -1.83112506], atol=1e-8)
    np.testing.assert_allclose(to_host(opt.state[th]["sum"]), [1.81, 7.61], atol=1e-8)


def test_rmsprop_textbook_algorithm_8_5_vectors():
    th = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
    opt = optim.RMSProp([th], lr=0.01, rho=0.9, eps=1e-6, eps_inside_sqrt=True)
    s1, s2 = _quadratic_run(opt, th, 2)
    np.testing.assert_allclose(s1, [0.96837738, -1.96837726], atol=1e-8)
    np.testing.assert_allclose(s2, [0.94578824, -1.94560969], atol=1e-8)
    np.testing.assert_allclose(to_host(opt.state[th]["square_avg"]), [0.18377548, 0.7474509], atol=1e-7)


def test_rmsprop_nesterov_is_algorithm_8_6_in_lookahead_variable():
    # Literal Algorithm 8.6 (no delta) on J = 0.5 |theta|^2; the optimizer's iterate is theta + alpha v.
    lr, rho, a = 0.01, 0.9, 0.9
    th_ref, v, r = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    p = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
    opt = optim.RMSProp([p], lr=lr, rho=rho, eps=0.0, momentum=a, nesterov=True)
    for k in range(20):
        g = th_ref + a * v
        r = rho * r + (1 - rho) * g * g
        v = a * v - lr / np.sqrt(r) * g
        th_ref = th_ref + v
        opt.zero_grad()
        (0.5 * (p * p).sum()).backward()
        opt.step()
        v_sd = -lr * to_host(opt.state[p]["momentum_buffer"])
        np.testing.assert_allclose(v_sd, v, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(p.numpy() - a * v_sd, th_ref, rtol=1e-12, atol=1e-15)
        if k == 0:
            np.testing.assert_allclose(th_ref, [0.96837722, -1.96837722], atol=1e-8)
        if k == 1:
            np.testing.assert_allclose(th_ref, [0.91766008, -1.91730949], atol=1e-8)


def test_rmsprop_bad_args():
    a = sd.nn.Parameter(sd.ones(2))
    with pytest.raises(ValueError, match="nesterov"):
        optim.RMSprop([a], nesterov=True)
    with pytest.raises(ValueError, match="alpha"):
        optim.RMSprop([a], alpha=1.0)


def test_adagrad_seeds_form_eps_inside_sqrt():
    # seeds 002 section 2.9: cache += dx**2; x += -lr * dx / np.sqrt(cache + 1e-8)
    x = np.array([0.5, -1.5, 2.0])
    p = sd.nn.Parameter(sd.tensor(x.copy()))
    opt = optim.Adagrad([p], lr=0.1, eps=1e-8, eps_inside_sqrt=True)
    cache = np.zeros(3)
    for _ in range(5):
        opt.zero_grad()
        (p ** 4).sum().backward()
        opt.step()
        dx = 4 * x ** 3
        cache += dx ** 2
        x = x - 0.1 * dx / np.sqrt(cache + 1e-8)
    np.testing.assert_allclose(p.numpy(), x, rtol=1e-12)
