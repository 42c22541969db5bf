"""Sparse representations (textbook 7.10: activity penalties through forward hooks, OMP-k, W7.10), parameter
tying and sharing (7.9, W7.17, tied encoder-decoder), multi-task learning with missing labels (7.7)."""
import itertools

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn, optim
from shendu import regularize as R
from shendu.autograd import gradcheck

G = np.random.default_rng(3)


def _t(a, grad=False):
    return sd.tensor(np.asarray(a, np.float32), requires_grad=grad)


# --- activity penalties (7.38-7.41) -----------------------------------------------------------------------------------
def test_activity_l1_value_gradient_and_remove():
    lin = nn.Linear(6, 5)
    pen = R.ActivityL1(lin, alpha=0.3)
    with pytest.raises(RuntimeError, match="ActivityL1.*not run a forward"):
        pen()
    x = _t(G.standard_normal((4, 6)))
    h = lin(x)
    assert pen.activations is h
    hv = h.numpy()
    p = pen(lin)  # the fit(regularizers=...) form: called with the model
    np.testing.assert_allclose(p.item(), 0.3 * np.abs(hv).sum() / 4, rtol=1e-6)
    p.backward()
    g = 0.3 * np.sign(hv) / 4  # dOmega/dh, chained through h = x W^T + b
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0), rtol=1e-5, atol=1e-7)
    lin(x * 2)
    np.testing.assert_allclose(pen().item(), 0.3 * np.abs(lin(x * 2).numpy()).sum() / 4, rtol=1e-6)  # the last forward
    pen.remove()
    lin(x)
    with pytest.raises(RuntimeError):
        pen()
    with pytest.raises(TypeError, match="ActivityL1"):
        R.ActivityL1(lambda x: x, 0.1)


def test_student_t_and_mean_activation_target_values_and_gradients():
    h = _t(G.standard_normal((5, 3)), grad=True)
    ident = nn.Identity()
    st = R.StudentT(ident, alpha=0.2)
    mt = R.MeanActivationTarget(ident, target=0.01, alpha=2.0)
    ident(h)
    hv = h.numpy()
    v = st()
    np.testing.assert_allclose(v.item(), 0.2 * np.log1p(hv ** 2).sum() / 5, rtol=1e-6)
    v.backward()
    np.testing.assert_allclose(h.grad.numpy(), 0.2 * 2 * hv / (1 + hv ** 2) / 5, rtol=1e-5)
    h.grad = None
    v = mt()
    np.testing.assert_allclose(v.item(), 2.0 * ((hv.mean(0) - 0.01) ** 2).sum(), rtol=1e-5)
    v.backward()
    np.testing.assert_allclose(h.grad.numpy(), np.broadcast_to(2.0 * 2 * (hv.mean(0) - 0.01) / 5, (5, 3)), rtol=1e-5)


def test_activity_kl_matches_formula_gradchecks_and_checks_range():
    rho, beta = 0.05, 3.0
    h = sd.tensor(G.uniform(0.02, 0.9, (8, 4)), requires_grad=True)
    sig = nn.Identity()
    kl = R.ActivityKL(sig, rho=rho, beta=beta)
    sig(h)
    r = h.numpy().mean(0)
    expect = beta * (rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))).sum()
    np.testing.assert_allclose(kl().item(), expect, rtol=1e-10)
    kl().backward()
    np.testing.assert_allclose(h.grad.numpy(), np.broadcast_to(beta * (-rho / r + (1 - rho) / (1 - r)) / 8, (8, 4)),
                               rtol=1e-8)
    assert gradcheck(lambda x: kl.penalty(x), [h])
    sig(sd.full((2, 4), rho, dtype=sd.float64))
    assert abs(kl().item()) < 1e-12  # KL(rho || rho) = 0
    sig(sd.tensor(np.array([[1.5, 0.2]])))
    with pytest.raises(ValueError, match=r"ActivityKL.*\[0, 1\]"):
        kl()
    with pytest.raises(ValueError, match="rho"):
        R.ActivityKL(sig, rho=0.0)


def _digits():
    from shendu.data.datasets import load_digits

    return load_digits()


def test_activity_l1_makes_hidden_code_sparse_on_digits():
    (x, y), (xt, yt) = _digits()
    x, xt = sd.tensor(x), sd.tensor(xt)

    def train(alpha):
        sd.manual_seed(0)
        hidden = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        net = nn.Sequential(hidden, nn.Linear(64, 10))
        pen = R.ActivityL1(hidden, alpha) if alpha else None
        opt = optim.Adam(net.parameters(), lr=0.01)
        for _ in range(150):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            if pen is not None:
                loss = loss + pen()
            loss.backward()
            opt.step()
        net.eval()
        acc = (net(xt).numpy().argmax(1) == yt).mean()
        h = hidden(xt).numpy()
        return acc, (h == 0).mean(), np.abs(h).sum(1).mean()

    acc0, zeros0, l1_0 = train(0.0)
    acc1, zeros1, l1_1 = train(0.05)
    assert acc0 > 0.9 and acc1 > 0.9
    assert zeros1 > zeros0 + 0.2 and l1_1 < 0.3 * l1_0, (zeros0, zeros1, l1_0, l1_1)


