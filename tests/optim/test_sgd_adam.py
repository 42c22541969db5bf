"""SGD, Adam, AdamW: 50-step trajectories equal torch.optim's (float64, 1e-6); state dict resume; errors."""
import numpy as np
import pytest

import shendu as sd
from shendu import optim
from shendu.backend import to_host

from ._oracle import assert_same, make_problem, sd_loss

torch = pytest.importorskip("torch")

SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.8, dampening=0.3),
    dict(lr=0.05, momentum=0.9, weight_decay=0.1),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05, maximize=False),
    dict(lr=0.05, weight_decay=0.1),
]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_torch(kw):
    assert_same(lambda p: optim.SGD(p, **kw), lambda p: torch.optim.SGD(p, **kw))


ADAM_CASES = [
    dict(lr=0.01),
    dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.01, amsgrad=True, weight_decay=0.05),
]


@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_torch(kw):
    assert_same(lambda p: optim.Adam(p, **kw), lambda p: torch.optim.Adam(p, **kw))


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.01, weight_decay=0.3), dict(lr=0.01, amsgrad=True)])
def test_adamw_matches_torch(kw):
    assert_same(lambda p: optim.AdamW(p, **kw), lambda p: torch.optim.AdamW(p, **kw))


def test_param_groups_with_own_options_match_torch():
    groups = [([0, 1], dict(lr=0.01)), ([2, 3], dict(lr=0.1, momentum=0.5))]
    assert_same(lambda g: optim.SGD(g, lr=0.05, momentum=0.9), lambda g: torch.optim.SGD(g, lr=0.05, momentum=0.9),
                groups=groups)
    groups = [([0, 1], dict(lr=0.003)), ([2, 3], dict(betas=(0.5, 0.9)))]
    assert_same(lambda g: optim.Adam(g, lr=0.01), lambda g: torch.optim.Adam(g, lr=0.01), groups=groups)


def test_maximize_matches_torch():
    assert_same(lambda p: optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=0.1, maximize=True),
                lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=0.1, maximize=True), steps=20)
    assert_same(lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, maximize=True),
                lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1, maximize=True), steps=20)


def test_adam_without_bias_correction_is_the_simplified_update():
    p = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
    opt = optim.Adam([p], lr=0.1, betas=(0.9, 0.99), eps=1e-8, bias_correction=False)
    g = np.array([0.5, -3.0])
    p.grad = sd.tensor(g)
    opt.step()
    m, v = 0.1 * g, 0.01 * g * g
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0]) - 0.1 * m / (np.sqrt(v) + 1e-8), rtol=1e-12)


def test_adam_first_step_has_size_lr():
    # with bias correction the first step is lr * sign(g) (up to eps), the textbook's remark on Algorithm 8.7
    p = sd.nn.Parameter(sd.tensor([1.0, -2.0, 0.3], dtype=sd.float64))
    opt = optim.Adam([p], lr=0.01)
    p.grad = sd.tensor([1e-3, -50.0, 2.0], dtype=sd.float64)
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.99, -1.99, 0.29], rtol=1e-6)


def test_params_without_grad_are_skipped_and_float32_stays_float32():
    a = sd.nn.Parameter(sd.ones(3))
    b = sd.nn.Parameter(sd.ones(2))
    for opt in (optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1), optim.Adam([a, b], lr=0.1)):
        a.grad = sd.ones(3)
        b.grad = None
        opt.step()
        assert a.dtype == sd.float32 and a._data.dtype == np.float32
        assert np.all(a.numpy() < 1.0)
        np.testing.assert_array_equal(b.numpy(), np.ones(2))
        assert b not in opt.state


def test_update_is_in_place():
    a = sd.nn.Parameter(sd.ones(3))
    arr = a._data
    opt = optim.Adam([a], lr=0.1)
    a.grad = sd.ones(3)
    v0 = a._version
    opt.step()
    assert a._data is arr and a._version == v0 + 1


def test_zero_grad():
    a = sd.nn.Parameter(sd.ones(3))
    opt = optim.SGD([a], lr=0.1)
    a.grad = sd.ones(3)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.numpy(), 0)
    opt.zero_grad()
    assert a.grad is None


def _train(opt, ps, x, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        sd_loss(ps, x, y).backward()
        opt.step()


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                                  lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
                                  lambda p: optim.AdamW(p, lr=0.01)])
def test_state_dict_resume_is_exact(make, tmp_path):
    ws, x, y = make_problem(1)
    ps = [sd.nn.Parameter(sd.tensor(w.copy())) for w in ws]
    opt = make(ps)
    _train(opt, ps, x, y, 10)
    sd.save({"opt": opt.state_dict(), "params": [p.numpy().copy() for p in ps]}, tmp_path / "ck.safetensors")
    _train(opt, ps, x, y, 10)
    ref = [p.numpy().copy() for p in ps]
    ck = sd.load(tmp_path / "ck.safetensors")
    ps2 = [sd.nn.Parameter(sd.tensor(np.array(a.numpy() if hasattr(a, "numpy") else a))) for a in ck["params"]]
    opt2 = make(ps2)
    opt2.load_state_dict(ck["opt"])
    _train(opt2, ps2, x, y, 10)
    for a, b in zip(ps2, ref):
        np.testing.assert_array_equal(a.numpy(), b)


def test_state_dict_is_a_copy_and_keeps_options():
    a = sd.nn.Parameter(sd.ones(3))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    a.grad = sd.ones(3)
    opt.step()
    s = opt.state_dict()
    assert s["param_groups"][0]["lr"] == 0.1 and s["param_groups"][0]["params"] == [0]
    s["state"][0]["momentum_buffer"][:] = 99
    assert np.all(opt.state[a]["momentum_buffer"] == 1.0)
    opt2 = optim.SGD([a], lr=0.5)
    opt2.load_state_dict(s)
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["momentum"] == 0.9


