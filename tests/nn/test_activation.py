"""Activations: PyTorch oracle (forward + backward), gradcheck, finiteness at |x| = 1e4, textbook values."""
import math

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd import gradcheck, gradgradcheck

from ._oracle import compare

# (id, shendu fn, torch fn (by name, resolved lazily), smooth enough for gradgradcheck)
CASES = [
    ("relu", F.relu, lambda T, x: T.relu(x), False),
    ("sigmoid", F.sigmoid, lambda T, x: T.sigmoid(x), True),
    ("tanh", F.tanh, lambda T, x: T.tanh(x), True),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda T, x: T.nn.functional.leaky_relu(x, 0.2), False),
    ("hardtanh", F.hardtanh, lambda T, x: T.nn.functional.hardtanh(x), False),
    ("hardtanh_range", lambda x: F.hardtanh(x, -0.5, 2.0), lambda T, x: T.nn.functional.hardtanh(x, -0.5, 2.0), False),
    ("hardsigmoid", F.hardsigmoid, lambda T, x: T.nn.functional.hardsigmoid(x), False),
    ("hardswish", F.hardswish, lambda T, x: T.nn.functional.hardswish(x), False),
    ("relu6", F.relu6, lambda T, x: T.nn.functional.relu6(x), False),
    ("softsign", F.softsign, lambda T, x: T.nn.functional.softsign(x), False),
    ("abs", F.abs_rectification, lambda T, x: x.abs(), False),
    ("elu", F.elu, lambda T, x: T.nn.functional.elu(x), False),
    ("elu_alpha", lambda x: F.elu(x, 0.2), lambda T, x: T.nn.functional.elu(x, 0.2), False),
    ("celu", lambda x: F.celu(x, 0.7), lambda T, x: T.nn.functional.celu(x, 0.7), False),
    ("selu", F.selu, lambda T, x: T.nn.functional.selu(x), False),
    ("silu", F.silu, lambda T, x: T.nn.functional.silu(x), True),
    ("swish_beta", lambda x: F.swish(x, 1.7), lambda T, x: x * T.sigmoid(1.7 * x), True),
    ("gelu", F.gelu, lambda T, x: T.nn.functional.gelu(x), True),
    ("gelu_tanh", lambda x: F.gelu(x, "tanh"), lambda T, x: T.nn.functional.gelu(x, approximate="tanh"), True),
    ("softplus", F.softplus, lambda T, x: T.nn.functional.softplus(x), True),
    ("softplus_beta", lambda x: F.softplus(x, 2.0, 3.0), lambda T, x: T.nn.functional.softplus(x, 2.0, 3.0), False),
    ("mish", F.mish, lambda T, x: T.nn.functional.mish(x), True),
    ("logsigmoid", F.logsigmoid, lambda T, x: T.nn.functional.logsigmoid(x), True),
    ("softmax", lambda x: F.softmax(x, 1), lambda T, x: T.softmax(x, 1), True),
    ("softmax0", lambda x: F.softmax(x, 0), lambda T, x: T.softmax(x, 0), True),
    ("log_softmax", lambda x: F.log_softmax(x, -1), lambda T, x: T.log_softmax(x, -1), True),
    ("softmin", lambda x: F.softmin(x, 1), lambda T, x: T.nn.functional.softmin(x, 1), True),
]
IDS = [c[0] for c in CASES]


def _x(shape=(4, 5), seed=1):
    x = np.random.default_rng(seed).standard_normal(shape) * 2
    x[np.abs(x) < 1e-3] = 0.5  # keep away from kinks for finite differences
    for k in (-3.0, 3.0, -1.0, 1.0, 6.0, 0.0, -0.5, 2.0):  # and from the bounds of the hard units
        x[np.abs(x - k) < 1e-3] += 0.01
    return x


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    _, f, tf, _ = case
    compare(f, lambda x: tf(torch, x), [_x()])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case):
    _, f, _, smooth = case
    x = sd.tensor(_x((3, 4), seed=2), requires_grad=True)
    assert gradcheck(f, [x])
    if smooth:
        assert gradgradcheck(f, [x])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_finite_at_extremes(case):
    _, f, _, _ = case
    x = sd.tensor(np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=np.float32), requires_grad=True)
    y = f(x)
    assert y.dtype == sd.float32
    assert np.isfinite(y.numpy()).all()
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_prelu_matches_torch_per_channel_and_shared():
    torch = pytest.importorskip("torch")
    x = _x((3, 4, 2))
    for w in (np.array([0.25]), np.array([0.1, -0.2, 0.3, 0.5])):
        compare(F.prelu, torch.nn.functional.prelu, [x, w])
    assert gradcheck(
        F.prelu, [sd.tensor(x, requires_grad=True), sd.tensor(np.array([0.1, -0.2, 0.3, 0.5]), requires_grad=True)]
    )
    with pytest.raises(ValueError, match="prelu"):
        F.prelu(sd.randn(3, 5), sd.ones(4))


