"""The quadratic analysis of weight decay (textbook 7.1.1-7.1.2, 7.2.5, 7.8, 7.12) with the notes' worked
vectors W7.2, W7.5, W7.9, W7.15, and the separable logistic regression claim (7.2.5)."""
import itertools

import numpy as np
import pytest

import shendu as sd
from shendu.regularize import (
    dropout_ridge,
    early_stopping_factors,
    eigen_shrinkage,
    equivalent_weight_decay,
    gradient_descent_path,
    l1_optimum,
    l2_factors,
    l2_optimum,
    linear_dropout_penalty,
    ridge,
    ridge_operator,
    separable_logistic_path,
)

from ._examples import load_example

F64 = sd.float64


def t64(a):
    return sd.tensor(np.asarray(a, dtype=np.float64))


def random_spd(n, seed):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return Q @ np.diag(np.geomspace(0.01, 10.0, n)) @ Q.T


def test_w7_2_l2_and_l1_optima_of_the_worked_quadratic():
    H, w_star = t64(np.diag([2.0, 1.0])), t64([1.0, 0.3])
    np.testing.assert_allclose(l2_optimum(H, w_star, 0.5).numpy(), [0.8, 0.2], atol=1e-12)
    sh = eigen_shrinkage(H, 0.5, w_star)
    np.testing.assert_allclose(sh.eigenvalues.numpy(), [1.0, 2.0])  # ascending, as eigh
    np.testing.assert_allclose(sh.factors.numpy(), [1 / 1.5, 2 / 2.5])  # lambda / (lambda + alpha)
    np.testing.assert_allclose(sh.w.numpy(), [0.8, 0.2], atol=1e-12)
    np.testing.assert_allclose(l1_optimum(t64([2.0, 1.0]), w_star, 0.5).numpy(), [0.75, 0.0], atol=1e-12)
    assert eigen_shrinkage(H, 0.5).w is None


def test_eigen_form_equals_direct_form_for_a_random_spd_hessian():
    # 7.10 (H + alpha I)^{-1} H w* == 7.13 Q (Lambda + alpha I)^{-1} Lambda Q^T w*, also for a matrix of w*'s
    H = t64(random_spd(6, seed=1))
    W = t64(np.random.default_rng(2).standard_normal((6, 3)))
    for alpha in (1e-3, 0.3, 5.0):
        np.testing.assert_allclose(
            eigen_shrinkage(H, alpha, W[:, 0]).w.numpy(), l2_optimum(H, W[:, 0], alpha).numpy(), atol=1e-10
        )
        np.testing.assert_allclose(eigen_shrinkage(H, alpha, W).w.numpy(), l2_optimum(H, W, alpha).numpy(), atol=1e-10)
    # components along eigendirections with lambda >> alpha survive, lambda << alpha vanish (Fig 7.1)
    f = eigen_shrinkage(H, 1.0).factors.numpy()
    assert f[0] < 0.011 and f[-1] > 0.9 and (np.diff(f) > 0).all()
    assert l2_optimum(H, W, 0.0).numpy() == pytest.approx(W.numpy(), abs=1e-8)  # alpha -> 0 gives w*


def test_ridge_is_the_minimiser_and_shrinks_ols_per_eigendirection():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 5)) * np.array([3.0, 1.0, 0.3, 0.1, 0.03])
    y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(40)
    Xt, yt = t64(X), t64(y)
    w = ridge(Xt, yt, 0.7)
    # independent oracle: least squares on the augmented design [X; sqrt(alpha) I]
    aug = np.linalg.lstsq(np.vstack([X, np.sqrt(0.7) * np.eye(5)]), np.concatenate([y, np.zeros(5)]), rcond=None)[0]
    np.testing.assert_allclose(w.numpy(), aug, rtol=1e-9)
    # stationary point of ||Xw - y||^2 + alpha ||w||^2 (the convention of 7.17)
    wv = sd.tensor(w.numpy(), requires_grad=True)
    (g,) = sd.grad(((Xt @ wv - yt) ** 2).sum() + 0.7 * (wv * wv).sum(), [wv])
    assert np.abs(g.numpy()).max() < 1e-9
    # alpha = 0: the normal equations (7.16); ridge = OLS shrunk by lambda/(lambda+alpha) along X^T X's eigenvectors
    w_ols = ridge(Xt, yt, 0.0)
    np.testing.assert_allclose(w_ols.numpy(), np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-8)
    np.testing.assert_allclose(eigen_shrinkage(Xt.mT @ Xt, 0.7, w_ols).w.numpy(), w.numpy(), rtol=1e-8)
    # several targets at once, and differentiable in X and y
    Y = t64(np.stack([y, 2 * y], 1))
    np.testing.assert_allclose(ridge(Xt, Y, 0.7).numpy()[:, 1], 2 * w.numpy(), rtol=1e-9)
    xs = [sd.tensor(X[:8, :3], requires_grad=True), sd.tensor(y[:8], requires_grad=True)]
    assert sd.autograd.gradcheck(lambda a, b: ridge(a, b, 0.3), xs)


