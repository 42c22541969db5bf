"""The remaining chapter-7 rows: fast dropout (7.54), dropout boosting (7.55), tangent distance (7.64), early
stopping ~ L2 (7.34, Fig 7.4), the book's default dropout probabilities (7.49)."""
import math

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu import regularize as R
from shendu.autograd import gradcheck
from shendu.nn.layers.fast_dropout import fast_dropout_linear, fast_dropout_moments, fast_dropout_sigmoid

from ._examples import load_example

G = np.random.default_rng(14)


# --- fast dropout (7.54) -------------------------------------------------------------------------------------------
def test_fast_dropout_moments_match_monte_carlo_of_real_input_dropout():
    p, n_in, n_out, reps = 0.3, 40, 3, 20000
    lin = nn.Linear(n_in, n_out)
    x = sd.tensor(G.standard_normal((2, n_in)).astype(np.float32))
    sd.manual_seed(0)
    with sd.no_grad():
        xs = x.unsqueeze(0).expand(reps, 2, n_in)
        s = lin(F.dropout(xs, p)).numpy()  # real Bernoulli dropout on the Linear's inputs, reps samples
        mean, var = fast_dropout_moments(x, lin.weight, lin.bias, p)
    mean, var = mean.numpy(), var.numpy()
    scale = np.sqrt(var)
    np.testing.assert_array_less(np.abs(s.mean(0) - mean), 4 * scale / math.sqrt(reps))  # E[s] = x W^T + b
    np.testing.assert_allclose(s.var(0), var, rtol=0.05)  # Var s = p/(1-p) (x^2)(W^2)^T
    w, xx = lin.weight.numpy(), x.numpy()
    np.testing.assert_allclose(var, p / (1 - p) * (xx ** 2) @ (w ** 2).T, rtol=1e-5)

    layer = nn.FastDropoutLinear(n_in, n_out, p=p)
    layer.load_state_dict(lin.state_dict())
    sd.manual_seed(1)
    with sd.no_grad():
        f = layer(x.unsqueeze(0).expand(reps, 2, n_in)).numpy()  # the layer's Gaussian samples
    np.testing.assert_array_less(np.abs(f.mean(0) - mean), 4 * scale / math.sqrt(reps))
    np.testing.assert_allclose(f.var(0), var, rtol=0.05)
    assert f.dtype == np.float32
    # s = mean + sqrt(var) eps with one normal per output unit
    z = G.standard_normal((2, n_out)).astype(np.float32)
    with sd.no_grad():
        one = layer(x, noise=sd.tensor(z)).numpy()
    np.testing.assert_allclose(one, mean + np.sqrt(var + 1e-30) * z, rtol=1e-5, atol=1e-6)
    layer.eval()
    np.testing.assert_allclose(layer(x).numpy(), lin(x).numpy(), rtol=1e-6)  # eval: plain linear
    with pytest.raises(ValueError, match="FastDropoutLinear.*p"):
        nn.FastDropoutLinear(3, 2, p=1.0)
    with pytest.raises(ValueError, match=r"FastDropoutLinear\(40 -> 3\).*\(\*, 40\)"):
        layer(sd.zeros(2, 5))


def test_fast_dropout_gradcheck_with_fixed_noise():
    layer = nn.FastDropoutLinear(4, 3, p=0.4).double()
    x = sd.tensor(G.standard_normal((5, 4)), requires_grad=True)
    eps = sd.tensor(G.standard_normal((5, 3)))

    def f(x, w, b):
        return F.tanh(fast_dropout_linear(x, w, b, 0.4, True, noise=eps))

    assert gradcheck(f, [x, layer.weight, layer.bias])


