"""Fused binary cross-entropy on probabilities (Textbook 6.2.2.2): values and gradients against PyTorch, float64
gradchecks (first and second order), and the -100 log floor at p = 0, p = 1 and tiny p."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F

rng = np.random.default_rng(3)
P = rng.uniform(0.05, 0.95, (4, 5))
Y = rng.uniform(0.0, 1.0, (4, 5))


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_bce_gradcheck_input_and_target(reduction):
    p = sd.tensor(P, requires_grad=True)
    y = sd.tensor(Y, requires_grad=True)
    assert sd.autograd.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [p, y],
                                 eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_bce_gradgradcheck(reduction):
    p = sd.tensor(P, requires_grad=True)
    y = sd.tensor(Y, requires_grad=True)
    assert sd.autograd.gradgradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [p, y],
                                     eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch_float32(reduction, weighted):
    torch = pytest.importorskip("torch")
    p32 = rng.uniform(0.01, 0.99, (16, 30)).astype(np.float32)
    y32 = (rng.random((16, 30)) > 0.5).astype(np.float32)
    w = rng.uniform(0.5, 2.0, (16, 30)).astype(np.float32) if weighted else None
    g = rng.standard_normal((16, 30)).astype(np.float32) if reduction == "none" else None
    a = sd.tensor(p32, requires_grad=True)
    la = F.binary_cross_entropy(a, y32, weight=None if w is None else sd.tensor(w), reduction=reduction)
    la.backward(None if g is None else sd.tensor(g))
    b = torch.tensor(p32, requires_grad=True)
    lb = torch.nn.functional.binary_cross_entropy(b, torch.from_numpy(y32),
                                                  weight=None if w is None else torch.from_numpy(w),
                                                  reduction=reduction)
    lb.backward(None if g is None else torch.from_numpy(g))
    assert la.dtype == sd.float32 and a.grad.dtype == sd.float32
    np.testing.assert_allclose(la.numpy(), lb.detach().numpy(), rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=2e-5, atol=1e-6)


def test_bce_second_derivative_matches_torch():
    torch = pytest.importorskip("torch")
    a = sd.tensor(P, requires_grad=True)
    (ga,) = sd.autograd.grad(F.binary_cross_entropy(a, Y, reduction="sum"), [a], create_graph=True)
    (ga * ga).sum().backward()
    b = torch.tensor(P, requires_grad=True)
    (gb,) = torch.autograd.grad(torch.nn.functional.binary_cross_entropy(b, torch.tensor(Y), reduction="sum"), [b],
                                create_graph=True)
    (gb * gb).sum().backward()
    np.testing.assert_allclose(ga.detach().numpy(), gb.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8)


def test_bce_floor_at_the_ends_and_tiny_p():
    # p = 0, 1: the log floored at -100 passes no gradient; p = 1e-45 (log p < -100): floored as well;
    # p = 0.25 next to them: the exact gradient (p - y) / (p (1 - p)), also on the masked path
    p = np.array([0.0, 1.0, 1e-45, 0.25, 1.0], np.float32)
    y = np.array([1.0, 0.0, 1.0, 1.0, 1.0], np.float32)
    a = sd.tensor(p, requires_grad=True)
    t = sd.tensor(y, requires_grad=True)
    with np.errstate(all="raise"):
        loss = F.binary_cross_entropy(a, t, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0, 100.0, -np.log(0.25), 0.0], rtol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 0.0, 0.0, -4.0, -1.0], rtol=1e-6)
    # dl/dy = max(log(1 - p), -100) - max(log p, -100)
    np.testing.assert_allclose(t.grad.numpy(), [100.0, -100.0, 100.0, np.log(0.75) - np.log(0.25), -100.0],
                               rtol=1e-5)


def test_bce_mean_of_empty_is_nan():
    assert np.isnan(F.binary_cross_entropy(sd.zeros(0), sd.zeros(0)).item())