def test_load_state_dict_rejects_mismatch():
    a, b = sd.nn.Parameter(sd.ones(3)), sd.nn.Parameter(sd.ones(2))
    s = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameter group has 2 parameters"):
        optim.SGD([a], lr=0.1).load_state_dict(s)


def test_bad_arguments():
    a = sd.nn.Parameter(sd.ones(3))
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([a], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.Adam(a)
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)


def test_textbook_nesterov_equals_pytorch_form_in_lookahead_variable():
    # Algorithm 8.3 on f(theta) = 0.5 theta^T A theta; PyTorch's iterate p_k = theta_k + alpha v_k (look-ahead)
    A = np.diag([1.0, 10.0])
    th = sd.nn.Parameter(sd.tensor([1.0, 1.0], dtype=sd.float64))
    opt = optim.SGD([th], lr=0.05, momentum=0.9, nesterov="textbook")

    def closure():
        opt.zero_grad()
        loss = 0.5 * (th * sd.tensor(np.diag(A)) * th).sum()
        loss.backward()
        return loss

    pt = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    ot = torch.optim.SGD([pt], lr=0.05, momentum=0.9, nesterov=True)
    for _ in range(30):
        opt.step(closure)
        ot.zero_grad()
        (0.5 * (pt * torch.tensor(np.diag(A)) * pt).sum()).backward()
        ot.step()
        v = to_host(opt.state[th]["velocity"])
        np.testing.assert_allclose(th.numpy() + 0.9 * v, pt.detach().numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="closure"):
        opt.step()


def test_textbook_momentum_form_is_algorithm_8_2():
    x0 = np.array([1.0, -2.0])
    th = sd.nn.Parameter(sd.tensor(x0.copy()))
    ref = sd.nn.Parameter(sd.tensor(x0.copy()))
    opt = optim.SGD([th], lr=0.1, momentum=0.9, momentum_form="textbook")
    opt_ref = optim.SGD([ref], lr=0.1, momentum=0.9)
    x, v = x0.copy(), np.zeros(2)
    for k in range(30):
        lr = 0.1 if k < 10 else 0.02  # after the lr change the two forms differ
        opt.param_groups[0]["lr"] = opt_ref.param_groups[0]["lr"] = lr
        for p, o in ((th, opt), (ref, opt_ref)):
            o.zero_grad()
            (p * p * sd.tensor([1.0, 3.0])).sum().backward()
            o.step()
        v = 0.9 * v - lr * (2 * x * [1.0, 3.0])
        x = x + v
        np.testing.assert_allclose(th.numpy(), x, rtol=1e-12, atol=1e-14)
        if k < 10:
            np.testing.assert_allclose(th.numpy(), ref.numpy(), rtol=1e-12, atol=1e-14)
    assert np.abs(th.numpy() - ref.numpy()).max() > 1e-6
    with pytest.raises(ValueError, match="momentum_form"):
        optim.SGD([th], lr=0.1, momentum=0.9, momentum_form="keras")


def _half_sq(opt, th, steps):
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (th * th).sum()).backward()
        opt.step()
        out.append(th.numpy().copy())
    return out


@pytest.mark.parametrize("form", ["pytorch", "textbook"])
def test_textbook_vectors_sgd_and_momentum(form):
    th = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
    (s1,) = _half_sq(optim.SGD([th], lr=0.1), th, 1)
    np.testing.assert_allclose(s1, [0.9, -1.8], rtol=1e-12)
    th = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
    s1, s2 = _half_sq(optim.SGD([th], lr=0.1, momentum=0.9, momentum_form=form), th, 2)
    np.testing.assert_allclose(s1, [0.9, -1.8], rtol=1e-12)
    np.testing.assert_allclose(s2, [0.72, -1.44], rtol=1e-12)


def test_textbook_vectors_adam():
    th = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
    opt = optim.Adam([th])
    s1, s2, s3 = _half_sq(opt, th, 3)
    np.testing.assert_allclose(s1, [0.999, -1.999], atol=1e-8)
    np.testing.assert_allclose(s2, [0.99800003, -1.99800001], atol=1e-8)
    np.testing.assert_allclose(s3, [0.9970001, -1.99700005], atol=1e-8)
    for g, want in ((1e-3, -0.00099999), (1.0, -0.001), (1e3, -0.001)):  # scale invariance of the first step
        p = sd.nn.Parameter(sd.tensor([0.0], dtype=sd.float64))
        o = optim.Adam([p])
        p.grad = sd.tensor([g], dtype=sd.float64)
        o.step()
        assert p.item() == pytest.approx(want, abs=1e-8)


def test_names_used_by_the_training_loop_resolve():
    from shendu.train.resolve import OPTIMIZERS, get_optimizer

    for name in OPTIMIZERS:
        p = sd.nn.Parameter(sd.ones(2))
        opt = get_optimizer(name, [p], lr=0.01)
        assert isinstance(opt, optim.Optimizer) and opt.param_groups[0]["lr"] == 0.01


def test_textbook_forms_with_weight_decay_and_maximize_match_pytorch_form_at_constant_lr():
    for kw in (dict(weight_decay=0.1), dict(weight_decay=0.1, maximize=True)):
        a = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
        b = sd.nn.Parameter(sd.tensor([1.0, -2.0], dtype=sd.float64))
        oa = optim.SGD([a], lr=0.05, momentum=0.9, momentum_form="textbook", **kw)
        ob = optim.SGD([b], lr=0.05, momentum=0.9, **kw)
        for _ in range(15):
            for p, o in ((a, oa), (b, ob)):
                o.zero_grad()
                (p * p * sd.tensor([1.0, 0.5])).sum().backward()
                o.step()
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)
