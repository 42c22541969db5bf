"""Parameter-norm penalties (textbook 7.1): L2/L1 gradients, weights-only selection, per-layer alpha, L2 toward
w0, param_groups, the torch oracle for SGD + L2 = weight decay on the weight group, W7.2 and dual ascent (7.26)."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim
from shendu import regularize as R
from shendu.autograd.gradcheck import gradcheck


def _net():
    sd.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 5), nn.LayerNorm(5), nn.Tanh(), nn.Linear(5, 3), nn.BatchNorm1d(3))


def _grads(model):
    return {n: (None if p.grad is None else p.grad.numpy()) for n, p in model.named_parameters()}


def test_l2_and_l1_gradients_are_alpha_w_and_alpha_sign_w_on_weights_only():
    m = _net()
    m[0].weight._data[0, 0] = 0.0  # sign(0) = 0: the L1 subgradient there is 0 (7.20)
    w0, w3 = m[0].weight.numpy(), m[3].weight.numpy()
    pen = R.L2(0.3)(m)
    assert pen.ndim == 0
    np.testing.assert_allclose(pen.item(), 0.15 * ((w0 ** 2).sum() + (w3 ** 2).sum()), rtol=1e-5)
    pen.backward()
    g = _grads(m)
    np.testing.assert_allclose(g["0.weight"], 0.3 * w0, rtol=1e-6)
    np.testing.assert_allclose(g["3.weight"], 0.3 * w3, rtol=1e-6)
    for n in ("0.bias", "1.weight", "1.bias", "3.bias", "4.weight", "4.bias"):  # biases and norm params: nothing
        assert g[n] is None or not np.any(g[n]), n
    m.zero_grad()
    pen = R.L1(0.2)(m)
    np.testing.assert_allclose(pen.item(), 0.2 * (np.abs(w0).sum() + np.abs(w3).sum()), rtol=1e-5)
    pen.backward()
    g = _grads(m)
    np.testing.assert_allclose(g["0.weight"], 0.2 * np.sign(w0), rtol=1e-6)
    assert g["0.weight"][0, 0] == 0.0
    np.testing.assert_allclose(g["3.weight"], 0.2 * np.sign(w3), rtol=1e-6)
    assert g["0.bias"] is None or not np.any(g["0.bias"])


def test_elastic_net_is_the_weighted_sum_and_keeps_float32():
    m = _net()
    w = [m[0].weight.numpy(), m[3].weight.numpy()]
    pen = R.ElasticNet(0.1, l1_ratio=0.25)(m)
    assert pen.dtype == sd.float32
    want = sum(0.1 * (0.25 * np.abs(a).sum() + 0.5 * 0.75 * (a ** 2).sum()) for a in w)
    np.testing.assert_allclose(pen.item(), want, rtol=1e-5)


def test_per_layer_alpha_by_prefix_dict_and_callable():
    m = _net()
    R.L2({"0": 1.0, "3": 0.01})(m).backward()
    np.testing.assert_allclose(m[0].weight.grad.numpy(), m[0].weight.numpy(), rtol=1e-6)
    np.testing.assert_allclose(m[3].weight.grad.numpy(), 0.01 * m[3].weight.numpy(), rtol=1e-6)
    m.zero_grad()
    R.L2({"3": 0.5})(m).backward()  # parameters matching no key are not penalized
    assert m[0].weight.grad is None or not np.any(m[0].weight.grad.numpy())
    m.zero_grad()
    R.L2({"*": 0.1, "3.weight": 2.0})(m).backward()  # "*" is the default, the longest key wins
    np.testing.assert_allclose(m[0].weight.grad.numpy(), 0.1 * m[0].weight.numpy(), rtol=1e-6)
    np.testing.assert_allclose(m[3].weight.grad.numpy(), 2.0 * m[3].weight.numpy(), rtol=1e-6)
    m.zero_grad()
    R.L1(lambda name: 0.5 if name.startswith("3.") else None)(m).backward()
    np.testing.assert_allclose(m[3].weight.grad.numpy(), 0.5 * np.sign(m[3].weight.numpy()))
    assert m[0].weight.grad is None


def test_include_exclude_patterns_and_errors():
    m = _net()
    names = [n for n, _ in R.selected_parameters(m, include="bias", exclude=())]
    assert names == ["0.bias", "1.bias", "3.bias", "4.bias"]
    assert [n for n, _ in R.selected_parameters(m, include="0.*")] == ["0.weight"]
    assert [n for n, _ in R.selected_parameters(m, exclude=("bias",))] == ["0.weight", "1.weight", "3.weight",
                                                                            "4.weight"]
    assert [n for n, _ in R.selected_parameters(m, exclude=lambda n, p, mod: p.ndim < 2)] == ["0.weight",
                                                                                              "3.weight"]
    with pytest.raises(ValueError, match="no parameter"):
        R.L2(0.1, include="nothing_like_this")(m)
    with pytest.raises(ValueError, match="alpha"):
        R.L2(-1.0)
    with pytest.raises(ValueError, match="l1_ratio"):
        R.ElasticNet(0.1, l1_ratio=2.0)
    with pytest.raises(TypeError, match="include"):
        R.L1(0.1, include=3)


def test_l2_toward_a_reference_point_w0():
    m = _net()
    pen = R.L2(0.5, center=m)  # a copy of the current weights: w0 = w
    assert abs(pen(m).item()) < 1e-12
    w0 = m[3].weight.numpy().copy()
    m[3].weight._data[...] += 1.0
    m[0].weight._data[...] *= 2.0
    out = pen(m)
    out.backward()
    np.testing.assert_allclose(m[3].weight.grad.numpy(), 0.5 * (m[3].weight.numpy() - w0), rtol=1e-5)
    want = 0.25 * (w0.size + ((m[0].weight.numpy() / 2) ** 2).sum())  # 0.5*alpha*||w - w0||^2 over both weights
    np.testing.assert_allclose(out.item(), want, rtol=1e-5)
    # partial center (name -> array): the others are pulled toward 0
    m.zero_grad()
    pen = R.L1(1.0, center={"3.weight": w0})
    pen(m).backward()
    np.testing.assert_allclose(m[3].weight.grad.numpy(), np.ones_like(w0))
    np.testing.assert_allclose(m[0].weight.grad.numpy(), np.sign(m[0].weight.numpy()))
    with pytest.raises(ValueError, match="shape"):
        R.L2(0.1, center={"3.weight": np.zeros((2, 2))})(m)


def test_param_groups_exempt_biases_and_norms_from_decay():
    m = _net()
    groups = optim.param_groups(m, weight_decay=0.1, lr=0.5)
    assert [len(g["params"]) for g in groups] == [2, 6]
    assert groups[0]["weight_decay"] == 0.1 and groups[1]["weight_decay"] == 0.0 and groups[0]["lr"] == 0.5
    before = {n: p.numpy().copy() for n, p in m.named_parameters()}
    opt = optim.SGD(groups, lr=0.5)
    for p in m.parameters():
        p.grad = sd.zeros_like(p)
    opt.step()
    for n, p in m.named_parameters():
        factor = 0.95 if n in ("0.weight", "3.weight") else 1.0  # w <- (1 - lr*alpha) w (7.5)
        np.testing.assert_allclose(p.numpy(), factor * before[n], rtol=1e-6, err_msg=n)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.param_groups(m, weight_decay=-1)


def test_sgd_with_l2_penalty_matches_torch_weight_decay_on_the_weight_group():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    m = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 6)), rng.standard_normal((10, 3))
    alpha, lr = 0.05, 0.1
    tw = [p for n, p in tm.named_parameters() if n.endswith("weight")]
    tb = [p for n, p in tm.named_parameters() if n.endswith("bias")]
    topt = torch.optim.SGD([{"params": tw, "weight_decay": alpha}, {"params": tb}], lr=lr, momentum=0.9)
    opt = optim.SGD(m.parameters(), lr=lr, momentum=0.9)
    pen = R.L2(alpha)
    xs, ys = sd.tensor(x), sd.tensor(y)
    for _ in range(5):
        topt.zero_grad()
        torch.nn.functional.mse_loss(tm(torch.tensor(x)), torch.tensor(y)).backward()
        topt.step()
        opt.zero_grad()
        (nn.functional.mse_loss(m(xs), ys) + pen(m)).backward()
        opt.step()
    for (n, p), (_tn, tp) in zip(m.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=n)


class _Quad(nn.Module):
    """J(w) = 0.5 (w - w*)^T H (w - w*), the quadratic approximation of textbook 7.6 / 7.22."""

    def __init__(self, h=(2.0, 1.0), w_star=(1.0, 0.3)):
        super().__init__()
        self.weight = nn.Parameter(sd.zeros(2, dtype=sd.float64))
        self.h = sd.tensor(np.array(h, dtype=np.float64))
        self.w_star = sd.tensor(np.array(w_star, dtype=np.float64))

    def forward(self):
        d = self.weight - self.w_star
        return (d * d * self.h).sum() * 0.5


def _minimize(model, penalty=None, post=None, steps=300, lr=0.2):
    opt = optim.SGD(model.parameters(), lr=lr)
    if post is not None:
        post.attach(opt, model)
    for _ in range(steps):
        opt.zero_grad()
        loss = model()
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        opt.step()
    return model.weight.numpy()


def test_w7_2_l2_and_l1_minimizers_of_the_penalized_quadratic():
    # W7.2: H = diag(2, 1), w* = (1, 0.3), alpha = 0.5: L2 -> (0.8, 0.2) (7.10); L1 -> (0.75, 0) (7.23)
    np.testing.assert_allclose(_minimize(_Quad(), R.L2(0.5)), [0.8, 0.2], atol=1e-9)
    w = _minimize(_Quad(), post=R.ProximalL1(0.5))
    np.testing.assert_allclose(w, [0.75, 0.0], atol=1e-9)
    assert w[1] == 0.0  # the proximal step gives an exact zero
    # the closed form 7.23 itself: soft_threshold(w*, alpha / H_ii)
    st = R.soft_threshold(sd.tensor([1.0, 0.3]), sd.tensor([0.25, 0.5]))
    np.testing.assert_allclose(st.numpy(), [0.75, 0.0])


def test_w7_9_early_stopping_after_tau_steps_acts_like_l2_with_alpha_one_over_eps_tau():
    # textbook 7.8 (Fig 7.4): lambda = (1, 0.01), eps = 0.1, tau = 100 -> early stopping keeps 1 - (1 - eps*lambda)^tau
    # = (0.99997, 0.0952) of w*; L2 with alpha = 1/(eps*tau) = 0.1 keeps lambda/(lambda + alpha) = (0.909, 0.0909)
    early = _minimize(_Quad(h=(1.0, 0.01), w_star=(1.0, 1.0)), steps=100, lr=0.1)
    np.testing.assert_allclose(early, [1 - 0.9 ** 100, 1 - 0.999 ** 100], rtol=1e-10)
    np.testing.assert_allclose(early, [0.99997, 0.0952], atol=5e-5)
    l2 = _minimize(_Quad(h=(1.0, 0.01), w_star=(1.0, 1.0)), R.L2(0.1), steps=600, lr=0.5)
    np.testing.assert_allclose(l2, [1 / 1.1, 0.01 / 0.11], rtol=1e-8)
    assert abs(early[1] - l2[1]) < 0.005  # the small-eigenvalue direction matches closely


def test_soft_threshold_matches_torch_softshrink_and_gradchecks():
    torch = pytest.importorskip("torch")
    x = np.array([-2.0, -0.7, -0.2, 0.0, 0.1, 0.45, 1.3])
    t = sd.tensor(x, requires_grad=True)
    out = R.soft_threshold(t, 0.5)
    (out * sd.tensor(np.arange(7.0))).sum().backward()
    tt = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.softshrink(tt, 0.5)
    (tout * torch.arange(7.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy())
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy())
    arr = R.soft_threshold(sd.tensor(x)._data, 0.5)  # the array form, same namespace
    np.testing.assert_allclose(sd.backend.to_host(arr), tout.detach().numpy())
    away = sd.tensor(np.array([-2.0, -0.9, 0.1, 0.2, 1.3]), requires_grad=True)  # away from the kinks |w| = t
    assert gradcheck(lambda w: R.soft_threshold(w, 0.5), [away])
    with pytest.raises(ValueError, match="soft_threshold"):
        R.soft_threshold(sd.tensor([1.0]), -1.0)


def test_lagrangian_dual_ascent_finds_the_penalty_of_the_constraint():
    # 7.26-7.28: with k = Omega(w~) for the L2 solution w~ = (0.8, 0.2) (Omega = 0.5||w||^2 = 0.34), dual ascent on
    # alpha converges to alpha* = 0.5 and theta to w~; with a loose k the constraint is inactive: alpha -> 0
    lag = R.NormConstraintPenalty(0.34, dual_lr=0.5)
    w = _minimize(_Quad(), lag, steps=800, lr=0.2)
    np.testing.assert_allclose(w, [0.8, 0.2], atol=1e-4)
    assert abs(lag.alpha - 0.5) < 1e-3
    omegas = [o for o, _ in lag.history]
    assert max(omegas[:30]) > 0.34  # it first leaves the set, and alpha rises
    loose = R.NormConstraintPenalty(1.0, dual_lr=0.5)
    w = _minimize(_Quad(), loose, steps=300)
    assert loose.alpha == 0.0
    np.testing.assert_allclose(w, [1.0, 0.3], atol=1e-6)
    with pytest.raises(ValueError, match="norm"):
        R.NormConstraintPenalty(1.0, norm="l3")


def test_digits_mlp_l2_l1_and_max_norm_shrink_the_train_test_gap():
    # an over-parameterized MLP (64-256-256-10, ~85k weights) on 200 digits fits the training set (CE ~ 3e-4);
    # measured here: test-minus-train cross-entropy 0.48 plain, 0.29 L2(3e-3), 0.32 L1(3e-4), 0.34 MaxNorm(1)
    from shendu.data.datasets import load_digits
    from shendu.train import evaluate, fit

    (xtr, ytr), (xte, yte) = load_digits()
    xtr, ytr = xtr[:200], ytr[:200]

    def gap(regularizers=(), constraints=()):
        sd.manual_seed(0)
        m = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        fit(m, (xtr, ytr), loss="cross_entropy", optimizer=optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
            epochs=60, batch_size=32, regularizers=regularizers, constraints=constraints, verbose=0)
        tr = evaluate(m, (xtr, ytr), loss="cross_entropy")["loss"]
        te = evaluate(m, (xte, yte), loss="cross_entropy")["loss"]
        return te - tr, te

    plain, plain_test = gap()
    assert plain > 0.3  # it overfits
    for kw in (dict(regularizers=[R.L2(3e-3)]), dict(regularizers=[R.L1(3e-4)]), dict(constraints=[R.MaxNorm(1.0)])):
        g, test = gap(**kw)
        assert g < 0.8 * plain and test < plain_test, (kw, g, plain, test, plain_test)