def test_activity_kl_drives_mean_activation_to_rho_in_an_autoencoder():
    (x, _), _ = _digits()
    x = sd.tensor(x[:600])
    baseline = ((x.numpy() - x.numpy().mean(0)) ** 2).mean()  # MSE of predicting the mean image

    def train(beta):
        sd.manual_seed(1)
        enc = nn.Sequential(nn.Linear(64, 32), nn.Sigmoid())
        dec = nn.Linear(32, 64)
        kl = R.ActivityKL(enc, rho=0.05, beta=beta)
        opt = optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=0.02)
        for _ in range(300):
            opt.zero_grad()
            loss = F.mse_loss(dec(enc(x)), x)
            if beta:
                loss = loss + kl()
            loss.backward()
            opt.step()
        return enc(x).numpy().mean(0), F.mse_loss(dec(enc(x)), x).item() / baseline

    rho0, err0 = train(0.0)
    rho1, err1 = train(0.05)
    assert rho0.mean() > 0.2  # unpenalized sigmoid units stay far from the target
    assert abs(rho1.mean() - 0.05) < 0.01 and rho1.max() < 0.1, rho1
    assert err1 < 0.5, err1  # the sparse code still reconstructs (well below the mean-image baseline)


# --- OMP (7.42, W7.10) ----------------------------------------------------------------------------------------------
def test_w7_10_omp1_with_identity_dictionary():
    h = R.omp(sd.eye(3), sd.tensor(np.array([0.2, -3.0, 1.0], np.float32)), 1)
    np.testing.assert_allclose(h.numpy(), [0, -3, 0])
    np.testing.assert_allclose(R.omp(sd.eye(3), sd.tensor(np.array([0.2, -3.0, 1.0])), 2).numpy(), [0, -3, 1])


def test_omp_orthonormal_keeps_top_k_and_recovers_sparse_codes():
    q, _ = np.linalg.qr(G.standard_normal((8, 8)))
    x = G.standard_normal(8)
    c = q.T @ x
    top = np.argsort(-np.abs(c))[:3]
    expect = np.zeros(8)
    expect[top] = c[top]
    np.testing.assert_allclose(R.omp(sd.tensor(q), sd.tensor(x), 3).numpy(), expect, atol=1e-10)
    # an overcomplete random dictionary: exact recovery of 3-sparse codes, batched
    D = G.standard_normal((40, 60))
    H = np.zeros((5, 60))
    for i in range(5):
        H[i, G.choice(60, 3, replace=False)] = G.uniform(1, 2, 3) * G.choice([-1, 1], 3)
    got = R.omp(sd.tensor(D), sd.tensor(H @ D.T), 3).numpy()
    np.testing.assert_allclose(got, H, atol=1e-8)
    # small case: OMP-k's residual is the least-squares residual on its support, never below the best k-subset
    D2, x2 = G.standard_normal((5, 7)), G.standard_normal(5)
    h2 = R.omp(sd.tensor(D2), sd.tensor(x2), 2).numpy()
    assert (h2 != 0).sum() <= 2
    best = min(np.linalg.lstsq(D2[:, list(s)], x2, rcond=None)[1].sum() for s in itertools.combinations(range(7), 2))
    r = ((x2 - D2 @ h2) ** 2).sum()
    assert r >= best - 1e-12 and r < (x2 ** 2).sum()
    with pytest.raises(ValueError, match="omp: k"):
        R.omp(sd.eye(3), sd.ones(3), 4)
    with pytest.raises(ValueError, match="omp: expected"):
        R.omp(sd.eye(3), sd.ones(4), 1)


