"""Activation checkpointing: gradients equal the plain run (torch.utils.checkpoint as oracle), dropout masks are
replayed, double backward works, and the memory example shows a lower peak."""
import numpy as np
import pytest

import shendu as sd
from shendu.autograd.gradcheck import gradcheck
from shendu.utils.checkpoint import checkpoint, checkpoint_sequential

from ._examples import load_example


def _mlp(dtype=np.float32, p=0.0, seed=0):
    sd.manual_seed(seed)
    layers = [sd.nn.Linear(4, 8, dtype=dtype), sd.nn.Tanh()]
    if p:
        layers.append(sd.nn.Dropout(p))
    return sd.nn.Sequential(*layers, sd.nn.Linear(8, 3, dtype=dtype), sd.nn.Tanh(), sd.nn.Linear(3, 2, dtype=dtype))


def _grads(model, x, run):
    model.zero_grad()
    x.grad = None
    y = run(model, x)
    (y * y).sum().backward()
    return y.numpy(), [p.grad.numpy().copy() for p in model.parameters()], x.grad.numpy().copy()


@pytest.mark.parametrize("p", [0.0, 0.4])
def test_checkpoint_gradients_equal_the_plain_run_with_dropout(p):
    m = _mlp(p=p)
    x = sd.randn(6, 4, requires_grad=True)
    sd.manual_seed(7)
    y0, g0, gx0 = _grads(m, x, lambda mod, a: mod(a))
    for run in (lambda mod, a: checkpoint(mod, a), lambda mod, a: checkpoint_sequential(mod, 2, a),
                lambda mod, a: checkpoint(lambda t: mod(t), a, params=list(mod.parameters()))):
        sd.manual_seed(7)
        y1, g1, gx1 = _grads(m, x, run)
        np.testing.assert_array_equal(y1, y0)
        for a, b in zip(g0, g1):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(gx1, gx0, rtol=1e-6, atol=1e-7)


def test_checkpoint_matches_torch_checkpoint():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as tcheckpoint

    m = _mlp(dtype=np.float64)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3), torch.nn.Tanh(),
                             torch.nn.Linear(3, 2)).double()
    with torch.no_grad():
        for tp, p in zip(tm.parameters(), m.parameters()):
            tp.copy_(torch.tensor(p.numpy()))
    xn = np.random.default_rng(0).normal(size=(5, 4))
    tx = torch.tensor(xn, requires_grad=True)
    ty = tcheckpoint(tm, tx, use_reentrant=False)
    (ty * ty).sum().backward()
    y, g, gx = _grads(m, sd.tensor(xn, requires_grad=True), lambda mod, a: checkpoint(mod, a))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12)
    for p, tp in zip(g, tm.parameters()):
        np.testing.assert_allclose(p, tp.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_checkpoint_gradcheck_double_backward_and_closure_leaves():
    m = _mlp(dtype=np.float64)
    x = sd.tensor(np.random.default_rng(1).normal(size=(3, 4)), requires_grad=True)
    assert gradcheck(lambda a: checkpoint(m, a), [x], eps=1e-6, atol=1e-6)
    # create_graph: a Hessian-vector product through the checkpoint equals the plain one
    v = sd.tensor(np.random.default_rng(2).normal(size=(3, 4)))
    hv = []
    for run in (lambda a: m(a), lambda a: checkpoint(m, a)):
        (g,) = sd.autograd.grad((run(x) ** 2).sum(), [x], create_graph=True)
        (h,) = sd.autograd.grad((g * v).sum(), [x])
        hv.append(h.numpy())
    np.testing.assert_allclose(hv[1], hv[0], rtol=1e-10, atol=1e-12)
    # a leaf read from a closure gets its gradient accumulated (reentrant-style)
    w = sd.tensor([[2.0, -1.0]], dtype=np.float64, requires_grad=True)
    z = sd.tensor([[1.0, 3.0], [0.5, 0.5]], dtype=np.float64, requires_grad=True)
    out = checkpoint(lambda t: (t * w).sum(1), z)
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[1.5, 3.5]])
    np.testing.assert_allclose(z.grad.numpy(), [[2.0, -1.0], [2.0, -1.0]])


def test_checkpoint_tuple_outputs_and_non_tensor_args():
    a = sd.tensor([1.0, 2.0], requires_grad=True)

    def f(t, k):
        return t * k, (t * t).sum()

    y, s = checkpoint(f, a, 3.0)
    (y.sum() + s).backward()
    np.testing.assert_allclose(a.grad.numpy(), [3 + 2, 3 + 4])
    with pytest.raises(TypeError, match="callable"):
        checkpoint(3, a)


def test_checkpoint_memory_example_lowers_the_peak():
    res = load_example("checkpoint_memory").main(["--quick", "--repeat", "1"])
    plain = res["plain"]
    seg = [v for k, v in res.items() if "sqrt" in k][0]
    assert seg["peak_mb"] < 0.8 * plain["peak_mb"]
    assert all(v["max_grad_diff"] < 1e-5 for v in res.values())


def test_dropout_replayed_when_the_device_generator_has_no_state(monkeypatch):
    """CuPy's generator cannot report its state: the checkpoint records the draws and replays them."""
    from shendu.backend import get_generator

    dev = sd.get_default_device()
    if dev.type == "cpu":
        pytest.skip("needs a device generator (run with SHENDU_TEST_DEVICE=strict)")
    m = _mlp(p=0.5)
    x = sd.randn(6, 4, requires_grad=True)
    sd.manual_seed(3)
    y0, g0, _ = _grads(m, x, lambda mod, a: mod(a))
    def no_state(self):
        raise AttributeError("get_state")

    monkeypatch.setattr(type(get_generator(dev)), "get_state", property(no_state), raising=False)
    assert not hasattr(get_generator(dev), "get_state")
    sd.manual_seed(3)
    y1, g1, _ = _grads(m, x, lambda mod, a: checkpoint(mod, a))
    np.testing.assert_array_equal(y1, y0)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
