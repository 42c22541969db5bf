"""The ops on every device (textbook 12.1.2): each op of the op table gives on ``device`` the values and
gradients it gives on the CPU, and its results stay on ``device``; gradcheck runs on ``device``; index data
given on the host moves to the data's device; mixing a CPU tensor into a device op is an error (a 0-d CPU
tensor is a scalar and mixes, as in PyTorch)."""
import contextlib

import numpy as np
import pytest

import shendu as sd

from .op_table import CASES, make_inputs

IDS = [c[0] for c in CASES]


def _on(device):
    return lambda t: str(t.device).startswith(device)


@contextlib.contextmanager
def _default_device(device):
    """The op table builds constants (index tensors) with ``sd.tensor``: make them on ``device``."""
    prev = sd.get_default_device()
    sd.set_default_device(device)
    try:
        yield
    finally:
        sd.set_default_device(prev)


def _run(fn, arrays, device):
    """fn's output and the gradients of <output, v> on ``device`` (v drawn on the host, the same everywhere)."""
    xs = [sd.tensor(a, requires_grad=True, device=device) for a in arrays]
    with _default_device(device):
        y = fn(*xs)
    v = sd.tensor(np.random.default_rng(3).standard_normal(y.shape), device=device)
    (y * v).sum().backward()
    return y, xs


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_op_matches_cpu_on_device(case, device):
    name, fn, _, shapes, domain = case
    arrays = make_inputs(shapes, domain, seed=2)
    y_cpu, xs_cpu = _run(fn, arrays, "cpu")
    y, xs = _run(fn, arrays, device)
    on = _on(device)
    assert on(y) and y.shape == y_cpu.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.detach().cpu().numpy(), y_cpu.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=name)
    for i, (x, xc) in enumerate(zip(xs, xs_cpu)):
        if xc.grad is None:
            assert x.grad is None, f"{name}: input {i}"
            continue
        assert on(x.grad), f"{name}: gradient of input {i} on {x.grad.device}"
        np.testing.assert_allclose(x.grad.cpu().numpy(), xc.grad.numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}: gradient of input {i}")


GRADCHECK = [
    "mul_bcast",
    "div",
    "pow_tensor",
    "sigmoid",
    "softplus_beta",
    "clamp",
    "maximum",
    "where",
    "matmul_bcast",
    "matmul_vec_mat",
    "einsum_three",
    "var",
    "prod",
    "max_dim",
    "logsumexp",
    "norm2_dim",
    "softmax",
    "log_softmax",
    "cat",
    "split",
    "pad",
    "tile",
    "repeat_interleave",
    "roll_flat",
    "getitem_intarray_repeat",
    "getitem_bool",
    "gather",
    "scatter_add",
    "index_add",
    "index_select",
    "masked_fill",
    "mlp",
]


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in GRADCHECK], ids=GRADCHECK)
def test_gradcheck_on_device(case, device):
    name, fn, _, shapes, domain = case
    xs = [sd.tensor(a, requires_grad=True, device=device) for a in make_inputs(shapes, domain)]
    with _default_device(device):
        assert sd.autograd.gradcheck(fn, xs, eps=1e-6, atol=1e-6, rtol=1e-5)
    assert all(_on(device)(x) for x in xs)