# --- tying and sharing (7.35-7.37, W7.17) -------------------------------------------------------------------------
def test_w7_17_tied_penalty_value_and_gradient():
    a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    pen = R.TiedPenalty(a, b, alpha=0.7)
    wa, wb, ba, bb = a.weight.numpy(), b.weight.numpy(), a.bias.numpy(), b.bias.numpy()
    v = pen(None)
    np.testing.assert_allclose(v.item(), 0.7 * (((wa - wb) ** 2).sum() + ((ba - bb) ** 2).sum()), rtol=1e-5)
    v.backward()
    np.testing.assert_allclose(a.weight.grad.numpy(), 2 * 0.7 * (wa - wb), rtol=1e-5)
    np.testing.assert_allclose(b.weight.grad.numpy(), -2 * 0.7 * (wa - wb), rtol=1e-5)
    only_w = R.TiedPenalty(a, b, alpha=1.0, names=["weight"])
    np.testing.assert_allclose(only_w().item(), ((wa - wb) ** 2).sum(), rtol=1e-5)
    with pytest.raises(ValueError, match="TiedPenalty.*shape"):
        R.TiedPenalty(a, nn.Linear(5, 3))
    with pytest.raises(ValueError, match="no parameter names in common"):
        R.TiedPenalty(a, nn.ReLU())


def test_tied_penalty_pulls_two_models_together_while_training():
    sd.manual_seed(0)
    a, b = nn.Linear(3, 1), nn.Linear(3, 1)
    xa, xb = sd.randn(64, 3), sd.randn(64, 3)
    ya = xa @ sd.tensor(np.array([[1.0], [2.0], [-1.0]], np.float32))
    yb = xb @ sd.tensor(np.array([[1.2], [1.8], [-1.0]], np.float32))  # a related task: weights 0.2 apart
    pen = R.TiedPenalty(a, b, alpha=5.0)
    opt = optim.SGD(list(a.parameters()) + list(b.parameters()), lr=0.02)
    for _ in range(400):
        opt.zero_grad()
        (F.mse_loss(a(xa), ya) + F.mse_loss(b(xb), yb) + pen()).backward()
        opt.step()
    gap = np.abs(a.weight.numpy() - b.weight.numpy()).max()
    assert gap < 0.05  # the true weights differ by 0.2; the penalty keeps the two close
    np.testing.assert_allclose(a.weight.numpy().ravel(), [1.1, 1.9, -1.0], atol=0.1)


def test_share_parameters_one_copy_gradients_add():
    a = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    b = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    names = R.share_parameters(a, b, names=["0.weight", "0.bias"])
    assert names == ["0.weight", "0.bias"] and b[0].weight is a[0].weight and b[2].weight is not a[2].weight
    both = nn.ModuleList([a, b])
    assert len(list(both.parameters())) == 6  # the shared pair is stored once
    x1, x2 = sd.randn(5, 3), sd.randn(5, 3)
    a(x1).sum().backward()
    g1 = a[0].weight.grad.numpy().copy()
    a.zero_grad()
    b(x2).sum().backward()
    g2 = a[0].weight.grad.numpy().copy()
    a.zero_grad()
    b.zero_grad()
    (a(x1).sum() + b(x2).sum()).backward()
    np.testing.assert_allclose(a[0].weight.grad.numpy(), g1 + g2, rtol=1e-5, atol=1e-7)


def test_tied_linear_autoencoder_matches_torch():
    torch = pytest.importorskip("torch")
    enc = nn.Linear(6, 3).double()
    dec = nn.TiedLinear(enc)
    assert dec.weight is enc.weight and dec.bias.shape == (6,)
    ae = nn.Sequential(enc, nn.Tanh(), dec)
    assert len(list(ae.parameters())) == 3  # W, b, c: one weight matrix
    dec.bias._data = sd.tensor(G.standard_normal(6))._data  # a nonzero decoder bias (on the default device)
    x = G.standard_normal((4, 6))
    loss = F.mse_loss(ae(sd.tensor(x)), sd.tensor(x))
    loss.backward()
    W = torch.tensor(enc.weight.numpy(), requires_grad=True)
    b = torch.tensor(enc.bias.numpy(), requires_grad=True)
    c = torch.tensor(dec.bias.numpy(), requires_grad=True)
    xt = torch.tensor(x)
    lt = torch.nn.functional.mse_loss(torch.tanh(xt @ W.T + b) @ W + c, xt)
    lt.backward()
    np.testing.assert_allclose(loss.item(), lt.item(), rtol=1e-12)
    np.testing.assert_allclose(enc.weight.grad.numpy(), W.grad.numpy(), rtol=1e-10)  # sum of both uses
    np.testing.assert_allclose(enc.bias.grad.numpy(), b.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(dec.bias.grad.numpy(), c.grad.numpy(), rtol=1e-10)
    assert gradcheck(lambda xx: dec(xx), [sd.tensor(G.standard_normal((2, 3)), requires_grad=True)])
    with pytest.raises(ValueError, match="TiedLinear"):
        dec(sd.ones(2, 6, dtype=sd.float64))
    with pytest.raises(TypeError, match="TiedLinear"):
        nn.TiedLinear(nn.ReLU())


# --- multi-task (7.27) ------------------------------------------------------------------------------------------------
def _mt():
    sd.manual_seed(0)
    return nn.MultiTask(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), {"cls": nn.Linear(8, 3), "reg": nn.Linear(8, 2)})


