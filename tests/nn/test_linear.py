"""Linear/Dense/Bilinear/LowRankLinear/Flatten/Identity: PyTorch oracle, gradcheck, init, errors, XOR (textbook 6.1)."""
import importlib
import math

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd import gradcheck, gradgradcheck

from ._oracle import compare

R = np.random.default_rng(5)


# 70 and 2 x 40 rows: the bias gradient as a GEMV (>= 64 rows), fewer: sum over rows
@pytest.mark.parametrize("xshape", [(5, 3), (2, 4, 3), (3,), (70, 3), (2, 40, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(xshape, bias):
    torch = pytest.importorskip("torch")
    x, w, b = R.standard_normal(xshape), R.standard_normal((4, 3)), R.standard_normal(4)
    if bias:
        compare(F.linear, torch.nn.functional.linear, [x, w, b])
    else:
        compare(F.linear, torch.nn.functional.linear, [x, w])


def test_linear_gradcheck_and_double_backward():
    for xshape in [(5, 3), (2, 4, 3)]:
        ts = [
            sd.tensor(a, requires_grad=True)
            for a in (R.standard_normal(xshape), R.standard_normal((4, 3)), R.standard_normal(4))
        ]
        assert gradcheck(F.linear, ts)
        assert gradgradcheck(lambda x, w, b: F.linear(x, w, b) ** 2, ts)


def test_linear_partial_requires_grad():
    x = sd.tensor(R.standard_normal((5, 3)))
    w = sd.tensor(R.standard_normal((4, 3)), requires_grad=True)
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.ones((4, 5)) @ x.numpy())
    assert x.grad is None


def test_linear_module_state_dict_maps_to_torch():
    torch = pytest.importorskip("torch")
    m = nn.Linear(3, 4).double()
    tm = torch.nn.Linear(3, 4).double()
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    x = R.standard_normal((6, 3))
    np.testing.assert_allclose(m(sd.tensor(x)).numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert m.weight.shape == (4, 3) and m.weight.dtype == sd.float64
    assert nn.Linear(3, 4).weight.dtype == sd.float32


def test_linear_default_init_is_pytorch_uniform():
    m = nn.Linear(400, 300)
    w, b = m.weight.numpy(), m.bias.numpy()
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.var() - bound ** 2 / 3) < 0.03 * bound ** 2 / 3
    assert np.abs(b).max() <= bound
    sd.manual_seed(1)
    a = nn.Linear(3, 2).weight.numpy().copy()
    sd.manual_seed(1)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.numpy(), a)


def test_weight_and_bias_init_overrides():
    m = nn.Linear(50, 40, weight_init="zeros", bias_init=0.1)
    assert (m.weight.numpy() == 0).all() and np.allclose(m.bias.numpy(), 0.1)
    m = nn.Linear(50, 40, weight_init=lambda w: nn.init.constant_(w, 2.0))
    assert (m.weight.numpy() == 2).all()
    m = nn.Linear(50, 40, weight_init=lambda w: np.full(w.shape, 3.0))
    assert (m.weight.numpy() == 3).all()
    m = nn.Linear(200, 100, weight_init="xavier_uniform")
    assert np.abs(m.weight.numpy()).max() <= math.sqrt(6 / 300)
    with pytest.raises(ValueError, match="unknown initializer"):
        nn.Linear(2, 2, weight_init="bogus")


def test_dense_activation_and_no_bias():
    d = nn.Dense(3, 4, activation="relu")
    x = sd.randn(5, 3)
    np.testing.assert_array_equal(d(x).numpy(), F.relu(F.linear(x, d.weight, d.bias)).numpy())
    assert "activation=relu" in repr(d)
    d2 = nn.Dense(3, 4, activation=F.tanh, bias=False)
    assert d2.bias is None and [n for n, _ in d2.named_parameters()] == ["weight"]
    np.testing.assert_allclose(d2(x).numpy(), np.tanh(x.numpy() @ d2.weight.numpy().T), rtol=1e-6)


def test_linear_shape_error_names_layer():
    with pytest.raises(ValueError, match=r"Linear\(3 -> 4\).*\(\*, 3\).*\(5, 2\)"):
        nn.Linear(3, 4)(sd.randn(5, 2))
    with pytest.raises(ValueError, match="linear"):
        F.linear(sd.randn(5, 2), sd.randn(4, 3))
    with pytest.raises(ValueError, match="bias"):
        F.linear(sd.randn(5, 3), sd.randn(4, 3), sd.randn(3))


def test_bilinear_matches_torch():
    torch = pytest.importorskip("torch")
    x1, x2, w, b = (
        R.standard_normal((5, 3)),
        R.standard_normal((5, 2)),
        R.standard_normal((4, 3, 2)),
        R.standard_normal(4),
    )
    compare(F.bilinear, torch.nn.functional.bilinear, [x1, x2, w, b])
    m = nn.Bilinear(3, 2, 4)
    assert m(sd.randn(5, 3), sd.randn(5, 2)).shape == (5, 4)


def test_low_rank_linear_parameter_count():
    # n = p = 1000, q = 10: (n + p) q = 20,000 weights instead of 1,000,000 (textbook 6.3.3)
    m = nn.LowRankLinear(1000, 1000, 10, bias=False)
    assert m.num_parameters() == 20000
    assert nn.Linear(1000, 1000, bias=False).num_parameters() == 1000000
    assert m(sd.randn(2, 1000)).shape == (2, 1000)


def test_flatten_identity_reshape():
    x = sd.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(2)(x).shape == (2, 3, 20)
    assert nn.Identity(7, foo=1)(x) is x
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Reshape(12, 5)(x).shape == (2, 12, 5)
    a = sd.tensor(R.standard_normal((2, 3, 2)), requires_grad=True)
    assert gradcheck(lambda t: nn.Flatten()(t) * 2, [a])


def test_xor_network_from_textbook():
    """Textbook 6.1: W = [[1,1],[1,1]], c = [0,-1], w = [1,-2], b = 0 computes XOR exactly."""
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    net.load_state_dict({
        "0.weight": np.array([[1.0, 1.0], [1.0, 1.0]]).T, "0.bias": np.array([0.0, -1.0]),
        "2.weight": np.array([[1.0, -2.0]]), "2.bias": np.array([0.0]),
    })
    X = sd.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(net(X).numpy().ravel(), [0, 1, 1, 0])


def _train_xor(seed):
    sd.manual_seed(seed)
    X = sd.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]], np.float32)
    # tanh hidden units: with only 2 ReLUs a fresh net loses a unit (dead ReLU) in about half the seeds
    net = nn.Sequential(nn.Linear(2, 2, bias_init=0.1), nn.Tanh(), nn.Linear(2, 1))
    params = list(net.parameters())
    vel = [np.zeros_like(p.numpy()) for p in params]
    for _ in range(1500):  # full-batch gradient descent with momentum on the MSE (textbook 6.1)
        net.zero_grad()
        F.mse_loss(net(X), y).backward()
        for p, v in zip(params, vel):
            v *= 0.9
            v -= 0.05 * p.grad.numpy()
            p.data.add_(sd.tensor(v, device=p.device))
    out = net(X).numpy().ravel()
    return bool(((out > 0.5) == (y.ravel() > 0.5)).all())


