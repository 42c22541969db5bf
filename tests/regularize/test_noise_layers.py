"""Noise layers and label smoothing (textbook 7.5, 7.5.1, 7.12 variants): GaussianNoise, GaussianDropout,
DropConnect, WeightNoise (W7.6), StochasticPool2d, book-form label smoothing (W7.7)."""
import math

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu import regularize as R
from shendu.autograd import gradcheck
from shendu.nn.layers.noise import stochastic_pool2d

G = np.random.default_rng(7)


# --- GaussianNoise (7.21) ------------------------------------------------------------------------------------------
def test_gaussian_noise_statistics_train_eval_and_gradient():
    layer = nn.GaussianNoise(0.3)
    x = sd.full((400, 500), 2.0, requires_grad=True)
    y = layer(x)
    assert y.dtype == sd.float32 and y.shape == (400, 500)
    e = y.numpy() - 2.0
    assert abs(e.mean()) < 0.003 and abs(e.std() - 0.3) < 0.003  # N(0, 0.3^2), 200k samples
    assert abs(np.corrcoef(e[:, :-1].ravel(), e[:, 1:].ravel())[0, 1]) < 0.01  # independent entries
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 1.0)  # additive: identity Jacobian
    assert not np.array_equal(layer(x).numpy(), y.numpy())  # fresh noise each call
    layer.eval()
    assert layer(x) is x
    sd.manual_seed(3)
    a = nn.GaussianNoise(1.0)(sd.zeros(5)).numpy()
    sd.manual_seed(3)
    np.testing.assert_array_equal(nn.GaussianNoise(1.0)(sd.zeros(5)).numpy(), a)  # seeded
    with pytest.raises(ValueError, match="GaussianNoise.*stddev"):
        nn.GaussianNoise(-1)
    assert "stddev=0.3" in repr(layer)


# --- GaussianDropout (7.58) ----------------------------------------------------------------------------------------
def test_gaussian_dropout_mean_one_variance_p_over_1_minus_p():
    p = 0.3
    layer = nn.GaussianDropout(p)
    x = sd.full((400, 500), 3.0, requires_grad=True)
    y = layer(x)
    mu = y.numpy() / 3.0
    assert abs(mu.mean() - 1.0) < 0.004
    assert abs(mu.var() - p / (1 - p)) < 0.01  # Keras: stddev sqrt(rate / (1 - rate))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mu, rtol=1e-5, atol=1e-6)  # same mu in backward
    layer.eval()
    assert layer(x) is x
    half = nn.GaussianDropout(0.5)(sd.ones(1000, 200)).numpy()
    assert abs(half.var() - 1.0) < 0.02  # the book's mu ~ N(1, I) (eq. 7.72)
    with pytest.raises(ValueError, match="GaussianDropout.*rate"):
        nn.GaussianDropout(1.0)


def test_gaussian_noise_layers_gradcheck_with_fixed_draws():
    x = sd.tensor(G.standard_normal((3, 4)), requires_grad=True)

    def f(x):
        sd.manual_seed(5)
        return nn.GaussianDropout(0.4)(nn.GaussianNoise(0.5)(x)) ** 2

    assert gradcheck(f, [x])


# --- DropConnect (7.56) --------------------------------------------------------------------------------------------
def test_dropconnect_masks_weights_in_training_and_scales_in_eval():
    p = 0.4
    layer = nn.DropConnectLinear(60, 50, p=p)
    w = layer.weight.numpy()
    b = layer.bias.numpy()
    x = sd.eye(60)
    y = layer(x).numpy() - b  # row i = column i of (M * W)^T / (1 - p)
    m = y.T  # (out, in)
    dropped = m == 0
    assert abs(dropped.mean() - p) < 0.03
    np.testing.assert_allclose(m[~dropped], w[~dropped] / (1 - p), rtol=1e-5, atol=1e-7)
    # the gradient reaches only the kept weights
    layer.zero_grad()
    out = layer(x)
    out.sum().backward()
    g = layer.weight.grad.numpy()
    kept = out.numpy() - b != 0
    np.testing.assert_allclose(g, kept.T / (1 - p), rtol=1e-6)
    layer.eval()
    xe = sd.tensor(G.standard_normal((7, 60)).astype(np.float32))
    np.testing.assert_allclose(layer(xe).numpy(), xe.numpy() @ w.T + b, rtol=1e-5, atol=1e-5)
    ws = nn.DropConnectLinear(60, 50, p=p, mode="weight_scaling")
    ws.eval()
    np.testing.assert_allclose(ws(xe).numpy(), xe.numpy() @ (ws.weight.numpy() * (1 - p)).T + ws.bias.numpy(),
                               rtol=1e-5, atol=1e-5)
    ws.train()
    v = (ws(sd.eye(60)).numpy() - ws.bias.numpy()).T
    assert set(np.unique(v == 0)) == {True, False}
    np.testing.assert_allclose(v[v != 0], ws.weight.numpy()[v != 0], rtol=1e-5, atol=1e-7)  # no rescaling in training


