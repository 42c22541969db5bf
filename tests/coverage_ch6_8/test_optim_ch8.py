"""Chapter 8 optimizers: BFGS exact line search (8.46, W8.14), saddle-free Newton (8.10), delta-bar-delta (8.32),
scaled conjugate gradient (8.44), Collobert 1/sqrt(fan-in) rates (T2.10), worked vector W8.3."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim

A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
B = np.array([1.0, -2.0, 0.5])


def _quad_closure(w, backward=True):
    At, bt = sd.tensor(A), sd.tensor(B)

    def closure():
        if w.grad is not None:
            w.grad = None
        loss = 0.5 * (w * (At @ w)).sum() - (bt * w).sum()
        if backward:
            loss.backward()
        return loss
    return closure


def test_w8_14_bfgs_exact_line_search_converges_in_n_steps_and_m_is_h_inverse():
    w = sd.tensor(np.array([2.0, 2.0, -1.0]), requires_grad=True)
    opt = optim.BFGS([w], line_search_fn="exact", max_iter=3, tolerance_grad=0.0, tolerance_change=0.0)
    opt.step(_quad_closure(w))
    np.testing.assert_allclose(w.numpy(), np.linalg.solve(A, B), atol=1e-10)  # n = 3 steps
    st = opt.state[w]
    assert st["n_iter"] == 3
    np.testing.assert_allclose(sd.tensor(st["M"]).numpy(), np.linalg.inv(A), atol=1e-8)
    w2 = sd.tensor(np.array([2.0, 2.0, -1.0]), requires_grad=True)  # the Wolfe search is not exact: not in 3
    optim.BFGS([w2], max_iter=3, tolerance_grad=0.0, tolerance_change=0.0).step(_quad_closure(w2))
    assert np.abs(w2.numpy() - np.linalg.solve(A, B)).max() > 1e-6
    with pytest.raises(ValueError, match="exact"):
        optim.BFGS([w], line_search_fn="golden")


def test_saddle_free_newton_escapes_a_saddle_newton_converges_to_it():
    # f = x^2 - y^2 + y^4 / 4: saddle at 0, minima at y = +-sqrt(2); start next to the saddle
    def run(opt_cls, **kw):
        p = sd.tensor(np.array([0.3, 0.05]), requires_grad=True)
        opt = opt_cls([p], **kw)
        for _ in range(12):
            opt.step(lambda: p[0] ** 2 - p[1] ** 2 + p[1] ** 4 / 4)
        return p.numpy(), opt
    p_newton, _ = run(optim.Newton, ensure_descent=False)
    np.testing.assert_allclose(p_newton, [0.0, 0.0], atol=1e-6)  # Newton is attracted by the saddle (8.2.3)
    p_sfn, opt = run(optim.SaddleFreeNewton, damping=0.0)
    np.testing.assert_allclose(p_sfn, [0.0, np.sqrt(2.0)], atol=1e-6)
    lam = opt.state[opt._flat.params[0]]["eigenvalues"]
    np.testing.assert_allclose(np.sort(lam), [2.0, 4.0], atol=1e-5)  # Hessian at the minimum: diag(2, -2 + 3*2)


def test_saddle_free_newton_on_a_convex_quadratic_is_newton():
    w = sd.tensor(np.array([2.0, 2.0, -1.0]), requires_grad=True)
    optim.SaddleFreeNewton([w], damping=0.0).step(_quad_closure(w, backward=False))
    np.testing.assert_allclose(w.numpy(), np.linalg.solve(A, B), atol=1e-10)


def test_delta_bar_delta_matches_a_hand_computation():
    w = sd.tensor(np.array([1.0, -1.0]), requires_grad=True)
    opt = optim.DeltaBarDelta([w], lr=0.1, kappa=0.05, phi=0.5, theta=0.7)
    grads = [np.array([2.0, -1.0]), np.array([1.0, 1.0]), np.array([0.5, 1.0])]
    eps, bar, ref = np.array([0.1, 0.1]), np.zeros(2), np.array([1.0, -1.0])
    for g in grads:
        w.grad = sd.tensor(g)
        opt.step()
        agree = g * bar
        eps = np.where(agree > 0, eps + 0.05, np.where(agree < 0, eps * 0.5, eps))
        ref = ref - eps * g
        bar = 0.3 * g + 0.7 * bar
        np.testing.assert_allclose(w.numpy(), ref, rtol=1e-12)
    # sign kept on coordinate 0 -> rate grew; sign flipped on coordinate 1 at step 2 -> rate shrank
    np.testing.assert_allclose(sd.tensor(opt.state[w]["lr"]).numpy(), [0.2, 0.1], rtol=1e-12)


def test_delta_bar_delta_full_batch_learns_a_linear_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    y = (X @ rng.normal(size=(5, 1))).astype(np.float32)
    sd.manual_seed(0)
    model = nn.Linear(5, 1)
    opt = optim.DeltaBarDelta(model.parameters(), lr=0.01, kappa=0.005)
    Xt, yt = sd.tensor(X), sd.tensor(y)
    for _ in range(200):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(Xt), yt)
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3


def test_scaled_conjugate_gradient_quadratic_in_n_steps_and_rosenbrock():
    w = sd.tensor(np.array([2.0, 2.0, -1.0]), requires_grad=True)
    opt = optim.ScaledConjugateGradient([w], lambda0=1e-12, sigma0=1e-6, max_iter=3, tolerance_grad=0.0)
    opt.step(_quad_closure(w))
    np.testing.assert_allclose(w.numpy(), np.linalg.solve(A, B), atol=1e-5)  # linear CG: n steps
    p = sd.tensor(np.array([-1.2, 1.0]), requires_grad=True)
    opt = optim.ScaledConjugateGradient([p], max_iter=500)

    def rosen():
        p.grad = None
        loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        return loss
    opt.step(rosen)
    np.testing.assert_allclose(p.numpy(), [1.0, 1.0], atol=1e-3)


def test_t2_10_collobert_fan_in_learning_rates():
    model = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.BatchNorm1d(8), nn.Linear(8, 3), nn.Conv2d(3, 4, 3))
    groups = optim.fan_in_param_groups(model, lr=0.4, momentum=0.9)
    by_fan = {g["fan_in"]: g for g in groups}
    assert by_fan[16]["lr"] == pytest.approx(0.1) and len(by_fan[16]["params"]) == 2  # weight and bias
    assert by_fan[8]["lr"] == pytest.approx(0.4 / np.sqrt(8))
    assert by_fan[27]["lr"] == pytest.approx(0.4 / np.sqrt(27))  # 3 channels x 3 x 3
    assert by_fan[None]["lr"] == 0.4 and all(g["momentum"] == 0.9 for g in groups)
    opt = optim.SGD(groups, lr=1.0)
    w = model[0].weight
    before = w.numpy().copy()
    w.grad = sd.tensor(np.ones(w.shape, np.float32))
    opt.step()
    np.testing.assert_allclose(before - w.numpy(), 0.1, rtol=1e-5)
    with pytest.raises(ValueError, match="fan_in_param_groups"):
        optim.fan_in_param_groups(model, lr=0)


def test_w8_3_nesterov_literal_algorithm_8_3_step_two():
    # J = 1/2 |theta|^2, theta0 = [1, -2], eps = 0.1, alpha = 0.9: step 2 gives theta = [0.729, -1.458]
    th = sd.tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = optim.SGD([th], lr=0.1, momentum=0.9, nesterov="textbook")
    thetas = []
    def closure():
        opt.zero_grad()
        loss = 0.5 * (th * th).sum()
        loss.backward()
        return loss
    for _ in range(2):
        opt.step(closure)
        thetas.append(th.numpy().copy())
    np.testing.assert_allclose(thetas[0], [0.9, -1.8], atol=1e-12)
    np.testing.assert_allclose(thetas[1], [0.729, -1.458], atol=1e-12)
    # the velocity of Algorithm 8.3 is theta_2 - theta_1 = [-0.171, 0.342]
    np.testing.assert_allclose(thetas[1] - thetas[0], [-0.171, 0.342], atol=1e-12)