def test_multitask_model_returns_named_heads():
    m = _mt()
    out = m(sd.randn(5, 4))
    assert set(out) == {"cls", "reg"} and out["cls"].shape == (5, 3) and out["reg"].shape == (5, 2)
    assert set(m(sd.randn(2, 4), tasks="reg")) == {"reg"}
    with pytest.raises(KeyError, match="no head named"):
        m(sd.randn(2, 4), tasks=["nope"])
    assert len(list(m.parameters())) == 6


def test_multitask_loss_ignores_missing_labels_mask_and_nan():
    m = _mt()
    x = sd.randn(6, 4)
    yc = np.array([0, 2, 1, 1, 0, 2])
    yr = G.standard_normal((6, 2)).astype(np.float32)
    mask = np.array([1, 0, 1, 1, 0, 1], bool)
    yr_nan = yr.copy()
    yr_nan[[0, 3]] = np.nan
    losses = {"cls": F.cross_entropy, "reg": F.mse_loss}
    total, parts = R.multitask_loss(m(x), {"cls": yc, "reg": sd.tensor(yr_nan)}, losses,
                                    weights={"cls": 1.0, "reg": 0.5}, masks={"cls": mask}, return_parts=True)
    assert np.isfinite(total.item())
    total.backward()
    got = {n: p.grad.numpy().copy() for n, p in m.named_parameters()}
    # the same loss written by hand on the labelled rows only
    m.zero_grad()
    out = m(x)
    keep_r = np.array([1, 2, 4, 5])
    ref = F.cross_entropy(out["cls"][np.flatnonzero(mask)], yc[mask]) + 0.5 * F.mse_loss(
        out["reg"][keep_r], sd.tensor(yr[keep_r]))
    np.testing.assert_allclose(total.item(), ref.item(), rtol=1e-6)
    np.testing.assert_allclose(parts["cls"].item(), F.cross_entropy(out["cls"][np.flatnonzero(mask)], yc[mask]).item(),
                               rtol=1e-6)
    ref.backward()
    for n, p in m.named_parameters():
        np.testing.assert_allclose(got[n], p.grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=n)


def test_missing_labels_send_no_gradient():
    m = _mt()
    x = sd.randn(4, 4, requires_grad=True)
    yc = np.array([0, 1, 2, 0])
    mask = np.array([True, False, True, False])
    R.multitask_loss(m(x), {"cls": yc}, F.cross_entropy, masks={"cls": mask}).backward()
    g = x.grad.numpy()
    assert np.all(g[~mask] == 0) and np.any(g[mask] != 0)  # rows without a label: exactly zero gradient
    assert m.heads["reg"].weight.grad is None  # a task without targets is not in the loss
    m.zero_grad()
    none = R.multitask_loss(m(x), {"cls": yc}, F.cross_entropy, masks={"cls": np.zeros(4, bool)})
    assert none.item() == 0.0
    with pytest.raises(KeyError, match="no output for task"):
        R.multitask_loss(m(x), {"other": yc}, F.cross_entropy)
    with pytest.raises(ValueError, match="mask of task 'cls'"):
        R.multitask_loss(m(x), {"cls": yc}, F.cross_entropy, masks={"cls": np.ones(3, bool)})


def test_multitask_learns_digits_with_most_labels_missing():
    (x, y), (xt, yt) = _digits()
    n = len(y)
    sd.manual_seed(0)
    rng = np.random.default_rng(0)
    has_digit = rng.random(n) < 0.3  # 70% of the digit labels are missing
    parity = (y % 2).astype(np.float32).reshape(-1, 1)
    model = nn.MultiTask(nn.Sequential(nn.Linear(64, 64), nn.ReLU()),
                         {"digit": nn.Linear(64, 10), "odd": nn.Linear(64, 1)})
    opt = optim.Adam(model.parameters(), lr=0.01)
    xs = sd.tensor(x)
    for _ in range(150):
        opt.zero_grad()
        loss = R.multitask_loss(model(xs), {"digit": y, "odd": parity},
                                {"digit": F.cross_entropy, "odd": F.binary_cross_entropy_with_logits},
                                weights={"digit": 1.0, "odd": 0.5}, masks={"digit": has_digit})
        loss.backward()
        opt.step()
    model.eval()
    out = model(sd.tensor(xt))
    acc = (out["digit"].numpy().argmax(1) == yt).mean()
    acc_odd = ((out["odd"].numpy()[:, 0] > 0) == (yt % 2 == 1)).mean()
    assert acc > 0.85 and acc_odd > 0.9, (acc, acc_odd)