def test_dropconnect_expectation_matches_inference_and_per_example_masks():
    lin = nn.Linear(8, 3)
    dc = nn.DropConnect(lin, p=0.5)
    assert dc.linear.weight is lin.weight and len(list(dc.parameters())) == 2  # shares the wrapped layer's params
    x = sd.tensor(G.standard_normal((1, 8)).astype(np.float32))
    mean = np.mean([dc(x).numpy() for _ in range(3000)], axis=0)
    dc.eval()
    exact = dc(x).numpy()
    np.testing.assert_allclose(exact, lin(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(mean, exact, atol=0.05)  # E over masks = the weight-scaled (inverted) net
    pe = nn.DropConnect(8, 3, p=0.5, per_example=True)
    rows = pe(sd.tensor(np.repeat(x.numpy(), 4000, axis=0))).numpy()
    assert len({tuple(r) for r in rows[:50].round(5)}) > 40  # a different mask per example
    pe.eval()
    np.testing.assert_allclose(rows.mean(0), pe(x).numpy()[0], atol=0.05)
    with pytest.raises(TypeError, match="DropConnect"):
        nn.DropConnect(nn.ReLU(), p=0.5)
    with pytest.raises(ValueError, match="DropConnect.*p must be in"):
        nn.DropConnectLinear(3, 2, p=1.5)


@pytest.mark.parametrize("per_example", [False, True])
def test_dropconnect_gradcheck_with_fixed_mask(per_example):
    layer = nn.DropConnectLinear(4, 3, p=0.3, per_example=per_example).double()
    x = sd.tensor(G.standard_normal((5, 4)), requires_grad=True)

    def f(x, w, b):
        sd.manual_seed(2)
        return F.tanh(nn.layers.noise.dropconnect_linear(x, w, b, 0.3, True, "inverted", per_example))

    assert gradcheck(f, [x, layer.weight, layer.bias])


# --- WeightNoise (7.23, W7.6) ---------------------------------------------------------------------------------------
def test_weight_noise_perturbs_weights_each_forward_and_gradient_reaches_them():
    lin = nn.Linear(200, 300, bias=False)
    wn = nn.WeightNoise(lin, std=0.05)
    w = lin.weight.numpy().copy()
    x = sd.eye(200)
    y1 = wn(x)
    eta = y1.numpy().T - w  # x = I: the output is (W + eta)^T
    assert abs(eta.mean()) < 0.001 and abs(eta.std() - 0.05) < 0.001
    assert not np.array_equal(wn(x).numpy(), y1.numpy())  # a new eta each forward
    assert isinstance(lin.weight, nn.Parameter) and "weight" not in lin.__dict__  # restored after the call
    np.testing.assert_array_equal(lin.weight.numpy(), w)  # the stored weights are not changed
    lin.zero_grad()
    y = wn(x)
    (y * y).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), 2 * y.numpy().T, rtol=1e-5)  # gradient at W + eta
    wn.eval()
    np.testing.assert_array_equal(wn(x).numpy(), w.T)
    assert len(list(wn.parameters())) == 1
    with pytest.raises(ValueError, match="WeightNoise.*no parameter"):
        nn.WeightNoise(nn.ReLU(), 0.1)


def test_weight_noise_on_mlp_perturbs_only_weights():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    wn = nn.WeightNoise(net, std=1.0)
    assert len(wn._targets()) == 2  # the two weight matrices, not the biases
    everything = nn.WeightNoise(net, std=1.0, names=None)
    assert len(everything._targets()) == 4
    x = sd.randn(5, 3)
    assert not np.allclose(wn(x).numpy(), net(x).numpy())
    enc = nn.Linear(4, 2, bias=False)
    ae = nn.WeightNoise(nn.Sequential(enc, nn.TiedLinear(enc, bias=False)), std=0.3)
    w = enc.weight.numpy()
    x4 = sd.eye(4)
    y = ae(x4).numpy()  # x (W + eta)^T (W + eta): the tied copy gets the same eta
    assert np.allclose(y, y.T, atol=1e-6) and not np.allclose(y, w.T @ w, atol=1e-3)