def test_fast_dropout_sigmoid_estimates_the_dropout_ensemble_better_than_weight_scaling():
    p, n_in, reps = 0.5, 30, 40000
    sd.manual_seed(3)
    w = sd.tensor(G.standard_normal((4, n_in)).astype(np.float32) * 0.6)
    b = sd.tensor(np.array([0.5, -0.3, 1.0, 0.0], np.float32))
    x = sd.tensor(G.standard_normal((1, n_in)).astype(np.float32))
    with sd.no_grad():
        mc = F.sigmoid(F.linear(F.dropout(x.expand(reps, n_in), p), w, b)).numpy().mean(0)  # the ensemble's mean
        ws = F.sigmoid(F.linear(x, w, b)).numpy()[0]  # weight scaling (inverted dropout: plain weights)
        fd = fast_dropout_sigmoid(x, w, b, p).numpy()[0]
    assert np.all(np.abs(fd - mc) < 0.025), (fd, mc)  # measured errors <= 0.014; weight scaling up to 0.25
    assert np.abs(fd - mc).sum() < 0.5 * np.abs(ws - mc).sum(), (fd, ws, mc)


# --- dropout boosting (7.55) ---------------------------------------------------------------------------------------
def _dropout_net():
    sd.manual_seed(0)
    return nn.Sequential(nn.Dropout(0.2), nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))


def test_dropout_boosting_loss_is_the_ensemble_nll_of_the_same_masks():
    model = _dropout_net()
    x = sd.tensor(G.standard_normal((10, 6)).astype(np.float32))
    y = sd.tensor(G.integers(0, 3, 10))
    sd.manual_seed(5)
    loss = R.dropout_boosting_loss(model, x, y, n_masks=4)
    sd.manual_seed(5)  # the same 4 masks, by hand
    with sd.no_grad():
        probs = [F.softmax(model(x), dim=1).numpy()[np.arange(10), y.numpy()] for _ in range(4)]
    manual = -np.log(np.mean(probs, axis=0)).mean()
    np.testing.assert_allclose(loss.numpy(), manual, rtol=1e-5)
    # it differs from dropout's mean log-likelihood -mean_k log p_k (Jensen: the ensemble NLL is smaller)
    assert loss.item() < -np.log(probs).mean() - 1e-4
    # K = 1: the plain dropout loss with the same seed; gradients flow to the parameters
    sd.manual_seed(9)
    one = R.dropout_boosting_loss(model, x, y, n_masks=1)
    sd.manual_seed(9)
    plain = F.cross_entropy(model(x), y)
    np.testing.assert_allclose(one.numpy(), plain.numpy(), rtol=1e-6)
    one.backward()
    assert np.abs(model[1].weight.grad.numpy()).sum() > 0
    assert R.dropout_boosting_loss(model, x, y, 3, reduction="none").shape == (10,)
    with pytest.raises(ValueError, match="dropout_boosting_loss.*n_masks"):
        R.dropout_boosting_loss(model, x, y, 0)


@pytest.mark.slow
def test_dropout_boosting_regularizes_less_than_dropout_with_the_same_masks():
    """Warde-Farley et al. 2014 (textbook 7.12): training the dropout ensemble's likelihood jointly fits the training
    set better and keeps a larger train-test gap than dropout (which averages log-likelihoods over the masks)."""
    from shendu.data.datasets import load_digits
    from shendu.models import MLP

    (x, y), (xt, yt) = load_digits(seed=0)
    xl, yl, Xt, Yt = sd.tensor(x[:200]), sd.tensor(y[:200]), sd.tensor(xt), sd.tensor(yt)
    res = {}
    for kind in ("dropout", "boosting"):
        sd.manual_seed(0)
        m = MLP([64, 128, 128, 10], input_dropout=0.2, hidden_dropout=0.5)
        opt = sd.optim.Adam(m.parameters(), lr=2e-3)
        for _ in range(150):
            if kind == "dropout":  # the mean log-likelihood over 4 masks
                loss = sum(F.cross_entropy(m(xl), yl) for _ in range(4)) / 4
            else:  # the ensemble's log-likelihood over 4 masks
                loss = R.dropout_boosting_loss(m, xl, yl, n_masks=4)
            opt.zero_grad()
            loss.backward()
            opt.step()
        m.eval()
        with sd.no_grad():
            res[kind] = (F.cross_entropy(m(xl), yl).item(), F.cross_entropy(m(Xt), Yt).item())
    gap = {k: te - tr for k, (tr, te) in res.items()}
    assert res["boosting"][0] < res["dropout"][0], res  # fits the training set better
    assert gap["boosting"] > gap["dropout"] + 0.03, gap  # and regularizes less (measured 0.28 vs 0.22)


