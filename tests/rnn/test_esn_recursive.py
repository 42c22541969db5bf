"""Echo state network (spectral radius, fixed reservoir, least-squares readout, sine continuation) and
the recursive tree network (manual composition, gradcheck, learning)."""
import numpy as np
import pytest

import shendu as sd
from shendu.autograd import gradcheck
from shendu.backend import to_host
from shendu.nn.layers.esn import EchoStateNetwork, spectral_radius_
from shendu.nn.layers.recursive import RecursiveNet


def _sine_esn():
    sd.manual_seed(0)
    s = np.sin(0.2 * np.arange(600))[:, None]
    esn = EchoStateNetwork(1, 200, 1, spectral_radius=0.9, sparsity=0.8, leak_rate=0.5, ridge=1e-6, dtype=sd.float64)
    return esn, s


def test_spectral_radius_initialisation():
    sd.manual_seed(0)
    t = sd.randn(30, 30, dtype=sd.float64)
    spectral_radius_(t, 1.2)
    assert abs(np.abs(np.linalg.eigvals(t.numpy())).max() - 1.2) < 1e-9
    esn = EchoStateNetwork(2, 50, 1, spectral_radius=0.7)
    assert abs(np.abs(np.linalg.eigvals(esn.w.numpy().astype(np.float64))).max() - 0.7) < 1e-4
    with pytest.raises(ValueError, match="square"):
        spectral_radius_(sd.zeros(2, 3), 1.0)


def test_fit_leaves_reservoir_fixed_and_readout_is_least_squares_optimum():
    esn, s = _sine_esn()
    w0, win0 = esn.w.numpy().copy(), esn.w_in.numpy().copy()
    esn.ridge = 0.0
    esn.fit(s[:300], np.cos(0.2 * np.arange(300))[:, None], washout=50)
    np.testing.assert_array_equal(esn.w.numpy(), w0)
    np.testing.assert_array_equal(esn.w_in.numpy(), win0)
    # the gradient of the MSE with respect to the readout vanishes at the fitted solution
    y = esn(s[:300])[50:]
    loss = ((y - sd.tensor(np.cos(0.2 * np.arange(300))[50:, None])) ** 2).mean()
    loss.backward()
    assert np.abs(esn.w_out.grad.numpy()).max() < 1e-6


def test_sine_wave_continuation():
    esn, s = _sine_esn()
    mse = esn.fit(s[:-1], s[1:], washout=100)
    assert mse < 1e-8
    gen = to_host(esn.generate(100, s[-1], esn.last_state))  # arrays on the reservoir's device
    true = np.sin(0.2 * np.arange(600, 700))[:, None]
    assert np.abs(gen - true).max() < 1e-3


def test_batched_reservoir_matches_single():
    esn, s = _sine_esn()
    u = np.stack([s[:50], 2 * s[:50]], 1)  # (T, 2, 1)
    sb, s1 = to_host(esn.reservoir(u)[0]), to_host(esn.reservoir(2 * s[:50])[0])
    np.testing.assert_allclose(sb[:, 1], s1, rtol=1e-9, atol=1e-12)


def test_recursive_net_composes_bottom_up():
    sd.manual_seed(0)
    net = RecursiveNet(6, 3, dtype=sd.float64)
    E, W, b = net.embedding.weight.numpy(), net.weight.numpy(), net.bias.numpy()
    f = lambda l, r: np.tanh(W @ np.concatenate([l, r]) + b)  # noqa: E731
    tree = ((1, 2), (3, (4, 5)))
    expect = f(f(E[1], E[2]), f(E[3], f(E[4], E[5])))
    np.testing.assert_allclose(net(tree).numpy(), expect, rtol=1e-12)
    assert net([tree, (0, 1)]).shape == (2, 3)
    with pytest.raises(ValueError, match="RecursiveNet"):
        net((1, 2, 3))


def test_recursive_net_gradcheck_and_learning():
    sd.manual_seed(1)
    net = RecursiveNet(4, 3, dtype=sd.float64)
    assert gradcheck(lambda w, b: (w @ net.embedding(np.array([0, 1])).reshape(-1) + b).tanh(),
                     (net.weight, net.bias))
    emb = net.embedding.weight
    assert gradcheck(lambda e: (net.weight @ sd.cat([e[0], (net.weight @ sd.cat([e[1], e[2]]) + net.bias).tanh()])
                                + net.bias).tanh(), (emb,))
    net((0, (1, 2))).sum().backward()  # the tree path accumulates leaf-embedding gradients of used ids only
    g = emb.grad.numpy()
    assert np.abs(g[:3]).sum() > 0 and np.all(g[3] == 0)
    # learn to tell trees whose leftmost leaf is 0 from the others (a linear readout on the root)
    head = sd.nn.Linear(3, 1, dtype=sd.float64)
    opt = sd.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=0.05)
    trees = [((a, b), (c, d)) for a in range(4) for b in range(4) for c in range(2) for d in range(2)]
    y = np.array([[1.0 if t[0][0] == 0 else 0.0] for t in trees])
    for _ in range(60):
        opt.zero_grad()
        loss = sd.nn.functional.binary_cross_entropy_with_logits(head(net(trees)), sd.tensor(y))
        loss.backward()
        opt.step()
    acc = ((head(net(trees)).numpy() > 0) == (y > 0.5)).mean()
    assert acc == 1.0