@pytest.mark.parametrize("name", ["tanh", "matmul_2d", "softmax", "gather", "prod"])
def test_gradgradcheck_on_device(name, device):
    _, fn, _, shapes, domain = next(c for c in CASES if c[0] == name)
    xs = [sd.tensor(a, requires_grad=True, device=device) for a in make_inputs(shapes, domain, seed=1)]
    with _default_device(device):
        assert sd.autograd.gradgradcheck(fn, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_gradcheck_reports_a_wrong_gradient_on_device(device):
    class Bad(sd.autograd.Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0] * 3  # should be 2x

    x = sd.tensor(np.linspace(-1, 1, 5), requires_grad=True, device=device)
    with pytest.raises(sd.autograd.GradcheckError, match="gradient mismatch for input 0"):
        sd.autograd.gradcheck(lambda t: Bad.apply(t), [x])


def test_host_index_data_moves_to_the_device(device):
    x = sd.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, device=device)
    ref = np.arange(12.0).reshape(3, 4)
    on = _on(device)
    for key, want in [((np.array([2, 0, 2]),), ref[[2, 0, 2]]), (([0, 1], [3, 3]), ref[[0, 1], [3, 3]]),
                      ((slice(None), np.array([1, 0])), ref[:, [1, 0]]), ((ref > 5,), ref[ref > 5]),
                      ((sd.tensor([1, 2], device="cpu"),), ref[[1, 2]])]:  # a CPU index tensor, as PyTorch
        y = x[key if len(key) > 1 else key[0]]
        assert on(y)
        np.testing.assert_array_equal(y.detach().cpu().numpy(), want)
    y = x[[0, 0, 2]]
    y.sum().backward()
    assert on(x.grad)
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.array([[2.0] * 4, [0.0] * 4, [1.0] * 4]))
    for out in (x.gather(1, np.array([[0], [1], [2]])), x.index_select(0, [2, 1]),
                sd.index_add(x, 0, np.array([0, 0]), sd.ones(2, 4, dtype=sd.float64, device=device)),
                x.masked_fill(ref > 5, 0.0), sd.where(ref > 5, x, 0.0)):
        assert on(out)
    np.testing.assert_array_equal(x.gather(1, np.array([[0], [1], [2]])).detach().cpu().numpy(), [[0.0], [5.0], [10.0]])
    np.testing.assert_array_equal(x.masked_fill(ref > 5, -1.0).detach().cpu().numpy(), np.where(ref > 5, -1.0, ref))
    with pytest.raises(IndexError, match="out of range for dimension 1 of size 4"):
        x.gather(1, sd.tensor([[0], [4], [1]], device=device))


