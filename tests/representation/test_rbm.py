"""RBM (texts 001/004): free energy and log Z against brute force, CD-k/PCD against the exact log-likelihood gradient
by full enumeration (4 visible x 3 hidden), Gibbs sampling against the exact distribution, learning raises log p."""
import itertools

import numpy as np
import pytest

import shendu as sd
from shendu.models import RBM

DATA = np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=np.float64)


def _states(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.float64)


def _rbm(nv=4, nh=3, std=2.0, visible="binary", seed=0):
    sd.manual_seed(seed)
    r = RBM(nv, nh, visible=visible, weight_std=std, dtype=np.float64)
    g = np.random.default_rng(seed + 1)
    r.b._data[...] = sd.tensor(g.normal(0, 0.5, nv))._data
    r.c._data[...] = sd.tensor(g.normal(0, 0.5, nh))._data
    return r


def _np_params(r):
    return r.W.numpy(), r.b.numpy(), r.c.numpy()


def _energy_table(r, v):
    W, b, c = _np_params(r)
    h = _states(r.n_hidden)
    if r.visible == "binary":
        return -(v @ b)[:, None] - (h @ c)[None, :] - v @ W @ h.T
    return 0.5 * ((v - b) ** 2).sum(1)[:, None] - (h @ c)[None, :] - v @ W @ h.T


@pytest.mark.parametrize("visible", ["binary", "gaussian"])
def test_free_energy_and_energy_match_brute_force(visible):
    r = _rbm(visible=visible)
    v = _states(4) if visible == "binary" else np.random.default_rng(3).normal(size=(7, 4))
    E = _energy_table(r, v)
    want = -np.log(np.exp(-E).sum(1))
    np.testing.assert_allclose(r.free_energy(sd.tensor(v)).numpy(), want, rtol=1e-10, atol=1e-10)
    h = _states(3)
    got = np.stack([r.energy(sd.tensor(v), sd.tensor(np.repeat(h[j:j + 1], len(v), 0))).numpy() for j in range(8)], 1)
    np.testing.assert_allclose(got, E, rtol=1e-10, atol=1e-10)


def test_log_partition_binary_both_enumeration_sides():
    for nv, nh in ((4, 3), (3, 4)):
        r = _rbm(nv, nh)
        v = _states(nv)
        W, b, c = _np_params(r)
        h = _states(nh)
        E = -(v @ b)[:, None] - (h @ c)[None, :] - v @ W @ h.T
        assert r.log_partition().item() == pytest.approx(np.log(np.exp(-E).sum()), rel=1e-12)


def test_log_partition_gaussian_visible_by_numerical_integration():
    r = _rbm(1, 2, std=1.0, visible="gaussian")
    grid = np.linspace(-30, 30, 200001)[:, None]
    integrand = np.exp(-r.free_energy(sd.tensor(grid)).numpy())
    z = integrand.sum() * (grid[1, 0] - grid[0, 0])
    assert r.log_partition().item() == pytest.approx(np.log(z), rel=1e-8)


def _exact_gradient_closed_form(r, data):
    """-d mean log p(v)/d theta = -(E_data[.] - E_model[.]) by enumeration (no autograd)."""
    W, b, c = _np_params(r)
    v = _states(r.n_visible)
    E = _energy_table(r, v)
    p_v = np.exp(-E).sum(1)
    p_v /= p_v.sum()
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    ph_data, ph_model = sig(data @ W + c), sig(v @ W + c)
    gW = -(data.T @ ph_data / len(data) - (v * p_v[:, None]).T @ ph_model)
    gb = -(data.mean(0) - p_v @ v)
    gc = -(ph_data.mean(0) - p_v @ ph_model)
    return {"W": gW, "b": gb, "c": gc}


def _grads(r):
    return {n: p.grad.numpy().copy() for n, p in r.named_parameters()}


def test_exact_log_likelihood_gradient_matches_enumeration_formula():
    r = _rbm()
    r.zero_grad()
    (-r.log_likelihood(sd.tensor(DATA))).backward()
    got, want = _grads(r), _exact_gradient_closed_form(r, DATA)
    for n in want:
        np.testing.assert_allclose(got[n], want[n], rtol=1e-9, atol=1e-12)


def test_cd_k_approaches_the_exact_gradient_as_k_grows():
    r = _rbm()
    exact = _exact_gradient_closed_form(r, DATA)
    big = sd.tensor(np.repeat(DATA, 4000, 0))
    err = {}
    for k in (1, 50):
        r.zero_grad()
        loss = r.contrastive_divergence(big, k)
        assert loss.shape == ()
        loss.backward()
        g = _grads(r)
        err[k] = max(np.abs(g[n] - exact[n]).max() for n in exact)
    assert err[1] > 0.05  # CD-1 is biased on this strongly coupled RBM
    assert err[50] < 0.02  # long chains: the negative phase is the model expectation (12k chains)


