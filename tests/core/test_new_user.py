"""What a new user hits first (issue 23): in-place updates on leaves (1), silent float64 (2), cuda_available (6)."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.autograd.gradcheck import gradcheck
from shendu.nn import functional as F


def _regression(n=64, seed=0):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, 4)).astype(np.float32)
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]).astype(np.float32)
    return sd.tensor(x), sd.tensor(y)


def _mlp():
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))


# --- 1. in-place operations on leaves ---------------------------------------------------------------------
def test_handwritten_update_outside_no_grad_raises_like_torch():
    """Textbook Algorithm 8.1 by hand, outside no_grad: an error (PyTorch's), never a silent no-op."""
    model = _mlp()
    x, y = _regression()
    F.mse_loss(model(x), y).backward()
    before = [p.numpy().copy() for p in model.parameters()]
    with pytest.raises(RuntimeError, match=r"__isub__: .*leaf.* shape \(16, 4\).*leaf Variable that requires grad "
                                           r"is being used in an in-place operation.*sd\.no_grad\(\)"):
        for p in model.parameters():
            p -= 0.1 * p.grad
    for op in ("__iadd__", "__imul__", "__itruediv__"):
        with pytest.raises(RuntimeError, match=op):
            getattr(model[0].bias, op)(2.0)
    for name, args in (("add_", (1.0,)), ("sub_", (1.0,)), ("mul_", (2.0,)), ("div_", (2.0,)), ("zero_", ()),
                       ("fill_", (1.0,)), ("copy_", (model[0].bias.detach(),)), ("clamp_", (0.0, 1.0)),
                       ("exp_", ()), ("pow_", (2,))):
        with pytest.raises(RuntimeError, match=name):
            getattr(model[0].bias, name)(*args)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.numpy(), b)
    torch = pytest.importorskip("torch")
    tp = torch.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tp -= 1.0


def test_handwritten_sgd_inside_no_grad_trains_in_place():
    """Algorithm 8.1 inside no_grad: 20 steps lower the loss; the Parameter objects and their arrays stay."""
    sd.manual_seed(0)
    model = _mlp()
    x, y = _regression()
    params = list(model.parameters())
    ids = [id(p) for p in params]
    arrays = [p._data for p in params]
    versions = [p._version for p in params]
    dtypes = [p.dtype for p in params]
    losses = []
    for _ in range(20):
        model.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        losses.append(loss.item())
        with sd.no_grad():
            for p in model.parameters():
                p -= 0.2 * p.grad
    final = F.mse_loss(model(x), y).item()
    assert final < 0.6 * losses[0], (losses[0], final)
    assert [id(p) for p in model.parameters()] == ids
    assert all(p._data is a for p, a in zip(model.parameters(), arrays))
    assert all(p._version == v + 20 for p, v in zip(model.parameters(), versions))
    assert [p.dtype for p in model.parameters()] == dtypes and all(p.requires_grad for p in params)


def test_data_idiom_updates_the_parameter_in_place():
    """``p.data -= lr * p.grad`` (old PyTorch idiom): works in grad mode, on the same array."""
    model = nn.Linear(2, 1)
    p = model.weight
    arr, before = p._data, p.numpy().copy()
    model(sd.ones(3, 2)).sum().backward()
    p.data -= 0.1 * p.grad
    assert model.weight is p and p._data is arr and p.requires_grad
    np.testing.assert_allclose(p.numpy(), before - 0.3, rtol=1e-6)


def test_setitem_with_an_operand_that_requires_grad_is_refused_not_silently_cut():
    w = sd.tensor([1.0, 2.0], requires_grad=True)
    buf = sd.zeros(3)
    with pytest.raises(RuntimeError, match=r"__setitem__: an operand of shape \(2,\) requires grad"):
        buf[:2] = w * 2
    with sd.no_grad():
        buf[:2] = w * 2
    np.testing.assert_allclose(buf.numpy(), [2.0, 4.0, 0.0])


def test_inplace_operands_cast_to_target_and_bad_ones_refused():
    t = sd.ones(2, 3)
    arr = t._data
    with sd.no_grad():
        t += np.full(3, 0.5, np.float64)  # float64 array: cast to the tensor's float32
        t *= sd.tensor(2.0)  # a 0-d tensor
        t -= sd.tensor([[1.0], [0.0]])  # broadcasts to the target's shape
        t /= 2
    assert t._data is arr and t.dtype == np.float32
    np.testing.assert_allclose(t.numpy(), [[1.0] * 3, [1.5] * 3])
    msg = r"add_: an operand of shape \(4, 3\) cannot be broadcast to the shape \(2, 3\)"
    with pytest.raises(ValueError, match=msg):
        t += sd.ones(4, 3)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        t.mul_(sd.ones(2, 2, 3))
    i = sd.tensor([1, 2, 3])
    i += 2
    i *= sd.tensor([1, 1, 2])
    assert i.dtype == np.int64 and i.numpy().tolist() == [3, 4, 10]
    with pytest.raises(TypeError, match="div_: .*dtype int64"):
        i /= 2
    with pytest.raises(TypeError, match="add_: .*dtype int64"):
        i += 0.5
    assert i.numpy().tolist() == [3, 4, 10]
    torch = pytest.importorskip("torch")
    ti = torch.tensor([1, 2, 3])
    with pytest.raises(RuntimeError):  # PyTorch refuses the same
        ti /= 2