def test_w7_6_weight_noise_on_linear_regression_adds_eta_norm_x_squared():
    """W7.6: E_eps[((w + eps)^T x + b - y)^2] = (w^T x + b - y)^2 + eta ||x||^2, and the expected gradient with
    respect to w equals the noiseless one (the penalty does not depend on w)."""
    eta, d, T = 0.04, 5, 3000
    lin = nn.Linear(d, 1)
    wn = nn.WeightNoise(lin, std=math.sqrt(eta))
    x = sd.tensor(G.standard_normal((1, d)).astype(np.float32))
    y = 0.7
    losses, grads = [], []
    for _ in range(T):
        lin.zero_grad()
        loss = ((wn(x) - y) ** 2).sum()
        loss.backward()
        losses.append(loss.item())
        grads.append(lin.weight.grad.numpy().ravel().copy())
    losses, grads = np.array(losses), np.array(grads)
    wn.eval()
    base = float(((wn(x) - y) ** 2).sum().item())
    xx = float((x.numpy() ** 2).sum())
    se = losses.std() / math.sqrt(T)
    assert abs(losses.mean() - (base + eta * xx)) < 4 * se
    assert losses.mean() - base > 8 * se  # the penalty eta ||x||^2 is really there
    lin.zero_grad()
    ((wn(x) - y) ** 2).sum().backward()
    gse = grads.std(0) / math.sqrt(T)
    assert np.all(np.abs(grads.mean(0) - lin.weight.grad.numpy().ravel()) < 4 * gse + 1e-6)


# --- stochastic pooling (7.57) ---------------------------------------------------------------------------------------
def test_stochastic_pool_samples_proportionally_and_averages_in_eval():
    win = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    x = sd.tensor(np.broadcast_to(win, (20000, 1, 2, 2)).copy())
    pool = nn.StochasticPool2d(2)
    out = pool(x).numpy().ravel()
    freq = np.array([(out == v).mean() for v in (1, 2, 3, 4)])
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.012)
    pool.eval()
    np.testing.assert_allclose(pool(x[:1]).numpy().ravel(), [30 / 10], rtol=1e-6)  # sum a^2 / sum a
    z = nn.StochasticPool2d(2)(sd.zeros(3, 2, 4, 4))
    assert z.shape == (3, 2, 2, 2) and (z.numpy() == 0).all()  # an all-zero window gives 0
    pool.train()
    assert nn.StochasticPool2d(3, stride=2)(sd.rand(2, 3, 7, 9)).shape == (2, 3, 3, 4)
    with pytest.raises(ValueError, match="nonnegative"):
        pool(sd.tensor(-win.reshape(1, 1, 2, 2)))
    with pytest.raises(ValueError, match="stochastic_pool2d"):
        pool(sd.ones(2, 2))


def test_stochastic_pool_gradient_goes_to_the_sampled_unit_and_gradchecks():
    a = sd.tensor(G.uniform(0.1, 1.0, (2, 3, 4, 4)).astype(np.float32), requires_grad=True)
    out = stochastic_pool2d(a, 2)
    out.sum().backward()
    g = a.grad.numpy().reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 2, 4)
    v = a.numpy().reshape(2, 3, 2, 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 2, 2, 4)
    assert (g.sum(-1) == 1).all() and set(np.unique(g)) == {0.0, 1.0}  # one unit per window
    np.testing.assert_array_equal((v * g).sum(-1), out.numpy())  # ... the one whose value was output
    x = sd.tensor(G.uniform(0.1, 1.0, (1, 2, 4, 4)), requires_grad=True)

    def f(x):
        sd.manual_seed(9)
        return stochastic_pool2d(x, 2, training=True)

    assert gradcheck(f, [x])
    assert gradcheck(lambda x: stochastic_pool2d(x, 2, stride=1, training=False), [x])