# --- tangent distance (7.64) ---------------------------------------------------------------------------------------
def _digits():
    from shendu.data.datasets import load_digits

    (x, y), (xt, yt) = load_digits(seed=0)
    return x.reshape(-1, 8, 8), y, xt.reshape(-1, 8, 8), yt


def _shift_right(a):
    s = np.zeros_like(a)
    s[..., 1:] = a[..., :-1]
    return s


def test_tangent_distance_small_for_a_shift_large_across_digits_and_least_squares():
    x, y, _, _ = _digits()
    a = sd.tensor(x[:60])
    s = sd.tensor(_shift_right(x[:60]))
    other = sd.tensor(x[60:120])
    Ta, Ts, To = R.image_tangents(a), R.image_tangents(s), R.image_tangents(other)
    assert Ta.shape == (60, 2, 8, 8)
    eu = ((a - s) ** 2).sum(dim=(1, 2)).sqrt().numpy()
    one = R.tangent_distance(s, a, None, Ta).numpy()
    two = R.tangent_distance(s, a, Ts, Ta).numpy()
    assert np.all(two <= one + 1e-5) and np.all(one <= eu + 1e-5)  # more freedom, never larger
    assert np.median(two / eu) < 0.55 and np.median(one / eu) < 0.75  # a shift is nearly in the tangent plane
    eu_o = ((a - other) ** 2).sum(dim=(1, 2)).sqrt().numpy()
    two_o = R.tangent_distance(other, a, To, Ta).numpy()
    assert np.median(two_o / eu_o) > 0.8  # other digits are not
    # against an explicit least-squares solve for one pair
    A = np.concatenate([Ts.numpy()[3].reshape(2, -1), -Ta.numpy()[3].reshape(2, -1)]).T
    r = (s.numpy()[3] - a.numpy()[3]).ravel()
    c, *_ = np.linalg.lstsq(A, -r, rcond=None)
    np.testing.assert_allclose(two[3], np.linalg.norm(r + A @ c), rtol=1e-4)
    with pytest.raises(ValueError, match="tangent_distance"):
        R.tangent_distance(a, s)
    with pytest.raises(ValueError, match="image_tangents.*kinds"):
        R.image_tangents(a, kinds=("shear",))


def test_tangent_nearest_neighbor_beats_euclidean_on_shifted_digits():
    x, y, xt, yt = _digits()
    xtr, ytr = sd.tensor(x[:300]), y[:300]
    xte, yte = sd.tensor(_shift_right(xt[:100])), yt[:100]
    eu = (R.tangent_nearest_neighbor(xtr, ytr, xte) == yte).mean()
    one = R.TangentNearestNeighbor(("x", "y")).fit(xtr, ytr).score(xte, yte)
    two = R.TangentNearestNeighbor(("x", "y"), two_sided=True).fit(xtr, ytr).score(xte, yte)
    assert one >= eu + 0.15 and two >= eu + 0.2, (eu, one, two)
    # four tangent kinds (translations, rotation, scale) on unshifted data: at least as good as Euclidean
    clean = sd.tensor(xt[:100])
    e0 = (R.tangent_nearest_neighbor(xtr, ytr, clean) == yte).mean()
    t4 = R.TangentNearestNeighbor(("x", "y", "rotation", "scale")).fit(xtr, ytr).score(clean, yte)
    assert t4 >= e0 - 0.02, (e0, t4)