def test_prelu_module_learns_slope_gradient():
    m = nn.PReLU(3).double()
    x = sd.tensor([[-2.0, 1.0, -1.0]], dtype=sd.float64)
    m(x).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), [-2.0, 0.0, -1.0])
    assert m.weight.numpy()[0] == 0.25


def test_swish_trainable_beta_grad_matches_torch():
    torch = pytest.importorskip("torch")
    x = _x((3, 4))
    b = np.array(1.3)
    compare(lambda x, b: F.swish(x, b), lambda x, b: x * torch.sigmoid(b * x), [x, b])
    m = nn.Swish(trainable=True)
    assert [n for n, _ in m.named_parameters()] == ["beta"]


def test_step_is_perceptron_unit():
    x = sd.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    y = F.step(x)
    np.testing.assert_array_equal(y.numpy(), [0, 0, 1])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])
    np.testing.assert_array_equal(F.step(x, value_at_zero=0.5).numpy(), [0, 0.5, 1])


def test_textbook_values():
    # softmax([1000, 1001, 1002]) without overflow (textbook 6.2.2.3, eq. 6.33)
    np.testing.assert_allclose(
        F.softmax(sd.tensor([1000.0, 1001.0, 1002.0])).numpy(), [0.09003057, 0.24472847, 0.66524096], rtol=1e-6
    )
    # tanh(z) = 2 sigma(2z) - 1 (textbook 6.3.2)
    assert abs(F.tanh(sd.tensor(0.7, dtype=sd.float64)).item() - 0.6043677771171634) < 1e-12
    assert abs(2 * F.sigmoid(sd.tensor(1.4, dtype=sd.float64)).item() - 1 - 0.6043677771171634) < 1e-12
    # ReLU idempotent, ReLU(2) = 2 (seeds ch. 3)
    assert F.relu(F.relu(sd.tensor(2.0))).item() == 2.0
    # SELU constants (Klambauer et al.)
    assert abs(F.selu(sd.tensor(-1e4, dtype=sd.float64)).item() + 1.0507009873554805 * 1.6732632423543772) < 1e-12
    # soft max value softmax(z)^T z lies between mean and max
    z = sd.tensor([1.0, 2.0, 5.0])
    assert 2.67 < F.soft_max_value(z).item() < 5.0


def test_erf_exact_values():
    v = F.erf(sd.tensor([0.0, 0.5, 1.0, -2.0], dtype=sd.float64)).numpy()
    np.testing.assert_allclose(v, [math.erf(0.0), math.erf(0.5), math.erf(1.0), math.erf(-2.0)], rtol=1e-7, atol=1e-8)


def test_erf_without_scipy_uses_the_rational_approximation(monkeypatch):
    """The fallback (no scipy / cupyx erf): Numerical Recipes' erfc approximation, |error| < 1.2e-7."""
    from shendu.nn.functional import activation

    monkeypatch.setattr(activation, "_erf_array", None)
    monkeypatch.setattr(activation, "_erf_kernel", lambda xp: None)
    xs = np.linspace(-4, 4, 81)
    v = F.erf(sd.tensor(xs, dtype=sd.float64)).numpy()
    exact = np.array([math.erf(x) for x in xs])
    err = np.abs(v - exact)
    assert err.max() < 1.2e-7 and err.max() > 0  # the approximation ran (not an exact erf)


