"""Strategies of textbook 8.7 (and the 8.3-8.4 schedules/initialisations): highway layers, freezing and transfer,
greedy supervised pretraining (Fig. 8.7), FitNets hints, auxiliary heads, continuation (W8.19), momentum schedules,
output-bias init (W8.22), LSUV-style init."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.autograd.gradcheck import gradcheck
from shendu.data.datasets import load_digits
from shendu.nn.functional import cross_entropy
from shendu.train.strategies import (
    DeeplySupervised,
    FeatureRecorder,
    FitNetHint,
    MomentumScheduler,
    accuracy,
    blurred_objective,
    continuation,
    deeply_supervised_loss,
    freeze,
    greedy_supervised_pretraining,
    init_output_bias,
    linear_momentum,
    lsuv_init,
    minibatch_fit,
    sutskever_momentum,
    transfer_layers,
    unfreeze,
)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# --- highway -----------------------------------------------------------------------------------------
def test_highway_forward_formula_and_gradcheck():
    hw = nn.Highway(4, activation="tanh", dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(3, 4))
    Wh, bh, Wt, bt = (p.numpy() for p in (hw.transform.weight, hw.transform.bias, hw.gate.weight, hw.gate.bias))
    np.testing.assert_array_equal(bt, -2.0)
    t = 1 / (1 + np.exp(-(x @ Wt.T + bt)))
    want = t * np.tanh(x @ Wh.T + bh) + (1 - t) * x
    np.testing.assert_allclose(hw(sd.tensor(x)).numpy(), want, rtol=1e-12)
    xt = sd.tensor(x, requires_grad=True)
    assert gradcheck(lambda a: hw(a), [xt])
    params = [hw.transform.weight, hw.gate.weight, hw.gate.bias]
    assert gradcheck(lambda w1, w2, b2: (hw(sd.tensor(x)) ** 2).sum(), params)
    shut = nn.Highway(4, gate_bias=-30.0, dtype=np.float64)  # closed gate: identity (carry) path
    np.testing.assert_allclose(shut(sd.tensor(x)).numpy(), x, atol=1e-10)
    with pytest.raises(ValueError, match=r"Highway\(4\).*\(\*, 4\)"):
        hw(sd.zeros(2, 5, dtype=sd.float64))


def test_deep_highway_net_trains_where_the_plain_net_stalls(digits):
    (xtr, ytr), (xte, yte) = digits
    acc = {}
    for kind in ("plain", "highway"):
        sd.manual_seed(0)
        layers = [nn.Linear(64, 32), nn.ReLU()]
        for _ in range(10):
            layers += [nn.Highway(32)] if kind == "highway" else [nn.Linear(32, 32), nn.ReLU()]
        m = nn.Sequential(*layers, nn.Linear(32, 10))
        minibatch_fit(m, lambda a, b: cross_entropy(m(a), b), (xtr, ytr), 2, 32,
                      optimizer=sd.optim.Adam(m.parameters(), lr=1e-3))
        acc[kind] = accuracy(m, xte, yte)
    assert acc["highway"] > 0.5 and acc["highway"] > acc["plain"] + 0.25  # measured 0.658 vs 0.194


# --- freezing, transfer, greedy supervised pretraining -----------------------------------------------------
def test_freeze_transfer_first_k_layers_and_fine_tune(digits):
    (xtr, ytr), _ = digits
    sd.manual_seed(0)
    src = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))
    dst = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 5))
    copied = transfer_layers(src, dst, 2, freeze_transferred=True)
    assert copied == [dst[0], dst[2]]
    np.testing.assert_array_equal(dst[2].weight.numpy(), src[2].weight.numpy())
    frozen = dst[0].weight.numpy().copy()
    head = dst[4].weight.numpy().copy()
    y5 = ytr % 5
    minibatch_fit(dst, lambda a, b: cross_entropy(dst(a), b), (xtr[:200], y5[:200]), 1, 32, lr=0.1)
    np.testing.assert_array_equal(dst[0].weight.numpy(), frozen)  # frozen layers do not move
    assert not np.allclose(dst[4].weight.numpy(), head)  # the new head learns
    unfreeze(dst)
    minibatch_fit(dst, lambda a, b: cross_entropy(dst(a), b), (xtr[:200], y5[:200]), 1, 32, lr=0.1)
    assert not np.allclose(dst[0].weight.numpy(), frozen)  # fine-tuning moves everything
    assert all(p.grad is None for p in freeze(nn.Linear(3, 2)).parameters())
    with pytest.raises(ValueError, match="transfer_layers: layer 2"):
        transfer_layers(src, dst, 3)


def test_greedy_supervised_pretraining_grows_the_net_layer_by_layer(digits):
    (xtr, ytr), (xte, yte) = digits
    sd.manual_seed(0)
    model, stage_acc = greedy_supervised_pretraining([64, 64, 64, 64], 10, xtr, ytr, epochs_per_stage=3, lr=0.1)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU"] * 3 + ["Linear"]
    assert len(stage_acc) == 3 and stage_acc[0] > 0.8  # measured 0.877, 0.872, 0.837 (training accuracy)
    assert accuracy(model, xte, yte) > 0.75  # measured 0.836 (the same net trained 9 epochs directly: 0.878)
    assert all(p.requires_grad for p in model.parameters())


def test_greedy_stages_keep_lower_layers_frozen(digits, monkeypatch):
    (xtr, ytr), _ = digits
    import shendu.train.strategies.transfer as T

    snapshots = []
    real = T.minibatch_fit

    def spy(model, *a, **k):
        before = [p.numpy().copy() for p in model.parameters()]
        flags = [p.requires_grad for p in model.parameters()]
        out = real(model, *a, **k)
        snapshots.append((before, [p.numpy() for p in model.parameters()], flags))
        return out

    monkeypatch.setattr(T, "minibatch_fit", spy)
    sd.manual_seed(0)
    T.greedy_supervised_pretraining([64, 16, 16], 10, xtr[:300], ytr[:300], epochs_per_stage=1)
    before, after, flags = snapshots[1]  # stage 2: [Linear1 (kept), Linear2 (new), head (new)]
    assert flags == [False, False, True, True, True, True]
    np.testing.assert_array_equal(before[0], after[0])
    assert not np.allclose(before[2], after[2])


# --- FitNets hints and auxiliary heads ---------------------------------------------------------------------
def test_fitnet_hint_regresses_student_middle_layer_onto_teacher(digits):
    (xtr, ytr), _ = digits
    sd.manual_seed(0)
    teacher = nn.Sequential(nn.Linear(64, 40), nn.ReLU(), nn.Linear(40, 10))
    student = nn.Sequential(nn.Linear(64, 12), nn.Tanh(), nn.Linear(12, 12), nn.Tanh(), nn.Linear(12, 10))
    t_rec, s_rec = FeatureRecorder(teacher[1]), FeatureRecorder(student[3])
    hint = FitNetHint(12, 40)
    x = sd.tensor(xtr[:16])
    teacher(x), student(x)
    r = hint.regressor(s_rec.output).numpy()
    assert hint(s_rec.output, t_rec.output).item() == pytest.approx(
        0.5 * ((r - t_rec.output.numpy()) ** 2).mean(), rel=1e-5
    )
    hint(s_rec.output, t_rec.output).backward()
    assert all(p.grad is None for p in teacher.parameters()) and student[2].weight.grad is not None

    def loss(a, b):
        teacher(a)
        student(a)
        return hint(s_rec.output, t_rec.output)

    params = list(student.parameters()) + list(hint.parameters())
    hist = minibatch_fit(student, loss, (xtr, ytr), 4, 32, optimizer=sd.optim.Adam(params, lr=1e-2))
    assert hist[-1] < 0.6 * hist[0]
    s_rec.remove()
    student(x)
    assert FitNetHint(8, 4, conv=True)(sd.zeros(2, 8, 3, 3), sd.zeros(2, 4, 3, 3)).shape == ()
    with pytest.raises(ValueError, match="FitNetHint"):
        hint(s_rec.output, sd.zeros(16, 39))


def test_deeply_supervised_heads_loss_and_discarding():
    sd.manual_seed(0)
    stages = [nn.Sequential(nn.Linear(6, 8), nn.ReLU()), nn.Sequential(nn.Linear(8, 8), nn.ReLU()), nn.Linear(8, 3)]
    net = DeeplySupervised(stages, {0: nn.Linear(8, 3), 1: nn.Linear(8, 3)}, aux_weights=[0.3, 0.5])
    x, y = sd.randn(5, 6), sd.tensor(np.array([0, 1, 2, 1, 0]))
    outs = net(x)
    assert isinstance(outs, list) and len(outs) == 3 and all(o.shape == (5, 3) for o in outs)
    want = sum(w * cross_entropy(o, y).item() for w, o in zip([1.0, 0.3, 0.5], outs))
    assert net.loss(x, y).item() == pytest.approx(want, rel=1e-5)
    assert deeply_supervised_loss(outs, y, [1.0, 0.0, 0.0]).item() == pytest.approx(cross_entropy(outs[0], y).item())
    net.loss(x, y).backward()
    assert net.heads[0].weight.grad is not None
    net.eval()
    np.testing.assert_allclose(net(x).numpy(), outs[0].numpy(), rtol=1e-6)  # heads discarded at test time
    with pytest.raises(ValueError, match="hidden stages"):
        DeeplySupervised(stages, {2: nn.Linear(3, 3)})


# --- continuation, momentum schedules, initialisation -------------------------------------------------------
def test_blurred_quadratic_is_w8_19_vector():
    theta = sd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    sq = lambda t: (t ** 2).sum(-1)  # noqa: E731
    val = blurred_objective(sq, theta, 0.5, n_samples=200_000)
    assert val.item() == pytest.approx(5.5, abs=0.01)  # theta^T theta + n sigma^2 = 5 + 2 * 0.25
    val.backward()
    np.testing.assert_allclose(theta.grad.numpy(), [2.0, 4.0], atol=1e-9)  # antithetic pairs: exactly 2 theta
    neg = blurred_objective(lambda t: -sq(t), theta, 0.5, n_samples=200_000).item()
    assert neg == pytest.approx(-5.5, abs=0.01)  # -theta^T theta stays concave: blurring cannot help (failure mode 2)


def test_continuation_escapes_the_local_minimum_plain_descent_keeps():
    # J = theta^2/20 - cos(2 theta)/2: global minimum 0, a local minimum at 5.96 (theta/10 + sin 2 theta = 0)
    J = lambda t: (t ** 2).sum(-1) / 20 - 0.5 * (2 * t).cos().sum(-1)  # noqa: E731
    theta, path = continuation(J, sd.tensor([6.0]), [2.0, 1.0, 0.0], steps_per_stage=100, lr=0.5, n_samples=100)
    plain, _ = continuation(J, sd.tensor([6.0]), [0.0], steps_per_stage=200, lr=0.5)
    assert len(path) == 3 and abs(path[0][0]) < 0.05  # the sigma = 2 objective is nearly theta^2/20 + const
    assert abs(theta.numpy()[0]) < 1e-3
    t = plain.numpy()[0]
    assert abs(t - 5.96) < 0.02 and abs(t / 10 + np.sin(2 * t)) < 1e-4  # stuck at the local minimum


def test_momentum_schedules_set_sgd_and_adam_groups():
    p = nn.Parameter(np.zeros(2, np.float32))
    opt = sd.optim.SGD([p], lr=0.1, momentum=0.0)
    sch = MomentumScheduler(opt, linear_momentum(0.5, 0.9, 4))
    got = [opt.param_groups[0]["momentum"]]
    for _ in range(6):
        sch.step()
        got.append(opt.param_groups[0]["momentum"])
    np.testing.assert_allclose(got, [0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9])
    assert [sutskever_momentum(t) for t in (0, 250, 500, 750)] == pytest.approx(
        [0.5, 0.75, 1 - 2 ** (-1 - np.log2(3)), 0.875]
    )
    assert sutskever_momentum(10**6) == 0.99
    adam = sd.optim.Adam([p], lr=0.1)
    MomentumScheduler(adam, lambda t: 0.8)
    assert adam.param_groups[0]["betas"][0] == 0.8 and adam.param_groups[0]["betas"][1] == pytest.approx(0.999)
    with pytest.raises(ValueError, match=r"schedule\(0\) = 1.5"):
        MomentumScheduler(opt, lambda t: 1.5)


def test_momentum_schedule_changes_the_sgd_update():
    p = nn.Parameter(np.ones(1, np.float32))
    opt = sd.optim.SGD([p], lr=0.1, momentum=0.0)
    sch = MomentumScheduler(opt, lambda t: [0.5, 0.9][min(t, 1)])
    for _ in range(2):
        opt.zero_grad()
        (p * 1.0).sum().backward()  # gradient 1
        opt.step()
        sch.step()
    # step 1: v = g = 1 -> p = 0.9; step 2 (momentum raised to 0.9): v = 0.9 * 1 + 1 -> p = 0.9 - 0.19
    assert p.numpy()[0] == pytest.approx(0.71, abs=1e-6)  # a constant 0.5 would give 0.75


def test_output_bias_init_gives_marginals_w8_22():
    counts = np.array([50.0, 30.0, 15.0, 5.0])
    lin = init_output_bias(nn.Linear(8, 4), counts, zero_weights=True)
    c = counts / counts.sum()
    np.testing.assert_allclose(lin.bias.numpy(), np.log(c), rtol=1e-6)
    np.testing.assert_allclose(sd.softmax(lin(sd.randn(3, 8)), -1).numpy(), np.tile(c, (3, 1)), rtol=1e-5)
    # initial cross-entropy on data with these marginals = entropy of c (the best constant predictor)
    y = sd.tensor(np.repeat(np.arange(4), counts.astype(int)))
    assert cross_entropy(lin(sd.randn(100, 8)), y).item() == pytest.approx(-(c * np.log(c)).sum(), rel=1e-5)
    with pytest.raises(ValueError, match="init_output_bias"):
        init_output_bias(nn.Linear(8, 4), [1, 2, 3])


def test_lsuv_init_gives_unit_output_variance_per_layer(digits):
    (xtr, _), _ = digits
    sd.manual_seed(0)
    layers = []
    for _ in range(10):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    m = nn.Sequential(*layers)
    x = sd.tensor(xtr[:256])
    with sd.no_grad():
        v_default = m(x).var().item()
    var = lsuv_init(m, x, tol=0.05)  # default init: output variance 0.002 after 10 ReLU layers
    assert len(var) == 10 and all(abs(v - 1) < 0.05 for v in var)
    with sd.no_grad():
        assert v_default < 0.01 and m[:-1](x).var().item() == pytest.approx(var[-1], rel=1e-5)
    with pytest.raises(ValueError, match="lsuv_init"):
        lsuv_init(nn.Sequential(nn.ReLU()), x)