# --- early stopping ~ L2 with alpha = 1/(eps tau) (7.34, Fig 7.4) ---------------------------------------------------
def test_gradient_descent_stopped_after_tau_steps_is_l2_with_alpha_1_over_eps_tau():
    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    lam = np.array([2.0, 1.0, 0.3, 0.005, 0.002, 0.001])
    H = Q @ np.diag(lam) @ Q.T
    w_star = rng.standard_normal(6)
    eps, tau = 0.05, 400  # eps * lambda <= 0.1 everywhere
    w = nn.Parameter(sd.zeros(6, dtype=sd.float64))
    opt = sd.optim.SGD([w], lr=eps)
    Ht, ws = sd.tensor(H), sd.tensor(w_star)
    for _ in range(tau):  # train the quadratic J = 1/2 (w - w*)^T H (w - w*) from w = 0
        d = w - ws
        loss = 0.5 * (d @ (Ht @ d))
        opt.zero_grad()
        loss.backward()
        opt.step()
    reach = (Q.T @ w.numpy()) / (Q.T @ w_star)  # fraction of w* reached per eigendirection
    np.testing.assert_allclose(reach, 1 - (1 - eps * lam) ** tau, rtol=1e-9)  # Q^T w_tau = [I - (I - eps L)^tau] Q^T w*
    np.testing.assert_allclose(R.early_stopping_factors(sd.tensor(lam), eps, tau).numpy(), reach, rtol=1e-9)
    alpha = R.equivalent_weight_decay(eps, tau)
    assert alpha == pytest.approx(1 / (eps * tau))
    l2 = lam / (lam + alpha)
    w_l2 = R.l2_optimum(Ht, ws, alpha).numpy()
    np.testing.assert_allclose((Q.T @ w_l2) / (Q.T @ w_star), l2, rtol=1e-9)
    x = eps * tau * lam
    small, large = x <= 0.1, x >= 15
    assert small.sum() == 3 and large.sum() == 2
    np.testing.assert_allclose(reach[small], l2[small], rtol=0.06)  # both ~ eps tau lambda
    assert np.all(reach[large] > 0.95) and np.all(l2[large] > 0.93)  # both keep w* there
    # W7.9: lambda = (1, 0.01), eps = 0.1, tau = 100: 0.0952 vs 0.0909 in the small direction
    f = R.early_stopping_factors(sd.tensor([1.0, 0.01], dtype=sd.float64), 0.1, 100).numpy()
    assert f[1] == pytest.approx(0.0952, abs=1e-4) and 0.01 / (0.01 + 0.1) == pytest.approx(0.0909, abs=1e-4)


def test_early_stopping_vs_l2_example_quick(tmp_path, capsys):
    out = tmp_path / "es.png"
    res = load_example("early_stopping_vs_l2").main(["--quick", "--out", str(out)])
    text = capsys.readouterr().out
    assert "alpha = 1/(eps tau) = 0.25" in text and "wrote" in text
    np.testing.assert_allclose(res["reach"], res["es_factors"], rtol=1e-9)  # the trained run follows the formula
    assert abs(res["reach"][1] - res["l2_factors"][1]) < 0.02  # the small-curvature direction matches L2
    assert np.all(res["gaps"] < 0.4) and res["gaps"][-1] < 0.15
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