def test_persistent_cd_chains_persist_and_average_to_the_exact_gradient():
    r = _rbm()
    exact = _exact_gradient_closed_form(r, DATA)
    big = sd.tensor(np.repeat(DATA, 1000, 0))
    acc = {n: 0.0 for n in exact}
    chains = []
    for it in range(40):
        r.zero_grad()
        r.contrastive_divergence(big, 1, persistent=True).backward()
        chains.append(r._chain)
        if it >= 10:
            for n, g in _grads(r).items():
                acc[n] = acc[n] + g / 30
    assert chains[1] is not chains[0] and r._chain.shape == (3000, 4)
    assert max(np.abs(acc[n] - exact[n]).max() for n in exact) < 0.02


def test_gibbs_chain_samples_the_model_distribution():
    r = _rbm()
    v = r.gibbs(sd.tensor(np.zeros((4000, 4))), 30).numpy()
    states = _states(4)
    emp = np.array([(v == s).all(1).mean() for s in states])
    p = np.exp(-r.free_energy(sd.tensor(states)).numpy() - r.log_partition().item())
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert 0.5 * np.abs(emp - p).sum() < 0.05  # total variation


def test_pseudo_likelihood_exact_and_stochastic_estimates():
    r = _rbm()
    states = _states(4)
    logp = -r.free_energy(sd.tensor(states)).numpy()
    want = 0.0
    for v in DATA:
        for i in range(4):
            flip = v.copy()
            flip[i] = 1 - flip[i]
            a, bb = logp[(states == v).all(1)][0], logp[(states == flip).all(1)][0]
            want += a - np.logaddexp(a, bb)
    want /= len(DATA)
    assert r.pseudo_likelihood(DATA, exact=True) == pytest.approx(want, rel=1e-10)
    assert r.pseudo_likelihood(np.repeat(DATA, 3000, 0)) == pytest.approx(want, abs=0.1)
    with pytest.raises(ValueError, match="binary"):
        _rbm(visible="gaussian").pseudo_likelihood(DATA)


@pytest.mark.parametrize("persistent", [False, True])
def test_cd_training_raises_exact_log_likelihood(persistent):
    sd.manual_seed(0)
    r = RBM(6, 4, weight_std=0.1, dtype=np.float64)
    pat = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0]], dtype=np.float64)
    d = pat[np.random.default_rng(0).integers(0, 3, 300)]
    ll0, err0 = r.log_likelihood(d).item(), r.reconstruction_error(d)
    for _ in range(30):
        for s in range(0, 300, 30):
            r.cd_step(d[s:s + 30], k=1, lr=0.1, persistent=persistent)
    ll1 = r.log_likelihood(d).item()
    assert ll0 < -4.0 and ll1 > -2.5  # the optimum is log(1/3) = -1.10
    assert r.reconstruction_error(d) < 0.5 * err0


def test_gaussian_rbm_cd_with_long_chains_matches_autograd_exact_gradient():
    r = _rbm(2, 3, std=0.5, visible="gaussian")
    data = np.random.default_rng(5).normal(0.5, 1.0, size=(4, 2))
    r.zero_grad()
    (-r.log_likelihood(sd.tensor(data))).backward()
    exact = _grads(r)
    r.zero_grad()
    r.contrastive_divergence(sd.tensor(np.repeat(data, 5000, 0)), 30).backward()
    cd = _grads(r)
    assert max(np.abs(cd[n] - exact[n]).max() for n in exact) < 0.05
    m, s = r.sample_visible(sd.tensor(np.zeros((20000, 3))))
    np.testing.assert_allclose((s.numpy() - m.numpy()).std(0), 1.0, atol=0.03)  # unit-variance visible units


def test_filters_shapes_dtype_and_errors():
    r = RBM(64, 5)
    f = r.filters((8, 8))
    assert f.shape == (5, 8, 8) and isinstance(f, np.ndarray)
    np.testing.assert_allclose(f[2].ravel(), r.W.numpy()[:, 2])
    assert r.hidden_probs(np.zeros((2, 64), np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"RBM\(64, 5\).*\(N, 64\)"):
        r.free_energy(np.zeros((2, 63), np.float32))
    with pytest.raises(ValueError, match="visible"):
        RBM(3, 2, visible="poisson")
    with pytest.raises(ValueError, match="enumeration"):
        RBM(30, 25).log_partition()


def test_persistent_chains_keep_their_size_across_smaller_batches():
    r = _rbm()
    r.contrastive_divergence(sd.tensor(np.repeat(DATA, 10, 0)), 1, persistent=True)
    first = r._chain
    loss = r.contrastive_divergence(sd.tensor(DATA[:2]), 1, persistent=True)  # a short last minibatch
    assert r._chain.shape == (30, 4) and r._chain is not first and np.isfinite(loss.item())
    r.reset_chains()
    r.contrastive_divergence(sd.tensor(DATA[:2]), 1, persistent=True)
    assert r._chain.shape == (2, 4)