def test_ridge_float32_and_bad_input():
    X = np.random.default_rng(4).standard_normal((10, 3)).astype(np.float32)
    w = ridge(sd.tensor(X), sd.tensor(X[:, 0]), 0.1)
    assert w.dtype == np.float32 and w.shape == (3,)
    with pytest.raises(ValueError, match=r"ridge: .*\(10, 3\).*\(9,\)"):
        ridge(sd.tensor(X), sd.tensor(X[:9, 0]), 0.1)
    with pytest.raises(ValueError, match="alpha"):
        ridge(sd.tensor(X), sd.tensor(X[:, 0]), -1.0)
    with pytest.raises(ValueError, match="l2_optimum.*square|l2_optimum.*\\(2, 3\\)"):
        l2_optimum(sd.tensor(np.ones((2, 3))), sd.tensor(np.ones(3)), 0.1)


def test_w7_5_pseudo_inverse_is_the_vanishing_weight_decay_limit():
    X = np.random.default_rng(5).standard_normal((3, 5))  # fewer examples than features: X^T X is singular
    Xt = t64(X)
    G = Xt.mT @ Xt
    lam = sd.linalg.eigvalsh(G).numpy()
    assert np.abs(lam[:2]).max() < 1e-12  # two zero eigenvalues: (7.16) has no inverse ...
    assert sd.linalg.eigvalsh(G + 1e-8 * sd.eye(5, dtype=F64)).numpy().min() >= 1e-8 * (1 - 1e-6)  # ... X^T X + aI does
    P = sd.linalg.pinv(Xt).numpy()
    np.testing.assert_allclose(P, np.linalg.pinv(X), atol=1e-12)
    err = {a: np.abs(ridge_operator(Xt, a).numpy() - P).max() for a in (1e-2, 1e-4, 1e-6, 1e-8)}
    assert err[1e-8] < 1e-6  # the notes: ~2.8e-8 for their X at alpha = 1e-8
    for a, b in [(1e-2, 1e-4), (1e-4, 1e-6)]:
        assert err[b] == pytest.approx(err[a] / 100, rel=0.05)  # the gap is linear in alpha
    # exactly: (X^T X + aI)^{-1} X^T = V diag(s / (s^2 + a)) U^T
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(ridge_operator(Xt, 1e-2).numpy(), Vt.T @ np.diag(s / (s ** 2 + 1e-2)) @ U.T, atol=1e-12)


def test_w7_9_early_stopping_against_l2_factors():
    lam = t64([1.0, 0.01])
    alpha = equivalent_weight_decay(0.1, 100)
    assert alpha == pytest.approx(0.1)
    es = early_stopping_factors(lam, 0.1, 100).numpy()
    l2 = l2_factors(lam, alpha).numpy()
    np.testing.assert_allclose(es, [1 - 0.9 ** 100, 1 - 0.999 ** 100])
    assert es == pytest.approx([0.99997, 0.0952], abs=5e-5)
    assert l2 == pytest.approx([0.909, 0.0909], abs=5e-4)
    # the match tightens as lambda << 1 / (lr tau): both tend to lr tau lambda
    small = t64([1e-2, 1e-3, 1e-4])
    rel = np.abs(early_stopping_factors(small, 0.1, 100).numpy() / l2_factors(small, alpha).numpy() - 1)
    assert (np.diff(rel) < 0).all() and rel[-1] < 1e-3


def test_early_stopping_factors_describe_gradient_descent_on_the_quadratic():
    # tau steps of w <- w - lr H (w - w*) from 0 give Q^T w_tau = [I - (I - lr Lambda)^tau] Q^T w*
    H = t64(random_spd(4, seed=6))
    w_star = t64(np.random.default_rng(7).standard_normal(4))
    path = gradient_descent_path(H, w_star, 0.05, 60)
    assert len(path) == 61 and np.all(path[0].numpy() == 0)
    sh = eigen_shrinkage(H, 0.0)
    Q = sh.eigenvectors
    pred = Q @ (early_stopping_factors(sh.eigenvalues, 0.05, 60) * (Q.mT @ w_star))
    np.testing.assert_allclose(path[-1].numpy(), pred.numpy(), atol=1e-12)
    assert np.abs(path[-1].numpy() - w_star.numpy()).max() > 0.1  # stopped early: far from w* along small lambda


def _exact_expected_dropout_loss(X, y, w, p):
    """E over all 2^d keep-masks (inverted dropout) of ||y - (m * X / p) w||^2, as a function of w."""
    d = X.shape[1]
    total = 0.0
    for bits in itertools.product([0.0, 1.0], repeat=d):
        m = np.array(bits)
        prob = float(np.prod(np.where(m == 1, p, 1 - p)))
        Xm = sd.tensor(X * m / p)
        total = total + prob * ((sd.tensor(y) - Xm @ w) ** 2).sum()
    return total