def test_rbf_unit():
    x = sd.tensor(np.array([[0.0, 0.0], [1.0, 2.0]]))
    w = sd.tensor(np.array([[0.0, 1.0], [0.0, 2.0]]))  # columns are templates (0,0) and (1,2)
    h = F.rbf(x, w, 2.0).numpy()
    np.testing.assert_allclose(h, [[1.0, math.exp(-5 / 4)], [math.exp(-5 / 4), 1.0]], rtol=1e-12)
    xs = sd.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    ws = sd.tensor(np.random.default_rng(1).standard_normal((2, 4)), requires_grad=True)
    s = sd.tensor(np.array([0.8, 1.2, 1.0, 2.0]), requires_grad=True)
    assert gradcheck(F.rbf, [xs, ws, s])
    m = nn.RBF(2, 4)
    assert m(sd.randn(3, 2)).shape == (3, 4)
    with pytest.raises(ValueError, match="rbf"):
        F.rbf(sd.randn(3, 3), sd.randn(2, 4), 1.0)


MODULES = [
    (nn.ReLU(), F.relu),
    (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh),
    (nn.LeakyReLU(0.3), lambda x: F.leaky_relu(x, 0.3)),
    (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
    (nn.SELU(), F.selu),
    (nn.SiLU(), F.silu),
    (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh")),
    (nn.Softplus(2.0), lambda x: F.softplus(x, 2.0)),
    (nn.Softmax(0), lambda x: F.softmax(x, 0)),
    (nn.LogSoftmax(1), lambda x: F.log_softmax(x, 1)),
    (nn.Hardtanh(), F.hardtanh),
    (nn.Hardsigmoid(), F.hardsigmoid),
    (nn.Softsign(), F.softsign),
    (nn.AbsRectification(), F.abs_rectification),
    (nn.Step(), F.step),
    (nn.Mish(), F.mish),
    (nn.Swish(2.0), lambda x: F.swish(x, 2.0)),
    (nn.CELU(0.5), lambda x: F.celu(x, 0.5)),
    (nn.ReLU6(), F.relu6),
]


@pytest.mark.parametrize("mod,fn", MODULES, ids=[type(m).__name__ for m, _ in MODULES])
def test_modules_wrap_functions(mod, fn):
    x = sd.tensor(_x((3, 4)).astype(np.float32))
    np.testing.assert_array_equal(mod(x).numpy(), fn(x).numpy())
    assert list(mod.parameters()) == []


def test_get_activation():
    assert F.get_activation("ReLU") is F.relu
    assert F.get_activation(None) is F.identity
    with pytest.raises(ValueError, match="unknown activation"):
        F.get_activation("nope")


def test_generalized_rectifier_alpha_minus_one_is_abs():
    """Textbook 6.3.1: max(0, z) + a min(0, z); |z| needs a = -1 (the text's "a = 1" gives the identity)."""
    z = sd.tensor([-2.0, -0.5, 0.0, 1.5])
    w = sd.tensor([-1.0])
    np.testing.assert_array_equal(F.prelu(z.reshape((1, 4)), w).numpy().ravel(), F.abs_rectification(z).numpy())
    np.testing.assert_array_equal(F.prelu(z.reshape((1, 4)), sd.tensor([1.0])).numpy().ravel(), z.numpy())


@pytest.mark.parametrize("size", [4095, 4096, 16384, 2 * 16384 + 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_zero_row_route_matches_maximum(size, dtype):
    """The host ReLU compares with a cached zero row (rows of 16384 and a shorter rest): the same values as
    NumPy's maximum(x, 0), NaN and infinities included, for sizes below, at and across the row length; its
    gradient is gy * [y > 0]."""
    rng = np.random.default_rng(size)
    x = rng.standard_normal(size).astype(dtype)
    x[[0, 7, size // 2, size - 1]] = [np.nan, -np.inf, np.inf, -np.nan]
    t = sd.tensor(x.reshape(1, -1), requires_grad=True)
    y = F.relu(t)
    np.testing.assert_array_equal(y.numpy().ravel(), np.maximum(x, 0))
    assert y.dtype == t.dtype
    gy = rng.standard_normal(size).astype(dtype)
    y.backward(sd.tensor(gy.reshape(1, -1)))
    np.testing.assert_array_equal(t.grad.numpy().ravel(), gy * (np.maximum(x, 0) > 0))