# --- label smoothing (7.24, W7.7) -------------------------------------------------------------------------------------
def test_w7_7_smooth_labels_book_and_torch_forms():
    q = R.smooth_labels([2], 4, 0.1).numpy()
    np.testing.assert_allclose(q, [[0.1 / 3, 0.1 / 3, 0.9, 0.1 / 3]], rtol=1e-6)
    np.testing.assert_allclose(q.round(3), [[0.033, 0.033, 0.9, 0.033]])
    np.testing.assert_allclose(R.smooth_labels([2], 4, 0.1, form="torch").numpy(), [[0.025, 0.025, 0.925, 0.025]],
                               rtol=1e-6)
    yy = R.smooth_labels(sd.tensor(np.array([0, 3, 1])), 5, 0.2)
    assert yy.shape == (3, 5) and yy.dtype == sd.float32
    np.testing.assert_allclose(yy.numpy().sum(1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="smooth_labels.*form"):
        R.smooth_labels([1], 4, 0.1, form="keras")
    with pytest.raises(ValueError, match=r"smooth_labels.*\[0, 4\)"):
        R.smooth_labels([4], 4, 0.1)


def test_cross_entropy_book_form_equals_ce_with_book_targets_and_has_finite_minimiser():
    z = sd.tensor(G.standard_normal((6, 4)), requires_grad=True)
    t = np.array([2, 0, 1, 3, 2, 2])
    q = R.smooth_labels(t, 4, 0.1, dtype=np.float64).numpy()
    expect = -(q * np.log(F.softmax(z, 1).numpy())).sum(1).mean()
    for tgt in (t, sd.tensor(t), sd.tensor(np.eye(4)[t])):  # fast path, tensor indices, probability targets
        loss = F.cross_entropy(z, tgt, label_smoothing=0.1, label_smoothing_form="book")
        np.testing.assert_allclose(loss.item(), expect, rtol=1e-10)
    np.testing.assert_allclose(nn.CrossEntropyLoss(label_smoothing=0.1, label_smoothing_form="book")(z, t).item(),
                               expect, rtol=1e-10)  # the module form
    w = sd.tensor(np.ones(4))
    np.testing.assert_allclose(F.cross_entropy(z, t, w, label_smoothing=0.1, label_smoothing_form="book").item(),
                               expect, rtol=1e-10)  # class-weighted path
    np.testing.assert_allclose(F.cross_entropy(z[0], sd.tensor(np.array(2)), label_smoothing=0.1,
                                               label_smoothing_form="book").item(),
                               -(q[0] * np.log(F.softmax(z[:1], 1).numpy()[0])).sum(), rtol=1e-10)  # (C,) input
    # the default is PyTorch's form
    qt = R.smooth_labels(t, 4, 0.1, form="torch", dtype=np.float64).numpy()
    np.testing.assert_allclose(F.cross_entropy(z, t, label_smoothing=0.1).item(),
                               -(qt * np.log(F.softmax(z, 1).numpy())).sum(1).mean(), rtol=1e-10)
    # W7.7: the minimiser is finite, logit gap log((1 - eps)(k - 1)/eps) = log 27; the gradient vanishes there
    gap = math.log(27)
    assert abs(gap - 3.2958) < 1e-4
    zs = sd.tensor(np.array([[0.0, 0.0, gap, 0.0]]), requires_grad=True)
    F.cross_entropy(zs, np.array([2]), label_smoothing=0.1, label_smoothing_form="book").backward()
    np.testing.assert_allclose(zs.grad.numpy(), 0, atol=1e-12)
    z2 = sd.tensor(np.array([[0.0, 0.0, gap + 1, 0.0]]), requires_grad=True)
    F.cross_entropy(z2, np.array([2]), label_smoothing=0.1, label_smoothing_form="book").backward()
    assert z2.grad.numpy()[0, 2] > 1e-3  # a larger gap is pushed back
    with pytest.raises(ValueError, match="label_smoothing_form"):
        F.cross_entropy(z, t, label_smoothing=0.1, label_smoothing_form="keras")
    with pytest.raises(ValueError, match=r"book-form label_smoothing must be <= \(C-1\)/C"):
        F.cross_entropy(z, t, label_smoothing=0.9, label_smoothing_form="book")


def test_book_form_matches_torch_with_rescaled_eps():
    torch = pytest.importorskip("torch")
    zn = G.standard_normal((5, 6))
    t = np.array([0, 5, 2, 2, 1])
    eps, k = 0.15, 6
    z = sd.tensor(zn, requires_grad=True)
    loss = F.cross_entropy(z, t, label_smoothing=eps, label_smoothing_form="book")
    loss.backward()
    zt = torch.tensor(zn, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(zt, torch.tensor(t), label_smoothing=eps * k / (k - 1))
    lt.backward()
    np.testing.assert_allclose(loss.item(), lt.item(), rtol=1e-10)
    np.testing.assert_allclose(z.grad.numpy(), zt.grad.numpy(), rtol=1e-8, atol=1e-12)