def test_w7_15_dropout_on_linear_regression_is_per_feature_l2():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((12, 3)) * np.array([2.0, 1.0, 0.5])
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(12)
    p = 0.8
    w = sd.tensor(rng.standard_normal(3), requires_grad=True)
    exact = _exact_expected_dropout_loss(X, y, w, p)
    penalty = linear_dropout_penalty(w, sd.tensor(X), p) * X.shape[0]  # its batch mean, summed back
    assert exact.item() == pytest.approx((((sd.tensor(X) @ w - sd.tensor(y)) ** 2).sum() + penalty).item(), rel=1e-12)
    # the closed-form minimiser is the stationary point of the exact expected loss; plain OLS is not
    w_d = sd.tensor(dropout_ridge(sd.tensor(X), sd.tensor(y), p).numpy(), requires_grad=True)
    (g,) = sd.grad(_exact_expected_dropout_loss(X, y, w_d, p), [w_d])
    assert np.abs(g.numpy()).max() < 1e-9
    w_o = sd.tensor(ridge(sd.tensor(X), sd.tensor(y), 0.0).numpy(), requires_grad=True)
    (g_o,) = sd.grad(_exact_expected_dropout_loss(X, y, w_o, p), [w_o])
    assert np.abs(g_o.numpy()).max() > 1.0
    # per-feature coefficient ((1-p)/p) sum_n x_ni^2: the high-variance feature is penalised most
    assert dropout_ridge(sd.tensor(X), sd.tensor(y), 1.0).numpy() == pytest.approx(w_o.detach().numpy(), abs=1e-10)


def test_separable_logistic_regression_diverges_without_weight_decay():
    # textbook 7.2.5: on separable data ||w|| keeps growing; weight decay stops it where slope = decay
    x = sd.tensor([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]], dtype=F64)
    t = sd.tensor([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], dtype=F64)
    free, _, _ = separable_logistic_path(x, t, 0.0, lr=0.5, steps=1200, record_every=100)
    assert (np.diff(free) > 0).all() and free[-1] - free[5] > 0.5  # still growing at the end
    dec, w, b = separable_logistic_path(x, t, 0.02, lr=0.5, steps=1200, record_every=100)
    assert abs(dec[-1] - dec[-3]) < 1e-8 and dec[-1] < free[-1] / 2
    # stationarity of NLL + (alpha/2)||w||^2: dNLL/dw = -alpha w, dNLL/db = 0
    wv, bv = sd.tensor(w.numpy(), requires_grad=True), sd.tensor(b.numpy(), requires_grad=True)
    nll = sd.nn.functional.binary_cross_entropy_with_logits(x @ wv + bv, t)
    gw, gb = sd.grad(nll, [wv, bv])
    np.testing.assert_allclose(gw.numpy(), -0.02 * w.numpy(), atol=1e-8)
    assert abs(gb.item()) < 1e-8


def test_analysis_runs_on_each_device(device):
    X = np.random.default_rng(9).standard_normal((20, 4))
    y = X.sum(1)
    w = ridge(sd.tensor(X, device=device), sd.tensor(y, device=device), 0.5)
    assert w.device == sd.tensor(X, device=device).device
    np.testing.assert_allclose(
        w.cpu().numpy(), ridge(sd.tensor(X, device="cpu"), sd.tensor(y, device="cpu"), 0.5).numpy()
    )
    H = sd.tensor(random_spd(3, seed=10), device=device)
    sh = eigen_shrinkage(H, 0.1, sd.tensor(np.ones(3), device=device))
    np.testing.assert_allclose(
        sh.w.cpu().numpy(), l2_optimum(H, sd.tensor(np.ones(3), device=device), 0.1).cpu().numpy()
    )
    np.testing.assert_allclose(
        dropout_ridge(sd.tensor(X, device=device), sd.tensor(y, device=device), 0.5).cpu().numpy(),
        dropout_ridge(sd.tensor(X, device="cpu"), sd.tensor(y, device="cpu"), 0.5).numpy(),
    )


def test_example_prints_the_factors_and_writes_a_png(tmp_path, capsys):
    out = tmp_path / "wd.png"
    res = load_example("weight_decay_shrinkage").main(["--quick", "--out", str(out)])
    text = capsys.readouterr().out
    assert "0.6667" in text and "0.8000" in text and "0.09521" in text and "0.0909" in text
    np.testing.assert_allclose(res["w2_l2"], [0.8, 0.2], atol=1e-12)
    np.testing.assert_allclose(res["w2_l1"], [0.75, 0.0], atol=1e-12)
    assert res["ridge_vs_eigen"] < 1e-8
    assert res["pinv_errors"][1e-8] < 1e-6
    assert res["logistic_free"][-1] > res["logistic_free"][len(res["logistic_free"]) // 2] + 0.5
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