def test_iop_on_non_leaf_is_out_of_place_and_differentiable():
    """Chosen behaviour for a non-leaf in the graph (and for an operand that requires grad): ``x op= y``
    gives the recorded out-of-place result (rebound to the name); gradients match PyTorch's."""
    torch = pytest.importorskip("torch")
    w0 = np.array([1.0, -2.0, 3.0], np.float32)
    w = sd.tensor(w0, requires_grad=True)
    h = w * 2
    h_before = h
    h += w
    h *= w
    h -= 1.0
    h /= 2.0
    assert h is not h_before and h.requires_grad
    np.testing.assert_allclose(h_before.numpy(), 2 * w0)
    acc = sd.zeros(3)  # no grad: an operand that requires grad must not be dropped
    acc += h
    assert acc.requires_grad
    acc.sum().backward()
    tw = torch.tensor(w0, requires_grad=True)
    th = tw * 2
    th += tw
    th *= tw
    th -= 1.0
    th /= 2.0
    tacc = torch.zeros(3)
    tacc += th
    tacc.sum().backward()
    np.testing.assert_allclose(acc.numpy(), tacc.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        h += sd.ones(2, 3)
    with pytest.raises(RuntimeError, match="add_: an operand of shape \\(3,\\) requires grad"):
        sd.zeros(3).add_(w)  # the explicit in-place method cannot record it: an error, not a lost gradient
    z = sd.zeros(3)
    with sd.no_grad():
        z.add_(w)
    np.testing.assert_allclose(z.numpy(), w0)


def test_iop_gradcheck_float64():
    w = sd.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    v = sd.tensor(np.array([1.5, 0.25, -0.75]), requires_grad=True)

    def f(a, b):
        h = a * 1.0
        h += b
        h *= a
        h /= b
        h -= a
        return h

    assert gradcheck(f, [w, v])


# --- 2. silent float64 -----------------------------------------------------------------------------------
def test_integer_true_division_gives_default_float_dtype_as_torch():
    torch = pytest.importorskip("torch")
    ints = np.array([0, 51, 255], np.int64)
    x, tx = sd.tensor(ints), torch.tensor(ints)
    assert x.dtype == np.int64 and sd.tensor(np.arange(3, dtype=np.uint8)).dtype == np.uint8
    assert sd.tensor(np.ones(2)).dtype == np.float64  # float64 NumPy data keep float64, as torch.tensor
    f32 = sd.ones(3)
    cases = [
        (lambda a: a / 255, lambda a: a / 255),
        (lambda a: 255 / (a + 1), lambda a: 255 / (a + 1)),
        (lambda a: a.div(2), lambda a: a.div(2)),
        (lambda a: sd.true_divide(a, 3), lambda a: torch.true_divide(a, 3)),
        (lambda a: a / a.clamp(min=1), lambda a: a / a.clamp(min=1)),
        (lambda a: a / f32, lambda a: a / torch.ones(3)),
        (lambda a: a + f32, lambda a: a + torch.ones(3)),
        (lambda a: f32 * a, lambda a: torch.ones(3) * a),
        (lambda a: a * 0.5, lambda a: a * 0.5),
    ]
    for i, (fs, ft) in enumerate(cases):
        got, want = fs(x), ft(tx)
        assert str(got.dtype) == str(want.dtype).replace("torch.", ""), (i, got.dtype, want.dtype)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert (sd.tensor(np.arange(4, dtype=np.uint8)) / 255).dtype == np.float32
    with sd.backend.default_dtype(sd.float64):  # the default float dtype, whatever it is
        assert (x / 255).dtype == np.float64


def _layers():
    return [
        (nn.Linear(3, 2), (4, 3)),
        (nn.Conv2d(1, 2, 3), (1, 1, 5, 5)),
        (nn.Conv1d(2, 2, 3), (1, 2, 6)),
        (nn.LSTM(3, 4), (5, 2, 3)),
        (nn.GRU(3, 4, batch_first=True), (2, 5, 3)),
        (nn.RNN(3, 4), (5, 2, 3)),
        (nn.BatchNorm1d(3), (4, 3)),
        (nn.LayerNorm(3), (4, 3)),
        (nn.PReLU(), (4, 3)),
        (nn.GroupNorm(2, 4), (2, 4, 3)),
    ]


def test_float64_input_to_float32_layer_is_an_error_naming_both_dtypes():
    r = np.random.default_rng(0)
    for layer, shape in _layers():
        name = type(layer).__name__
        x64 = r.standard_normal(shape)
        for bad in (sd.tensor(x64), x64):
            with pytest.raises(TypeError, match=rf"{name}: input has dtype float64 but the layer's weights have dtype "
                                                rf"float32.*x\.float\(\).*model\.double\(\)"):
                layer(bad)
        out = layer(sd.tensor(x64).float())
        out = out[0] if isinstance(out, tuple) else out
        assert out.dtype == np.float32
        layer.double()  # the whole layer in float64: float64 inputs run, float32 ones are refused
        out = layer(sd.tensor(x64))
        out = out[0] if isinstance(out, tuple) else out
        assert out.dtype == np.float64
        with pytest.raises(TypeError, match=rf"{name}: input has dtype float32 .* float64.*x\.double\(\)"):
            layer(sd.tensor(x64).float())
    with pytest.raises(TypeError, match=r"Linear: input has dtype int64 .*x\.float\(\)"):
        nn.Linear(3, 2)(sd.tensor(np.ones((2, 3), np.int64)))
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(TypeError, match="Linear"):
        model(sd.tensor(np.ones((2, 3))))


def test_float64_models_still_gradcheck():
    """Converting the model first (model.double()) keeps the float64 gradient checks working."""
    sd.manual_seed(1)
    model = nn.Sequential(nn.Conv1d(2, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(12, 2)).double()
    x = sd.tensor(np.random.default_rng(0).standard_normal((2, 2, 6)), requires_grad=True)
    assert gradcheck(lambda a: model(a), [x])
    lstm = nn.LSTM(2, 3).double()
    assert gradcheck(lambda a: lstm(a)[0], [sd.tensor(np.random.default_rng(1).standard_normal((4, 1, 2)),
                                                      requires_grad=True)])


def test_keras_fit_casts_float64_data_once_and_trains_in_float32():
    r = np.random.default_rng(0)
    n = 240
    y = r.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
    X = centers[y] + 0.6 * r.standard_normal((n, 2))  # float64, as NumPy makes it
    assert X.dtype == np.float64
    sd.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    seen = []
    model[0].register_forward_hook(lambda m, inp, out: seen.append((inp[0].dtype, out.dtype)))
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"], lr=0.05)
    hist = model.fit(X, y, epochs=8, batch_size=32, verbose=0, validation_split=0.2)
    assert hist.history["accuracy"][-1] > 0.9 and hist.history["val_accuracy"][-1] > 0.9
    assert set(seen) == {(np.dtype(np.float32), np.dtype(np.float32))}
    assert all(p.dtype == np.float32 for p in model.parameters())
    logs = model.evaluate(X, y)
    assert logs["accuracy"] > 0.9
    pred = model.predict(X)
    assert pred.dtype == np.float32 and pred.shape == (n, 3)
    assert (pred.argmax(1) == y).mean() > 0.9
    # float64 regression targets are cast too (no float64 loss); a float64 model gets float64 data
    reg = nn.Linear(2, 1)
    reg.compile(optimizer="sgd", loss="mse", lr=0.1)
    h = reg.fit(X, X[:, :1] * 2.0 - X[:, 1:], epochs=20, batch_size=32, verbose=0)
    assert h.history["loss"][-1] < 0.01 and reg.weight.dtype == np.float32
    reg64 = nn.Linear(2, 1).double()
    reg64.compile(optimizer="sgd", loss="mse", lr=0.1)
    reg64.fit(X.astype(np.float32), X[:, :1].astype(np.float32), epochs=1, verbose=0)
    assert reg64.predict(X.astype(np.float32)).dtype == np.float64


# --- 6. the device idiom ---------------------------------------------------------------------------------
def test_cuda_available_is_a_bool_and_the_reason_stays_available():
    ok = sd.backend.cuda_available()
    assert type(ok) is bool and ok == sd.cuda.is_available()
    why = sd.backend.cuda_unavailable_reason()
    assert (why is None) == ok
    if not ok:
        assert isinstance(why, str) and why
    dev = "cuda" if sd.backend.cuda_available() else "cpu"
    assert dev == ("cuda" if sd.cuda.is_available() else "cpu")
    from shendu.backend.info import info

    assert info()["cuda"] == ("available" if ok else f"not available: {why}")


def test_copy_takes_tensors_arrays_of_any_device_and_numbers(device):
    """``copy_`` under no_grad moves its source to the target's device: a Tensor, a device or host array, a number."""
    w = sd.zeros(3, device=device, requires_grad=True)
    src = sd.tensor([1.0, 2.0, 3.0], device=device)
    with sd.no_grad():
        w.copy_(src._data)  # a raw array on the target's device
        np.testing.assert_array_equal(w.cpu().numpy(), [1, 2, 3])
        w.copy_(np.array([4.0, 5.0, 6.0]))  # a host array
        np.testing.assert_array_equal(w.cpu().numpy(), [4, 5, 6])
        w.copy_(7.0)
        np.testing.assert_array_equal(w.cpu().numpy(), [7, 7, 7])