# --- the book's default dropout probabilities (7.49) ----------------------------------------------------------------
def test_mlp_book_dropout_defaults_input_keep_08_hidden_keep_05():
    from shendu.models import MLP

    m = MLP.book([64, 32, 16, 10])
    drops = [layer for layer in m if isinstance(layer, nn.Dropout)]
    kinds = [type(layer).__name__ for layer in m]
    assert kinds == ["Dropout", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert [d.p for d in drops] == [0.2, 0.5, 0.5]  # drop p = 1 - keep: 0.8 for inputs, 0.5 for hidden units
    same = MLP([64, 32, 16, 10], input_dropout=0.2, hidden_dropout=0.5)
    assert [type(a).__name__ for a in same] == kinds
    assert [d.p for d in same if isinstance(d, nn.Dropout)] == [0.2, 0.5, 0.5]
    plain = MLP([64, 32, 10], activation="tanh")
    assert [type(a).__name__ for a in plain] == ["Linear", "Tanh", "Linear"]
    x = sd.ones(400, 64)
    m.train()
    sd.manual_seed(0)
    h = m[0](x).numpy()
    assert abs((h == 0).mean() - 0.2) < 0.01 and np.allclose(h[h != 0], 1 / 0.8)  # inverted dropout keeps 0.8
    m.eval()
    assert m(x).shape == (400, 10)
    with pytest.raises(ValueError, match="MLP.*not both"):
        MLP([4, 2], input_dropout=0.2, keep_prob=(0.8, 0.5))
    with pytest.raises(ValueError, match="MLP.*hidden_dropout"):
        MLP([4, 3, 2], hidden_dropout=1.0)


def test_tangent_distance_gradcheck():
    x1 = sd.tensor(G.standard_normal((3, 5)), requires_grad=True)
    x2 = sd.tensor(G.standard_normal((3, 5)), requires_grad=True)
    t1 = sd.tensor(G.standard_normal((3, 2, 5)))
    t2 = sd.tensor(G.standard_normal((3, 1, 5)))
    assert gradcheck(lambda a, b: R.tangent_distance(a, b, t1, t2), [x1, x2])
    assert gradcheck(lambda a, b: R.tangent_distance(a, b, None, t2), [x1, x2])


# --- manifold tangent classifier (7.64): contractive autoencoder tangents -> tangent prop --------------------------
def test_contractive_autoencoder_jacobian_tangents_and_manifold_tangent_penalty():
    from shendu.regularize.adversarial import input_jvp

    sd.manual_seed(0)
    cae = R.ContractiveAutoEncoder(5, 3, contraction=0.5).double()
    x = sd.tensor(G.uniform(size=(4, 5)))
    J = cae.jacobian(x).numpy()  # closed form diag(h(1-h)) W
    cols = [input_jvp(cae.encode, x, sd.tensor(np.tile(np.eye(5)[i], (4, 1)))).numpy() for i in range(5)]
    np.testing.assert_allclose(J, np.stack(cols, axis=-1), rtol=1e-10, atol=1e-12)  # = autograd's dh/dx
    np.testing.assert_allclose(cae.jacobian_penalty(x).numpy(), (J ** 2).sum(axis=(1, 2)), rtol=1e-10)
    T = cae.tangents(x, 2).numpy()  # the leading right singular vectors of J(x)
    vt = np.linalg.svd(J)[2][:, :2]
    np.testing.assert_allclose(np.einsum("nki,nkj->nij", T, T), np.einsum("nki,nkj->nij", vt, vt), atol=1e-10)
    assert gradcheck(lambda xx: cae.loss(xx), [sd.tensor(x.numpy(), requires_grad=True)])

    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    pen = R.manifold_tangent_penalty(model, x, cae, 2)
    ref = R.tangent_prop_penalty(model, x, [sd.tensor(T[:, 0]), sd.tensor(T[:, 1])])
    np.testing.assert_allclose(pen.numpy(), ref.numpy(), rtol=1e-10)
    pen.backward()
    assert np.abs(model[0].weight.grad.numpy()).sum() > 0  # trainable: d penalty / d theta
    with pytest.raises(ValueError, match="tangents.*k"):
        cae.tangents(x, 4)


def test_contraction_shrinks_the_jacobian_and_tangent_prop_along_cae_tangents_flattens_the_classifier():
    x, y, _, _ = _digits()
    X = sd.tensor(x[:300].reshape(300, 64))
    norms = {}
    for c in (0.0, 1.0):
        sd.manual_seed(0)
        cae = R.ContractiveAutoEncoder(64, 32, contraction=c)
        opt = sd.optim.Adam(cae.parameters(), lr=3e-3)
        for _ in range(150):
            loss = cae.loss(X)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with sd.no_grad():
            norms[c] = cae.jacobian_penalty(X).mean().item()
    assert norms[1.0] < 0.5 * norms[0.0], norms  # the contractive term does contract
    xl, yl = X[:60], sd.tensor(y[:60])
    sens = {}
    for beta in (0.0, 0.3):
        sd.manual_seed(1)
        m = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
        opt = sd.optim.Adam(m.parameters(), lr=3e-3)
        for _ in range(40):
            loss = F.cross_entropy(m(xl), yl)
            if beta:
                loss = loss + beta * R.manifold_tangent_penalty(m, xl, cae, 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sens[beta] = R.manifold_tangent_penalty(m, X[100:200], cae, 2).item()  # held-out sensitivity
    assert sens[0.3] < 0.3 * sens[0.0], sens
