"""Dropout inference (textbook 7.12): the 16 subnetworks (W7.13), exact enumeration with both rules, weight
scaling exact for softmax regression (W7.14), dropout on linear regression = per-feature L2 (W7.15), MC dropout."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.autograd import gradcheck
from shendu.regularize import (
    dropout_expectation,
    dropout_modules,
    enumerate_masks,
    exact_dropout_predict,
    linear_dropout_penalty,
    mask_probabilities,
    mc_dropout_predict,
    subnetworks,
)

F = sd.nn.functional


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_sixteen_subnetworks_of_figure_7_6():
    # W7.13: 2 visible + 2 hidden droppable units -> 2^4 = 16 subnetworks; 9 keep an input->output path
    subs = subnetworks(2, 2)
    assert len(subs) == 16 and len({(a, h) for a, h, _ in subs}) == 16
    assert sum(c for *_, c in subs) == 9
    assert ((0, 0), (1, 1), False) in subs and ((1, 0), (0, 1), True) in subs
    masks = enumerate_masks(4)
    assert masks.shape == (16, 4) and len({tuple(m) for m in masks}) == 16
    p = mask_probabilities(masks, [0.8, 0.8, 0.5, 0.5])  # the text's typical keep probabilities
    assert p.sum() == pytest.approx(1.0) and p.max() == pytest.approx(0.8 ** 2 * 0.25)
    assert len(np.unique(np.round(p, 12))) == 3  # unequal probabilities (Fig 7.7)
    np.testing.assert_allclose(mask_probabilities(masks, 0.5), np.full(16, 1 / 16))


def _tiny_net(p_in=0.2, p_h=0.5):
    return nn.Sequential(nn.Dropout(p_in), nn.Linear(2, 2), nn.Tanh(), nn.Dropout(p_h), nn.Linear(2, 3))


def test_exact_enumeration_matches_hand_enumeration_of_the_16_subnetworks():
    with sd.default_dtype(np.float64):
        net = _tiny_net()
        x = sd.randn(3, 2) * 2
    W1, b1 = net[1].weight.numpy(), net[1].bias.numpy()
    W2, b2 = net[4].weight.numpy(), net[4].bias.numpy()
    xv = x.numpy()
    arith, logg, n = 0.0, 0.0, 0
    for mu in enumerate_masks(4):
        pm = np.prod(np.where(mu[:2] > 0, 0.8, 0.2)) * np.prod(np.where(mu[2:] > 0, 0.5, 0.5))
        h = np.tanh((xv * mu[:2] / 0.8) @ W1.T + b1)
        pr = _softmax((h * mu[2:] / 0.5) @ W2.T + b2)
        arith, logg, n = arith + pm * pr, logg + pm * np.log(pr), n + 1
    geo = np.exp(logg) / np.exp(logg).sum(axis=1, keepdims=True)
    net.train()
    np.testing.assert_allclose(exact_dropout_predict(net, x).numpy(), arith, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(exact_dropout_predict(net, x, "geometric").numpy(), geo, rtol=1e-10, atol=1e-12)
    assert net.training and all(m.training for m in net.modules())  # modes restored
    assert not np.allclose(arith, geo, atol=1e-4)


@pytest.mark.parametrize("keep", [0.5, 0.8])
@pytest.mark.parametrize("mode", ["weight_scaling", "inverted"])
def test_weight_scaling_rule_is_exact_for_softmax_regression(keep, mode):
    # W7.14: geometric mean over all 2^4 masks of softmax(W (mu*x) + b) == softmax(W (keep*x) + b)
    with sd.default_dtype(np.float64):
        model = nn.Sequential(nn.Dropout(1 - keep, mode=mode), nn.Linear(4, 3))
        with sd.no_grad():
            model[1].weight.mul_(3.0)
        x = sd.randn(5, 4)
    W, b = model[1].weight.numpy(), model[1].bias.numpy()
    scaled = _softmax((keep if mode == "weight_scaling" else 1.0) * x.numpy() @ W.T + b)
    model.eval()
    np.testing.assert_allclose(F.softmax(model(x), dim=-1).numpy(), scaled, rtol=1e-12, atol=1e-14)
    geo = exact_dropout_predict(model, x, "geometric").numpy()
    np.testing.assert_allclose(geo, scaled, rtol=1e-11, atol=1e-13)
    arith = exact_dropout_predict(model, x, "arithmetic").numpy()
    assert np.abs(arith - scaled).max() > 1e-3  # the arithmetic mean (7.53) is not the weight-scaled model


def test_weight_scaling_is_only_approximate_for_a_nonlinear_net():
    with sd.default_dtype(np.float64):
        net = nn.Sequential(nn.Dropout(0.5), nn.Linear(3, 3), nn.Tanh(), nn.Dropout(0.5), nn.Linear(3, 2))
        with sd.no_grad():
            net[1].weight.mul_(3.0)
        x = sd.randn(4, 3)
    geo = exact_dropout_predict(net, x, "geometric").numpy()
    net.eval()
    assert np.abs(geo - F.softmax(net(x), dim=-1).numpy()).max() > 1e-3


def test_mc_dropout_converges_to_the_exact_ensemble_and_leaves_other_layers_in_eval():
    net = nn.Sequential(nn.Dropout(0.2), nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Tanh(), nn.Dropout(0.5),
                        nn.Linear(2, 3))
    x = sd.randn(6, 2) * 2
    net.train()
    net(x)  # one training pass so batch norm has running statistics
    rm = net[2].running_mean.numpy().copy()
    exact_a = exact_dropout_predict(net, x).numpy()
    exact_g = exact_dropout_predict(net, x, "geometric").numpy()
    mc = mc_dropout_predict(net, x, n=3000).numpy()
    mc_g = mc_dropout_predict(net, x, n=3000, rule="geometric").numpy()
    np.testing.assert_allclose(mc, exact_a, atol=0.02)
    np.testing.assert_allclose(mc_g, exact_g, atol=0.02)
    np.testing.assert_allclose(mc.sum(axis=1), 1.0, atol=1e-4)  # float32 sums of 3000 passes
    np.testing.assert_array_equal(net[2].running_mean.numpy(), rm)  # batch norm stayed in eval mode
    assert net.training and net[2].training  # modes restored
    few = mc_dropout_predict(net, x, n=2).numpy()
    assert np.abs(few - exact_a).max() > 1e-3  # masks really are sampled


def test_mc_dropout_raw_regression_output_and_errors():
    net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1))
    x = sd.randn(4, 3)
    exact = dropout_expectation(net, x).numpy()  # 2^8 masks
    np.testing.assert_allclose(mc_dropout_predict(net, x, n=4000, output="raw").numpy(), exact, atol=0.05)
    assert dropout_modules(net) == [net[2]]
    with pytest.raises(ValueError, match="no dropout"):
        mc_dropout_predict(nn.Linear(3, 2), x)
    with pytest.raises(ValueError, match="n must"):
        mc_dropout_predict(net, x, n=0)
    with pytest.raises(ValueError, match="elementwise"):
        exact_dropout_predict(nn.Sequential(nn.Dropout2d(0.5), nn.Flatten(), nn.Linear(4, 2)), sd.randn(1, 1, 2, 2))
    big = nn.Sequential(nn.Dropout(0.5), nn.Linear(30, 2))
    with pytest.raises(ValueError, match="2\\^d"):
        exact_dropout_predict(big, sd.randn(1, 30))
    assert big.training and big[0].training  # modes restored after the error


@pytest.mark.parametrize("keep", [0.5, 0.8])
def test_dropout_on_linear_regression_is_per_feature_l2(keep):
    # W7.15: E_mu[(y - w^T(mu*x/p) - b)^2] = (y - w^T x - b)^2 + ((1-p)/p) sum_i w_i^2 x_i^2, by enumeration
    with sd.default_dtype(np.float64):
        model = nn.Sequential(nn.Dropout(1 - keep), nn.Linear(4, 1))
        x, y = sd.randn(7, 4) * 1.5, sd.randn(7, 1)
    expected = dropout_expectation(model, x, lambda o: ((o - y) ** 2).mean())
    model.eval()
    closed = F.mse_loss(model(x), y) + linear_dropout_penalty(model[1].weight, x, keep)
    assert expected.item() == pytest.approx(closed.item(), rel=1e-12)
    pen = linear_dropout_penalty(model[1].weight, x, keep).item()
    assert pen > 0.05 * closed.item()  # a real penalty, not a rounding term
    # the same gradient in the weights: dropout's expected loss is the L2-penalised loss
    w = model[1].weight
    ge = sd.grad(dropout_expectation(model, x, lambda o: ((o - y) ** 2).mean()), [w])[0].numpy()
    model.eval()
    gc = sd.grad(F.mse_loss(model(x), y) + linear_dropout_penalty(w, x, keep), [w])[0].numpy()
    np.testing.assert_allclose(ge, gc, rtol=1e-10, atol=1e-12)
    # per-feature coefficient proportional to the feature's second moment
    xv = x.numpy()
    np.testing.assert_allclose(pen, (1 - keep) / keep * np.sum(w.numpy() ** 2 * (xv ** 2).mean(axis=0)), rtol=1e-12)


def test_linear_dropout_penalty_gradcheck_and_errors():
    with sd.default_dtype(np.float64):
        w = sd.randn(1, 3, requires_grad=True)
        x = sd.randn(5, 3, requires_grad=True)
    assert gradcheck(lambda w, x: linear_dropout_penalty(w, x, 0.7), [w, x], eps=1e-6, atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="keep_prob"):
        linear_dropout_penalty(w, x, 0.0)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        linear_dropout_penalty(w, sd.randn(5, 2), 0.5)