def test_xor_trained_from_fresh_init_most_seeds():
    solved = sum(_train_xor(s) for s in range(10))
    assert solved >= 9, f"XOR solved for only {solved}/10 seeds"


def test_bilinear_gradcheck():
    ts = [
        sd.tensor(a, requires_grad=True)
        for a in (
            R.standard_normal((3, 2)),
            R.standard_normal((3, 4)),
            R.standard_normal((5, 2, 4)),
            R.standard_normal(5),
        )
    ]
    assert gradcheck(F.bilinear, ts)
    with pytest.raises(ValueError, match="bilinear"):
        F.bilinear(sd.randn(3, 3), sd.randn(3, 4), sd.randn(5, 2, 4))


@pytest.mark.parametrize("xshape", [(20, 260), (2, 16, 260), (64, 260), (65, 260)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_small_batch_route_matches_plain_gemm(xshape, bias, monkeypatch):
    """Few rows (<= SMALL_BATCH_ROWS) take y = (W x^T)^T with the bias added in the copy: same values as
    x @ W.T + b, a C-ordered output, and gradients as before (65 rows: the plain route)."""
    lin = importlib.import_module("shendu.nn.functional.linear")
    calls = []
    real = lin._small_batch_affine
    monkeypatch.setattr(lin, "_small_batch_affine", lambda *a: calls.append(1) or real(*a))
    rng = np.random.default_rng(3)
    x = rng.standard_normal(xshape).astype(np.float32)
    w = rng.standard_normal((140, 260)).astype(np.float32)
    b = rng.standard_normal(140).astype(np.float32)
    xt, wt, bt = (sd.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.linear(xt, wt, bt if bias else None)
    want = x @ w.T + (b if bias else 0)
    assert y.dtype == sd.float32 and y.shape == xshape[:-1] + (140,)
    assert y._data.flags.c_contiguous
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-4)
    rows = int(np.prod(xshape[:-1]))
    assert bool(calls) == (rows <= lin.SMALL_BATCH_ROWS and type(xt._data) is np.ndarray)
    y.sum().backward()
    np.testing.assert_allclose(wt.grad.numpy(), np.ones((140, rows), np.float32) @ x.reshape(rows, -1),
                               rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(xt.grad.numpy(), np.broadcast_to(w.sum(0), xshape), rtol=1e-5, atol=1e-4)


def test_linear_small_batch_route_gradcheck_and_torch(monkeypatch):
    """The small-batch route (forced on for small features) in float64: gradcheck and PyTorch's linear."""
    torch = pytest.importorskip("torch")
    lin = importlib.import_module("shendu.nn.functional.linear")
    monkeypatch.setattr(lin, "SMALL_BATCH_MIN_IN", 1)
    monkeypatch.setattr(lin, "SMALL_BATCH_MIN_OUT", 1)
    calls = []
    real = lin._small_batch_affine
    monkeypatch.setattr(lin, "_small_batch_affine", lambda *a: calls.append(1) or real(*a))
    x, w, b = R.standard_normal((5, 3)), R.standard_normal((4, 3)), R.standard_normal(4)
    compare(F.linear, torch.nn.functional.linear, [x, w, b])
    compare(F.linear, torch.nn.functional.linear, [x, w])
    ts = [sd.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert gradcheck(F.linear, ts)
    assert calls or type(ts[0]._data) is not np.ndarray  # ran on the host (a device keeps the plain GEMM)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_bias_route_matches_matmul_plus_bias_and_is_taken(dtype, monkeypatch):
    """y = x W^T + b with the bias folded into one BLAS GEMM (ops._hostblas.gemm_bias) equals x @ W.T + b; F.linear
    takes it for host float arrays with a bias (2-D and N-d inputs) and falls back where it does not apply."""
    pytest.importorskip("scipy")
    from shendu.ops import _hostblas

    lin = importlib.import_module("shendu.nn.functional.linear")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 40)).astype(dtype)  # 300 x 40 -> 30: above GEMM_BIAS_MIN_MACS
    w = rng.standard_normal((30, 40)).astype(dtype)
    b = rng.standard_normal(30).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(_hostblas.gemm_bias(x, w, b), x @ w.T + b, rtol=tol, atol=tol)
    assert _hostblas.gemm_bias(x[:, ::2].copy(order="F"), w[:, ::2], b) is None  # not C-contiguous: NumPy's path
    assert _hostblas.gemm_bias(x, w, b.astype(np.float16)) is None
    assert _hostblas.gemm_bias(x[:8], w, b) is None  # too small: SciPy's call costs more than it saves
    taken = []
    monkeypatch.setattr(lin, "gemm_bias", lambda *a: taken.append(_hostblas.gemm_bias(*a) is not None) or
                        _hostblas.gemm_bias(*a))
    x3 = sd.tensor(rng.standard_normal((10, 30, 40)).astype(dtype))
    y = F.linear(x3, sd.tensor(w), sd.tensor(b))
    np.testing.assert_allclose(y.numpy(), x3.numpy() @ w.T + b, rtol=tol, atol=tol)
    assert taken == [sd.get_default_device().type == "cpu"]  # host arrays: folded; device arrays: NumPy's path
