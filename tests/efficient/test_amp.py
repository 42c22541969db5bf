"""Low precision (textbook 12.1.6): bfloat16/float16 tensors, amp.autocast dtype decisions, amp.GradScaler
against torch.amp.GradScaler, float32 master weights."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.backend.lowp import bfloat16

from ._examples import load_example

DEV = sd.get_default_device().type  # "cpu", or "cuda" for the strict stand-in


def test_bfloat16_alias_and_methods():
    x = sd.tensor([1.0, 2.0, 3.00390625])
    assert sd.bfloat16 == bfloat16 and sd.bfloat16.name == "bfloat16"
    b = x.bfloat16()
    assert b.dtype == sd.bfloat16
    # 8 mantissa bits (7 stored): 3.00390625 rounds to 3.0
    np.testing.assert_array_equal(b.float().numpy(), [1.0, 2.0, 3.0])
    assert x.half().dtype == np.float16
    assert sd.zeros(3, dtype=sd.bfloat16).dtype == sd.bfloat16


@pytest.mark.parametrize("dt", ["bfloat16", "float16"])
def test_common_ops_keep_low_precision_dtype(dt):
    dt = sd.bfloat16 if dt == "bfloat16" else sd.float16
    sd.manual_seed(0)
    x = sd.randn(4, 3).type(dt)
    w = sd.randn(5, 3).type(dt).requires_grad_()
    b = sd.zeros(5).type(dt).requires_grad_()
    outs = {"linear": F.linear(x, w, b), "matmul": x @ w.transpose(0, 1), "relu": F.relu(x),
            "softmax": F.softmax(x, -1), "mean": x.mean(), "mse": F.mse_loss(x, x * 2), "tanh": x.tanh(),
            "conv": F.conv2d(sd.randn(1, 1, 5, 5).type(dt), sd.randn(2, 1, 3, 3).type(dt)),
            "ce": F.cross_entropy(x, sd.tensor([0, 1, 2, 0]))}
    for name, y in outs.items():
        assert y.dtype == dt, (name, y.dtype)
    loss = F.linear(x, w, b).sum()
    loss.backward()
    assert w.grad.dtype == dt and b.grad.dtype == dt
    a3 = sd.randn(2, 4, 3).type(dt).requires_grad_()  # batched and matrix-vector products, backward too
    v = sd.randn(3).type(dt).requires_grad_()
    ((a3 @ w.detach().transpose(0, 1)).float().sum() + (a3 @ v).float().sum()).backward()
    assert a3.grad.dtype == dt and v.grad.dtype == dt
    np.testing.assert_allclose(v.grad.float().numpy(), a3.detach().float().numpy().sum((0, 1)), rtol=2 ** -6, atol=0.05)
    # bfloat16 matmul computes in float32 then rounds: equals the float32 product within bfloat16 precision
    ref = x.float().numpy() @ w.detach().float().numpy().T
    np.testing.assert_allclose(outs["matmul"].float().numpy(), ref, rtol=2 ** -7, atol=1e-2)
    np.testing.assert_allclose(w.grad.float().numpy(), np.ones((4, 5)).T @ x.float().numpy(), rtol=2 ** -7, atol=1e-2)


@pytest.mark.parametrize("dt", ["bfloat16", "float16"])
def test_layers_in_low_precision_match_float32_within_its_precision(dt):
    """The layers that broke in bfloat16 (einsum, BatchNorm via einsum, clamp promoted to float32) and the other
    common ones: same dtype out, values close to the float32 computation, gradients in the same dtype."""
    dt = sd.bfloat16 if dt == "bfloat16" else sd.float16
    tol = 2 ** -6 if dt == sd.bfloat16 else 2 ** -9
    sd.manual_seed(0)
    x4 = sd.randn(2, 3, 6, 6)
    x2 = sd.randn(5, 4)
    layers = {"conv": (sd.nn.Conv2d(3, 4, 3), x4), "bn": (sd.nn.BatchNorm2d(3), x4), "ln": (sd.nn.LayerNorm(6), x4),
              "lstm": None, "einsum": None,
              "clamp": None, "maxpool": None}
    import copy

    for name, spec in layers.items():
        if name == "einsum":
            f32 = lambda t: sd.einsum("ij,kj->ik", t, t)  # noqa: E731
            f_lo, inp = f32, x2
        elif name == "clamp":
            f32 = f_lo = lambda t: t.clamp(-0.5, 0.5)  # noqa: E731
            inp = x2
        elif name == "maxpool":
            f32 = f_lo = lambda t: F.max_pool2d(t, 2)  # noqa: E731
            inp = x4
        elif name == "lstm":
            m32 = sd.nn.LSTM(4, 3)
            mlo = copy.deepcopy(m32).to(dt)
            f32, f_lo, inp = (lambda t: m32(t.reshape(5, 1, 4))[0]), (lambda t: mlo(t.reshape(5, 1, 4))[0]), x2
        else:
            m32, inp = spec
            mlo = copy.deepcopy(m32).to(dt)
            f32, f_lo = m32, mlo
        xin = inp.type(dt).requires_grad_()
        y = f_lo(xin)
        assert y.dtype == dt, name
        ref = f32(xin.detach().float()).numpy()
        scale = np.abs(ref).max() + 1
        np.testing.assert_allclose(y.float().numpy(), ref, atol=8 * tol * scale, err_msg=name)
        y.float().sum().backward()
        assert xin.grad.dtype == dt, name


def test_bfloat16_model_trains_through_module_to():
    sd.manual_seed(0)
    m = sd.nn.Sequential(sd.nn.Linear(4, 8), sd.nn.Tanh(), sd.nn.Linear(8, 1)).bfloat16()
    assert all(p.dtype == sd.bfloat16 for p in m.parameters())
    assert all(p.dtype == np.float16 for p in sd.nn.Linear(2, 2).half().parameters())
    x = sd.randn(64, 4).bfloat16()
    y = (x.float() @ sd.tensor([[1.0], [-2.0], [0.5], [0.0]])).bfloat16()
    opt = sd.optim.SGD(m.parameters(), lr=0.05)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = F.mse_loss(m(x), y)
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss.float().item())
    assert float(loss.float().item()) < 0.3 * first


# --- autocast --------------------------------------------------------------------------------------------------
def _torch_decisions(torch, device_type, dtype):
    tdt = {"bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    x = torch.randn(4, 3)
    lin = torch.nn.Linear(3, 5)
    conv = torch.nn.Conv2d(1, 2, 3)
    with torch.autocast("cpu", dtype=tdt):
        y = lin(x)
        return {"linear": y.dtype, "matmul": (x @ x.T).dtype, "conv": conv(torch.randn(1, 1, 5, 5)).dtype,
                "softmax": torch.softmax(y, -1).dtype, "log_softmax": torch.log_softmax(y, -1).dtype,
                "ce": torch.nn.functional.cross_entropy(y, torch.tensor([0, 1, 2, 0])).dtype,
                "mse": torch.nn.functional.mse_loss(y, y.detach()).dtype,
                "f64_matmul": (x.double() @ x.double().T).dtype}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_autocast_dtype_decisions_match_torch(dtype):
    torch = pytest.importorskip("torch")
    want = {k: str(v).replace("torch.", "") for k, v in _torch_decisions(torch, "cpu", dtype).items()}
    dt = sd.bfloat16 if dtype == "bfloat16" else sd.float16
    sd.manual_seed(0)
    x = sd.randn(4, 3)
    lin = sd.nn.Linear(3, 5)
    conv = sd.nn.Conv2d(1, 2, 3)
    with sd.amp.autocast(DEV, dtype=dt):
        assert sd.amp.is_autocast_enabled(DEV)
        y = lin(x)
        got = {"linear": y.dtype, "matmul": (x @ x.transpose(0, 1)).dtype, "conv": conv(sd.randn(1, 1, 5, 5)).dtype,
               "softmax": F.softmax(y, -1).dtype, "log_softmax": F.log_softmax(y, -1).dtype,
               "ce": F.cross_entropy(y, sd.tensor([0, 1, 2, 0])).dtype, "mse": F.mse_loss(y, y.detach()).dtype,
               "f64_matmul": (x.double() @ x.double().transpose(0, 1)).dtype}
        with sd.amp.autocast(DEV, enabled=False):
            assert lin(x).dtype == np.float32
    assert not sd.amp.is_autocast_enabled()
    assert lin(x).dtype == np.float32
    if DEV == "cuda":  # torch's CUDA autocast list runs softmax/log_softmax in float32 (its CPU list does not)
        want["softmax"] = want["log_softmax"] = "float32"
    assert {k: str(v) for k, v in got.items()} == want


def test_autocast_defaults_and_bad_arguments():
    assert sd.amp.autocast("cpu").fast_dtype == sd.bfloat16
    assert sd.amp.autocast("cuda").fast_dtype == np.float16
    with pytest.raises(ValueError, match="autocast: dtype"):
        sd.amp.autocast("cpu", dtype=sd.float64)
    with pytest.raises(ValueError, match="device_type"):
        sd.amp.autocast("tpu")


def test_autocast_keeps_float32_master_weights_and_matches_fp32_training():
    """Mixed-precision training: weights stay float32, their gradients are float32, and a few steps track the
    float32 run closely (bfloat16 activations)."""
    sd.manual_seed(0)
    x = sd.randn(32, 6)
    y = sd.tensor(np.arange(32) % 3)
    models = []
    for amp in (False, True):
        sd.manual_seed(1)
        m = sd.nn.Sequential(sd.nn.Linear(6, 16), sd.nn.ReLU(), sd.nn.Linear(16, 3))
        opt = sd.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(5):
            opt.zero_grad()
            with sd.amp.autocast(DEV, enabled=amp):
                loss = F.cross_entropy(m(x), y)
            assert loss.dtype == np.float32
            loss.backward()
            assert all(p.grad.dtype == np.float32 and p.dtype == np.float32 for p in m.parameters())
            opt.step()
        models.append(m)
    diff = 0.0
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), atol=0.02)
        diff = max(diff, float(np.abs(p.numpy() - q.numpy()).max()))
    assert diff > 1e-6  # the autocast run really computed in low precision


def test_autocast_as_decorator():
    lin = sd.nn.Linear(3, 2)

    @sd.amp.autocast(DEV, dtype=sd.float16)
    def f(x):
        return lin(x)

    assert f(sd.randn(2, 3)).dtype == np.float16
    assert lin(sd.randn(2, 3)).dtype == np.float32


# --- GradScaler -------------------------------------------------------------------------------------------------
def _run_scaler(make, pattern, kw):
    """Run a scaler over a pattern of finite (True) / inf (False) steps; the parameter's value after each step
    and the scale after each update."""
    out = []
    s, p, opt = make(kw)
    for finite in pattern:
        out.append(s(finite))
    return out


def test_grad_scaler_matches_torch_on_finite_and_inf_steps():
    torch = pytest.importorskip("torch")
    kw = dict(init_scale=8.0, growth_factor=2.0, backoff_factor=0.25, growth_interval=3)
    pattern = [True, True, True, True, False, True, True, True, False, False, True]

    tp = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    topt = torch.optim.SGD([tp], lr=0.1)
    tsc = torch.amp.GradScaler("cpu", **kw)
    sp = sd.nn.Parameter(sd.tensor([1.0, -2.0]))
    sopt = sd.optim.SGD([sp], lr=0.1)
    ssc = sd.amp.GradScaler(DEV, **kw)
    for finite in pattern:
        topt.zero_grad()
        sopt.zero_grad()
        c = 1.0 if finite else float("inf")
        (tsc.scale((tp * tp).sum() * c)).backward()
        (ssc.scale((sp * sp).sum() * c)).backward()
        np.testing.assert_allclose(sp.grad.numpy(), tp.grad.numpy())  # the scaled gradients agree
        tsc.step(topt)
        ssc.step(sopt)
        tsc.update()
        ssc.update()
        assert ssc.get_scale() == tsc.get_scale()
        np.testing.assert_allclose(sp.detach().numpy(), tp.detach().numpy(), rtol=1e-6)
    sd_state = ssc.state_dict()
    t_state = tsc.state_dict()
    assert sd_state["scale"] == t_state["scale"] and sd_state["_growth_tracker"] == t_state["_growth_tracker"]


def test_grad_scaler_unscale_then_clip_and_errors():
    p = sd.nn.Parameter(sd.tensor([3.0]))
    opt = sd.optim.SGD([p], lr=1.0)
    sc = sd.amp.GradScaler(DEV, init_scale=4.0)
    sc.scale((p * p).sum()).backward()
    np.testing.assert_allclose(p.grad.numpy(), [24.0])
    sc.unscale_(opt)
    np.testing.assert_allclose(p.grad.numpy(), [6.0])  # true gradient, ready for clipping
    with pytest.raises(RuntimeError, match="already been called"):
        sc.unscale_(opt)
    sc.step(opt)
    np.testing.assert_allclose(p.detach().numpy(), [-3.0])
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        sc.step(opt)
    sc.update()
    assert sc.get_scale() == 4.0
    off = sd.amp.GradScaler(enabled=False)
    t = sd.tensor(2.0)
    assert off.scale(t) is t and off.get_scale() == 1.0
    with pytest.raises(ValueError, match="backoff_factor"):
        sd.amp.GradScaler(backoff_factor=1.5)


def test_float16_training_with_loss_scaling_recovers_underflowing_gradients():
    """A gradient of 1e-8 flowing through a float16 matmul underflows to 0; scaling the loss by 2^16 keeps it,
    and unscaling the float32 master gradient restores its value."""
    grads = []
    for scale in (None, 2.0 ** 16):
        master = sd.nn.Parameter(sd.tensor([[1.0]]))
        opt = sd.optim.SGD([master], lr=1.0)
        with sd.amp.autocast(DEV, dtype=sd.float16):
            y = sd.matmul(master, sd.tensor([[1.0]]))  # runs in float16
        assert y.dtype == np.float16
        loss = (y.float() * 1e-8).sum()
        if scale is None:
            loss.backward()
        else:
            sc = sd.amp.GradScaler(DEV, init_scale=scale)
            sc.scale(loss).backward()
            sc.unscale_(opt)
        assert master.grad.dtype == np.float32
        grads.append(float(master.grad.numpy()[0, 0]))
    assert grads[0] == 0.0
    np.testing.assert_allclose(grads[1], 1e-8, rtol=1e-2)


def test_low_precision_example_quick_figures():
    """examples/efficient/low_precision.py --quick: mixed precision (bf16 autocast; fp16 autocast + GradScaler)
    trains as well as float32, and int8 / bf16 / 16-bit DFP weights lose < 1 point while saving memory."""
    res = load_example("low_precision").main(["--quick"])
    base = res["acc_fp32"]
    assert base > 0.9
    assert res["acc_amp_bf16"] >= base - 0.02 and res["acc_amp_fp16_gradscaler"] >= base - 0.02
    for k in ("acc_bf16_weights", "acc_fp16_weights", "acc_int8_per_channel", "acc_dfp16", "acc_dfp8"):
        assert res[k] >= base - 0.01, k
    assert res["amp_bf16_max_weight_diff"] > 1e-4 and res["amp_fp16_max_weight_diff"] > 1e-4  # really low precision
    assert res["weights_bf16_bytes"] == res["weights_fp32_bytes"] // 2
    assert res["weights_int8_bytes"] < 0.3 * res["weights_fp32_bytes"]


def test_fit_casts_float32_data_to_a_bfloat16_model():
    """``fit`` casts float data to the model's dtype once, bfloat16 included (its NumPy kind is 'V', not 'f')."""
    from shendu.train.loop import model_dtype

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = sd.nn.Sequential(sd.nn.Linear(4, 2)).bfloat16()
    assert model_dtype(model) == sd.bfloat16
    model.compile(optimizer="sgd", lr=0.5)
    hist = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.isfinite(hist.history["loss"][-1]) and hist.history["loss"][-1] < hist.history["loss"][0]