def test_no_grad_ops_stay_on_device(device):
    a = sd.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], device=device)
    b = sd.tensor([1.0, 0.0, 3.0], device=device)
    on = _on(device)
    results = [a == b, a != b, a < b, a <= 1.0, a > b, a >= 0, (a > 0) & (b > 0), (a > 0) | (b > 0), (a > 0) ^ (b > 0),
               ~(a > 0), sd.isnan(a), sd.isinf(a), sd.isfinite(a), sd.floor(a), sd.ceil(a), sd.round(a), sd.sign(a),
               a // 2, a % 2, a.argmax(), a.argmax(dim=1), a.argmin(dim=0, keepdim=True), a.max(dim=1)[1],
               sd.one_hot(sd.tensor([0, 2, 1], device=device), 3)]
    ref = [np.equal, np.not_equal, np.less]
    for r in results:
        assert on(r), r
    h = a.cpu().numpy()
    for r, f in zip(results, ref):
        np.testing.assert_array_equal(r.cpu().numpy(), f(h, b.cpu().numpy()))
    np.testing.assert_array_equal(results[-1].cpu().numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert a.argmax().item() == 4 and a.argmax(dim=1).cpu().numpy().tolist() == [2, 1]
    assert sd.allclose(a, a.clone()) and not sd.allclose(a, a + 1)


def test_mixing_a_cpu_tensor_into_a_device_op_is_an_error(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    a = sd.ones(2, 3, device=device, requires_grad=True)
    c = sd.ones(2, 3, device="cpu")
    v = sd.ones(3, device="cpu")
    idx = sd.tensor([[0], [1]], device="cpu")
    same = "Expected all tensors to be on the same device"
    for op in (lambda: a + c, lambda: c * a, lambda: a @ sd.ones(3, 2, device="cpu"), lambda: sd.maximum(a, v),
               lambda: sd.cat([a, c]), lambda: sd.stack([a, c]), lambda: sd.where(c > 0, a, a), lambda: a == c,
               lambda: a < v, lambda: (a > 0) & (c > 0), lambda: a // c, lambda: sd.allclose(a, c),
               lambda: sd.einsum("ij,ij->i", a, c), lambda: a.gather(1, idx), lambda: a.scatter_add(1, idx, c[:, :1]),
               lambda: a.index_select(0, sd.tensor([0], device="cpu")), lambda: a.masked_fill(c > 0, 1.0)):
        with pytest.raises(RuntimeError, match=same):
            op()


def test_a_0d_cpu_tensor_mixes_with_a_device_tensor(device):
    a = sd.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=sd.float64, device=device, requires_grad=True)
    s = sd.tensor(2.0, dtype=sd.float64, device="cpu")
    on = _on(device)
    outs = [a * s, s - a, a / s, sd.maximum(a, s), sd.where(a > 0, a, s), a.masked_fill(a > 0, s), a > s, a == s,
            sd.where(a > s, 1.0, 0.0), a.clamp(min=s)]
    for o in outs:
        assert on(o), o
    np.testing.assert_array_equal(outs[0].detach().cpu().numpy(), [[2.0, -4.0], [6.0, 1.0]])
    np.testing.assert_array_equal(outs[4].detach().cpu().numpy(), [[1.0, 2.0], [3.0, 0.5]])
    np.testing.assert_array_equal(outs[8].cpu().numpy(), [[0.0, 0.0], [1.0, 0.0]])
    (outs[0] + outs[3]).sum().backward()
    assert on(a.grad)
    np.testing.assert_array_equal(a.grad.cpu().numpy(), [[2.0, 2.0], [3.0, 2.0]])


def test_functional_helpers_on_device(device):
    on = _on(device)
    w = sd.tensor([1.0, -2.0, 0.5], dtype=sd.float64, device=device, requires_grad=True)

    def f():
        return (w * w * w).sum()

    hv = sd.autograd.functional.hvp(f, [w], [np.ones(3)])[0]  # a host vector is data: moved to w's device
    assert on(hv)
    np.testing.assert_allclose(hv.cpu().numpy(), 6 * np.array([1.0, -2.0, 0.5]))
    J = sd.autograd.functional.jacobian(lambda t: t * t, w)
    assert on(J)
    np.testing.assert_allclose(J.cpu().numpy(), np.diag([2.0, -4.0, 1.0]))
    H = sd.autograd.functional.hessian(f, [w])
    assert on(H)
    np.testing.assert_allclose(H.cpu().numpy(), np.diag([6.0, -12.0, 3.0]))


def test_anomaly_and_profiler_on_device(device):
    x = sd.tensor([1.0, 0.0], device=device, requires_grad=True)
    with sd.autograd.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(RuntimeError, match="Log produced NaN/Inf"):
            sd.log(x - 1.0)
    with sd.autograd.profile() as prof:
        (sd.tanh(x) * 2).sum().backward()
    assert {"Tanh", "Mul", "Sum"} <= set(prof.stats())
    assert _on(device)(x.grad)


def test_inplace_ops_on_device(device):
    on = _on(device)
    a = sd.ones(3, device=device)
    a.add_(sd.tensor(2.0, device="cpu"))  # a 0-d CPU tensor is a scalar, as in PyTorch
    a.mul_(sd.tensor([1.0, 2.0, 3.0], device=device))
    a.sub_(1.0)
    a.div_(2)
    a += sd.ones(3, device=device)
    assert on(a)
    np.testing.assert_array_equal(a.cpu().numpy(), [2.0, 3.5, 5.0])
    a.normal_(generator=np.random.default_rng(0))  # another device's generator: its draw is moved here
    assert on(a) and np.isfinite(a.cpu().numpy()).all()
    if device == "cpu":
        return
    c = sd.ones(3, device="cpu")
    for op in (a.add_, a.sub_, a.mul_, a.div_, a.__iadd__):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            op(c)
