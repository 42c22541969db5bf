"""Adversarial examples and training (textbook 7.13): W7.16, FGSM and PGD against a PyTorch reference, the
adversarial objective (value, gradients, gradcheck, torch), and the digits claim through the example."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.autograd import gradcheck
from shendu.regularize import adversarial_fit, adversarial_loss, fgsm, linear_perturbation_bound, pgd, robust_accuracy

from ._examples import load_example

F = sd.nn.functional
R = np.random.default_rng(3)


def test_linf_perturbation_moves_a_linear_model_by_eps_times_l1_norm():
    # W7.16: d = 1000, |w_i| = 0.1, eps = 0.01 -> the worst-case change is eps ||w||_1 = 1.0, at eta = eps sign(w)
    d, eps = 1000, 0.01
    w = np.where(R.random(d) < 0.5, -0.1, 0.1)
    with sd.default_dtype(np.float64):
        lin = nn.Linear(d, 1)
        with sd.no_grad():
            lin.weight.copy_(sd.tensor(w[None, :]))
        x = sd.randn(4, d)
    assert linear_perturbation_bound(lin.weight, eps).item() == pytest.approx(1.0)
    up = lambda out, y: out.sum()  # noqa: E731  (ascend the output itself)
    xa = fgsm(lin, up, x, None, eps)
    np.testing.assert_allclose(np.abs(xa.numpy() - x.numpy()), eps, rtol=1e-12)
    np.testing.assert_allclose((lin(xa) - lin(x)).numpy(), 1.0, rtol=1e-10)
    # random perturbations of the same L-inf size move it far less (~ eps ||w||_2 = 0.032)
    rnd = [abs(float((sd.tensor(eps * np.sign(R.standard_normal(d))) * lin.weight).sum().item())) for _ in range(50)]
    assert max(rnd) < 0.25


def test_fgsm_increases_the_loss_of_logistic_regression_and_leaves_parameter_grads_alone():
    model = nn.Linear(5, 1)
    x, y = sd.randn(32, 5), sd.tensor((R.random((32, 1)) < 0.5).astype(np.float32))
    lossf = F.binary_cross_entropy_with_logits
    xa = fgsm(model, lossf, x, y, 0.1)
    assert lossf(model(xa), y).item() > lossf(model(x), y).item() + 0.01
    assert model.weight.grad is None and model.bias.grad is None
    assert xa.dtype == x.dtype and not xa.requires_grad
    xc = fgsm(model, lossf, x, y, 5.0, clip=(-0.5, 0.5))
    assert xc.numpy().min() >= -0.5 and xc.numpy().max() <= 0.5
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, lossf, x, y, -1.0)


def _pair():
    """A float64 shendu MLP and the same torch MLP."""
    torch = pytest.importorskip("torch")
    with sd.default_dtype(np.float64):
        m = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 4))
    t = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4)).double()
    with torch.no_grad():
        for i in (0, 2):
            t[i].weight.copy_(torch.tensor(m[i].weight.numpy()))
            t[i].bias.copy_(torch.tensor(m[i].bias.numpy()))
    x = R.standard_normal((5, 6))
    y = R.integers(0, 4, 5)
    return torch, m, t, x, y


def _torch_step(torch, t, xa, y, lossf):
    xa = xa.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(lossf(t(xa), y), [xa])
    return g


def test_fgsm_and_pgd_match_a_torch_reference():
    torch, m, t, x, y = _pair()
    tf = torch.nn.functional.cross_entropy
    xt, yt = torch.tensor(x), torch.tensor(y)
    ref = xt + 0.05 * _torch_step(torch, t, xt, yt, tf).sign()
    xs = fgsm(m, "cross_entropy", sd.tensor(x), sd.tensor(y), 0.05)
    np.testing.assert_allclose(xs.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    # PGD, L-inf and L2, a few steps
    for norm in ("inf", 2):
        xa = xt.clone()
        for _ in range(4):
            g = _torch_step(torch, t, xa, yt, tf)
            if norm == "inf":
                xa = xt + (xa + 0.1 * g.sign() - xt).clamp(-0.25, 0.25)
            else:
                xa = xa + 0.1 * g / g.norm(dim=1, keepdim=True)
                dlt = xa - xt
                xa = xt + dlt * (0.25 / dlt.norm(dim=1, keepdim=True)).clamp(max=1.0)
        xs = pgd(m, F.cross_entropy, sd.tensor(x), sd.tensor(y), 0.25, 0.1, 4, norm=norm)
        np.testing.assert_allclose(xs.numpy(), xa.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_pgd_stays_in_the_ball_and_finds_a_higher_loss_than_fgsm():
    from shendu.data.datasets import load_digits

    (x, y), _ = load_digits()
    x, y = x[:300], y[:300]
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    sd.train.fit(model, (x, y), loss="cross_entropy", epochs=5, lr=1e-2, verbose=0)
    model.eval()
    xt, yt = sd.tensor(x), sd.tensor(y)
    eps = 0.1
    lf = F.cross_entropy(model(fgsm(model, "cross_entropy", xt, yt, eps)), yt).item()
    xp = pgd(model, "cross_entropy", xt, yt, eps, eps / 4, 10)
    assert np.abs(xp.numpy() - x).max() <= eps + 1e-6
    assert F.cross_entropy(model(xp), yt).item() > lf
    xr = pgd(model, "cross_entropy", xt, yt, eps, eps / 4, 3, random_start=True, clip=(0.0, 1.0))
    assert np.abs(xr.numpy() - x).max() <= eps + 1e-6 and xr.numpy().min() >= 0.0 and xr.numpy().max() <= 1.0
    x2 = pgd(model, "cross_entropy", xt, yt, 0.5, 0.2, 5, norm=2, random_start=True)
    assert np.linalg.norm((x2.numpy() - x).reshape(len(x), -1), axis=1).max() <= 0.5 + 1e-5
    with pytest.raises(ValueError, match="norm"):
        pgd(model, "cross_entropy", xt, yt, 0.1, 0.1, 1, norm=1)


def test_adversarial_loss_value_gradients_and_torch():
    torch, m, t, x, y = _pair()
    xs, ys = sd.tensor(x), sd.tensor(y)
    loss = adversarial_loss(m, F.cross_entropy, xs, ys, eps=0.1, alpha=0.3)
    xa = fgsm(m, F.cross_entropy, xs, ys, 0.1)
    by_hand = 0.3 * F.cross_entropy(m(xs), ys) + 0.7 * F.cross_entropy(m(xa), ys)
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-12)
    loss.backward()
    tf = torch.nn.functional.cross_entropy
    xt, yt = torch.tensor(x), torch.tensor(y)
    xta = (xt + 0.1 * _torch_step(torch, t, xt, yt, tf).sign()).detach()
    lt = 0.3 * tf(t(xt), yt) + 0.7 * tf(t(xta), yt)
    lt.backward()
    assert loss.item() == pytest.approx(lt.item(), rel=1e-12)
    for i in (0, 2):
        np.testing.assert_allclose(m[i].weight.grad.numpy(), t[i].weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(m[i].bias.grad.numpy(), t[i].bias.grad.numpy(), rtol=1e-10, atol=1e-12)
    # float64 gradcheck in the parameters (eta = eps sign(grad_x J) is locally constant)
    assert gradcheck(lambda w, b: adversarial_loss(m, F.cross_entropy, xs, ys, eps=0.1, alpha=0.3),
                     [m[0].weight, m[2].bias], eps=1e-6, atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="alpha"):
        adversarial_loss(m, F.cross_entropy, xs, ys, 0.1, alpha=1.5)


def test_adversarial_loss_with_pgd_attack_and_alpha_edges():
    torch, m, t, x, y = _pair()
    xs, ys = sd.tensor(x), sd.tensor(y)
    clean = F.cross_entropy(m(xs), ys).item()
    assert adversarial_loss(m, "cross_entropy", xs, ys, 0.2, alpha=1.0).item() == pytest.approx(clean)
    adv_f = adversarial_loss(m, "cross_entropy", xs, ys, 0.2, alpha=0.0).item()
    adv_p = adversarial_loss(m, "cross_entropy", xs, ys, 0.2, alpha=0.0, attack=pgd,
                             attack_kwargs={"alpha": 0.05, "steps": 8}).item()
    assert adv_p >= adv_f - 1e-9 > clean


def test_adversarial_fit_learns_and_resists_fgsm_on_digits_example():
    res = load_example("adversarial").main(["--quick"])
    i = res["eps"].index(0.1)
    assert res["plain"][0] > 0.9 and res["adversarial"][0] > 0.9  # both learn the clean task
    assert res["adversarial"][i] > res["plain"][i] + 0.05  # the adversarially trained model keeps more accuracy
    assert res["pgd_adversarial"] > res["pgd_plain"]


def test_adversarial_fit_history_and_robust_accuracy_errors():
    x = R.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    hist = adversarial_fit(model, x, y, epochs=15, lr=1e-2, eps=0.05, batch_size=16)
    assert len(hist) == 15 and hist[-1] < hist[0]
    assert robust_accuracy(model, x, y, 0.0) > 0.9
    assert not model.training


def test_tangent_prop_penalty_linear_closed_form_torch_and_gradcheck():
    from shendu.regularize import input_jvp, tangent_prop_penalty

    with sd.default_dtype(np.float64):
        lin = nn.Linear(4, 3)
        x, v, v2 = sd.randn(5, 4), sd.randn(5, 4), sd.randn(5, 4)
    W = lin.weight.numpy()
    want = np.mean(np.sum((v.numpy() @ W.T) ** 2, axis=1)) + np.mean(np.sum((v2.numpy() @ W.T) ** 2, axis=1))
    assert tangent_prop_penalty(lin, x, [v, v2]).item() == pytest.approx(want, rel=1e-12)
    torch, m, t, xn, _ = _pair()
    vn = R.standard_normal(xn.shape)
    pen = tangent_prop_penalty(m, sd.tensor(xn), sd.tensor(vn))
    _, tj = torch.autograd.functional.jvp(t, torch.tensor(xn), torch.tensor(vn), create_graph=True)
    tp = (tj ** 2).sum(dim=1).mean()
    assert pen.item() == pytest.approx(tp.item(), rel=1e-10)
    np.testing.assert_allclose(input_jvp(m, sd.tensor(xn), sd.tensor(vn)).numpy(), tj.detach().numpy(), rtol=1e-10)
    pen.backward()
    tp.backward()
    for i in (0, 2):
        np.testing.assert_allclose(m[i].weight.grad.numpy(), t[i].weight.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert gradcheck(lambda w: tangent_prop_penalty(m, sd.tensor(xn), sd.tensor(vn)), [m[0].weight],
                     eps=1e-6, atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="shape"):
        input_jvp(m, sd.tensor(xn), sd.tensor(vn[:, :3]))


def test_translation_tangent_and_tangent_prop_training_on_digits():
    from shendu.data.datasets import load_digits
    from shendu.regularize import tangent_prop_penalty, translation_tangent

    ramp = sd.tensor(np.tile(np.arange(5.0, dtype=np.float32), (2, 1, 4, 1)))  # (2, 1, 4, 5), x[j] = j
    th = translation_tangent(ramp).numpy()
    np.testing.assert_allclose(th[..., 1:-1], 1.0)  # interior: d x / d j = 1
    np.testing.assert_allclose(th[..., 0], 0.5)  # zero padding at the borders
    np.testing.assert_allclose(translation_tangent(ramp, dim=-2).numpy()[..., 1:-1, :], 0.0)
    (x, y), (xt, yt) = load_digits(flatten=False)
    x, y = x[:600], y[:600]
    tx = translation_tangent(sd.tensor(x))
    flat = nn.Flatten()
    pens, accs = [], []
    for lam in (0.0, 0.3):
        sd.manual_seed(0)
        model = nn.Sequential(flat, nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
        opt = sd.optim.Adam(model.parameters(), lr=1e-2)
        xs, ys = sd.tensor(x), sd.tensor(y)
        for _ in range(60):
            loss = F.cross_entropy(model(xs), ys)
            if lam:
                loss = loss + lam * tangent_prop_penalty(model, xs, tx)
            opt.zero_grad()
            loss.backward()
            opt.step()
        pens.append(tangent_prop_penalty(model, sd.tensor(xt), translation_tangent(sd.tensor(xt))).item())
        accs.append(robust_accuracy(model, xt, yt, 0.0))
    assert pens[1] < 0.5 * pens[0], pens  # locally invariant to translation on unseen digits
    assert accs[1] > 0.85, accs
