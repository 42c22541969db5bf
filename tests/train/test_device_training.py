"""Training on a device (textbook 12.1.2): optimizers, clipping, fit/evaluate/predict, checkpoints and the CLI give
the same numbers on `device` as on the CPU (float64, same seed), and their state stays on the parameters' device.

Runs on the CPU, the strict stand-in for a GPU (``shendu.testing.strict_device``, as "cuda") and a real GPU if
one is present (the ``device`` fixture of tests/conftest.py). On the stand-in, the optimizer steps and clipping
are also checked to read nothing back to the host (no per-step device synchronization).
"""
import contextlib
import subprocess
import sys

import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim
from shendu.backend import device_of, to_host
from shendu.train import ModelCheckpoint, Trainer, evaluate, fit, predict


def _on(t, device):
    return str(device_of(t._data if hasattr(t, "_data") else t)).startswith(device)


@contextlib.contextmanager
def _no_host_sync():
    """On the strict stand-in: fail on any device-to-host read (float/int/bool/item of a device array, to_host)."""
    from shendu.backend import cuda_backend
    from shendu.testing.strict_device import StrictArray

    def refuse(*a, **k):
        raise AssertionError("a device-to-host read (host sync) in a per-step path")

    names = ("__float__", "__int__", "__bool__", "item", "tolist")
    saved = {n: StrictArray.__dict__.get(n) for n in names}
    be = cuda_backend(required=False)
    saved_to_host = be.to_host if be is not None else None
    try:
        for n in names:
            setattr(StrictArray, n, refuse)
        if be is not None:
            be.to_host = refuse
        yield
    finally:
        for n, f in saved.items():
            if f is None:
                delattr(StrictArray, n)
            else:
                setattr(StrictArray, n, f)
        if be is not None:
            be.to_host = saved_to_host


def _maybe_no_sync(device):
    """The no-sync guard where the device is the strict stand-in (a real GPU cannot be checked this way)."""
    if device == "cpu":
        return contextlib.nullcontext()
    from shendu.backend import cuda_backend
    from shendu.testing.strict_device import StrictBackend

    return _no_host_sync() if isinstance(cuda_backend(), StrictBackend) else contextlib.nullcontext()


# --------------------------------------------------------------------------- first-order optimizers
_OPTS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-momentum-wd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd-nesterov-max": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, maximize=True),
    "sgd-textbook": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, momentum_form="textbook", weight_decay=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam-amsgrad-wd": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "rmsprop-centered-nesterov": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, nesterov=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    "adadelta": lambda ps: optim.Adadelta(ps, lr=1.0, weight_decay=0.01),
    "nadam": lambda ps: optim.NAdam(ps, lr=0.01),
    "adamax": lambda ps: optim.Adamax(ps, lr=0.01),
}


def _grad_of(values, k):
    """A deterministic, parameter-dependent gradient computed on the host (no device ops involved)."""
    return [np.sin(v * (k + 1)) + 0.1 * v for v in values]


def _run_first_order(name, device, steps=6, interrupt_at=None, tmp_path=None):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ps = [nn.Parameter(sd.tensor(v, dtype=sd.float64, device=device)) for v in init]
    opt = _OPTS[name](ps)
    for k in range(steps):
        if k == interrupt_at:  # save, rebuild the optimizer, load (from host arrays) and go on
            sd.save(opt.state_dict(), tmp_path / "opt.safetensors")
            opt = _OPTS[name](ps)
            opt.load_state_dict(sd.load(tmp_path / "opt.safetensors"))
            for st in opt.state.values():
                for key, v in st.items():
                    if hasattr(v, "shape") and not isinstance(v, (int, float)):
                        assert _on(v, device), (name, key)
        for p, g in zip(ps, _grad_of([to_host(p._data) for p in ps], k)):
            p.grad = sd.tensor(g, dtype=sd.float64, device=device)
        with _maybe_no_sync(device):
            opt.step()
    return ps, opt


@pytest.mark.parametrize("name", sorted(_OPTS))
def test_first_order_steps_equal_on_cpu_and_device_and_state_stays_there(device, name):
    ref, _ = _run_first_order(name, "cpu")
    ps, opt = _run_first_order(name, device)
    for p, r in zip(ps, ref):
        assert _on(p, device)
        np.testing.assert_allclose(to_host(p._data), r.numpy(), rtol=1e-12, atol=1e-14)
    arrays = [v for st in opt.state.values() for k, v in st.items() if hasattr(v, "shape") and hasattr(v, "dtype")]
    assert bool(arrays) == (name != "sgd"), name  # plain SGD keeps no state (as PyTorch), the others do
    assert all(_on(v, device) for v in arrays)


@pytest.mark.parametrize("name", ["sgd-momentum-wd", "adam-amsgrad-wd", "rmsprop-centered-nesterov", "adadelta"])
def test_state_dict_round_trip_through_a_file_resumes_on_the_device(device, name, tmp_path):
    ref, _ = _run_first_order(name, "cpu")
    ps, opt = _run_first_order(name, device, interrupt_at=3, tmp_path=tmp_path)
    for p, r in zip(ps, ref):
        np.testing.assert_allclose(to_host(p._data), r.numpy(), rtol=1e-12, atol=1e-14)
    saved = opt.state_dict()  # copies on the device
    assert all(_on(v, device) for st in saved["state"].values() for v in st.values() if hasattr(v, "dtype")
               and hasattr(v, "shape") and not isinstance(v, (int, float, np.generic)))


# --------------------------------------------------------------------------- second-order methods
def _rosenbrock(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


@pytest.mark.parametrize("make", [
    lambda ps: optim.LBFGS(ps, lr=1, max_iter=30, history_size=10, line_search_fn="strong_wolfe"),
    lambda ps: optim.LBFGS(ps, lr=0.5, max_iter=10),
    lambda ps: optim.BFGS(ps, max_iter=30),
    lambda ps: optim.NonlinearCG(ps, max_iter=30),
], ids=["lbfgs-wolfe", "lbfgs", "bfgs", "cg"])
def test_quasi_newton_and_cg_equal_on_cpu_and_device(device, make, tmp_path):
    def run(dev, interrupt=False):
        x = nn.Parameter(sd.tensor([-1.2, 1.0, -0.5, 0.8], dtype=sd.float64, device=dev))
        opt = make([x])

        def closure():
            opt.zero_grad()
            loss = _rosenbrock(x)
            loss.backward()
            return loss

        losses = []
        for k in range(3):
            if interrupt and k == 2:
                sd.save(opt.state_dict(), tmp_path / "q.safetensors")
                opt = make([x])
                opt.load_state_dict(sd.load(tmp_path / "q.safetensors"))
            losses.append(float(opt.step(closure)))
        return x, opt, losses

    xr, _, lr_ = run("cpu")
    x, opt, losses = run(device, interrupt=True)
    assert _on(x, device)
    np.testing.assert_allclose(losses, lr_, rtol=1e-10)
    np.testing.assert_allclose(to_host(x._data), xr.numpy(), rtol=1e-9, atol=1e-12)
    st = opt.state[x]
    for k, v in st.items():
        if isinstance(v, list):
            assert all(_on(e, device) for e in v if hasattr(e, "shape")), k
        elif hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, np.generic):
            assert _on(v, device), k


@pytest.mark.parametrize("solver", ["direct", "cg"])
def test_newton_equal_on_cpu_and_device(device, solver):
    def run(dev):
        x = nn.Parameter(sd.tensor([1.5, -0.5, 0.25], dtype=sd.float64, device=dev))
        opt = optim.Newton([x], solver=solver, damping=1e-3)
        for _ in range(3):
            opt.step(lambda: ((x - 0.3) ** 4).sum() + (x * x).sum())
        return x

    xr, x = run("cpu"), run(device)
    assert _on(x, device) and _on(x.grad, device)
    np.testing.assert_allclose(to_host(x._data), xr.numpy(), rtol=1e-10, atol=1e-13)


def test_conjugate_gradient_solves_on_the_device(device):
    rng = np.random.default_rng(0)
    m = rng.standard_normal((6, 6))
    A, b = m @ m.T + 6 * np.eye(6), rng.standard_normal(6)
    Ad, bd = sd.tensor(A, device=device)._data, sd.tensor(b, device=device)._data
    x, _ = optim.conjugate_gradient(Ad, bd)
    assert _on(x, device)
    np.testing.assert_allclose(to_host(x), np.linalg.solve(A, b), rtol=1e-8)


# --------------------------------------------------------------------------- clipping
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
def test_clip_grad_norm_on_device_returns_a_device_norm_without_syncing(device, norm_type):
    rng = np.random.default_rng(0)
    gs = [rng.standard_normal((3, 4)), rng.standard_normal(5)]

    def clipped(dev, max_norm):
        ps = [nn.Parameter(sd.zeros(*g.shape, dtype=sd.float64, device=dev)) for g in gs]
        for p, g in zip(ps, gs):
            p.grad = sd.tensor(g, device=dev)
        with _maybe_no_sync(dev):
            total = optim.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        return total, ps

    for max_norm in (0.5, 1e3):  # clipped, and left as it is
        tr, pr = clipped("cpu", max_norm)
        total, ps = clipped(device, max_norm)
        assert _on(total, device) and total.shape == ()
        assert float(total) == pytest.approx(float(tr), rel=1e-12)
        for p, q in zip(ps, pr):
            assert _on(p.grad, device)
            np.testing.assert_allclose(to_host(p.grad._data), q.grad.numpy(), rtol=1e-12)
    ps = [nn.Parameter(sd.zeros(2, dtype=sd.float64, device=device))]
    ps[0].grad = sd.tensor([3.0, 4.0], dtype=sd.float64, device=device)
    optim.clip_grad_value_(ps, 3.5)
    np.testing.assert_array_equal(to_host(ps[0].grad._data), [3.0, 3.5])


def test_clip_grad_norm_error_if_nonfinite_on_device(device):
    p = nn.Parameter(sd.zeros(2, dtype=sd.float64, device=device))
    p.grad = sd.tensor([np.inf, 1.0], dtype=sd.float64, device=device)
    with pytest.raises(RuntimeError, match="total norm"):
        optim.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


# --------------------------------------------------------------------------- fit / evaluate / predict
def _data(n=96, d=6, k=3):
    g = np.random.default_rng(0)
    x = g.standard_normal((n, d))
    y = (x[:, :k].argmax(1) + (x[:, -1] > 1.0)) % k
    return x, y.astype(np.int64)


class _Seen(nn.Module):
    """An MLP that records the device of every input batch it is called with."""

    def __init__(self, d=6, h=16, k=3, dropout=0.0):
        super().__init__()
        drop = [nn.Dropout(dropout)] if dropout else []
        self.net = nn.Sequential(nn.Linear(d, h, dtype=sd.float64), nn.Tanh(), *drop, nn.Linear(h, k, dtype=sd.float64))
        self.seen = []

    def forward(self, x):
        self.seen.append(str(x.device))
        return self.net(x)


def _fit(dev, **kw):
    x, y = _data()
    sd.manual_seed(0)
    model = _Seen()
    model.to(dev)  # after the seeded init: the same initial values on every device
    opt = optim.Adam(model.parameters(), lr=0.01)
    h = fit(model, (x[:64], y[:64]), loss="cross_entropy", optimizer=opt, epochs=4, batch_size=16,
            val_data=(x[64:], y[64:]), metrics=["accuracy"], verbose=0, **kw)
    return model, opt, h


@pytest.mark.parametrize("clip", [None, 0.5])
def test_fit_on_device_matches_cpu_and_moves_batches(device, clip):
    ref, _, hr = _fit("cpu", clip_grad_norm=clip)
    model, opt, h = _fit(device, clip_grad_norm=clip)
    assert set(model.seen) == {str(sd.backend.resolve(device))}  # host batches were moved to the model's device
    for k in hr.history:
        np.testing.assert_allclose(h.history[k], hr.history[k], rtol=1e-10, err_msg=k)
    assert all(isinstance(v, float) for vals in h.history.values() for v in vals)
    for (k, p), (_, q) in zip(model.named_parameters(), ref.named_parameters()):
        assert _on(p, device), k
        np.testing.assert_allclose(to_host(p._data), q.numpy(), rtol=1e-10, atol=1e-13, err_msg=k)
    assert all(_on(v, device) for st in opt.state.values() for v in st.values() if hasattr(v, "dtype")
               and hasattr(v, "shape") and not isinstance(v, np.generic))
    x, y = _data()
    res, rres = (evaluate(m, (x[64:], y[64:]), loss="cross_entropy", metrics=["accuracy", "f1"]) for m in (model, ref))
    assert res == pytest.approx(rres, rel=1e-10)
    out = predict(model, x[64:], batch_size=10)
    assert type(out) is np.ndarray  # predict returns a host array, as on the CPU
    np.testing.assert_allclose(out, predict(ref, x[64:], batch_size=10), rtol=1e-10)


def test_fit_accepts_tensors_already_on_the_device(device):
    x, y = _data()
    sd.manual_seed(0)
    model = _Seen().to(device)
    h = fit(model, (sd.tensor(x, device=device), sd.tensor(y, device=device)), loss="cross_entropy",
            optimizer="sgd", lr=0.1, epochs=2, batch_size=32, verbose=0)
    assert len(h) == 2 and set(model.seen) == {str(sd.backend.resolve(device))}


@pytest.mark.parametrize("dropout", [False, True])
def test_resume_on_device_equals_uninterrupted(device, tmp_path, dropout):
    x, y = _data()
    if dropout and not hasattr(sd.backend.get_generator(device), "get_state") and device != "cpu":
        pytest.skip("this device's generator cannot report its state (CuPy): dropout draws differ after a resume")

    def run(out, resume_from=None):
        sd.manual_seed(0)
        model = _Seen(dropout=0.3 if dropout else 0.0).to(device)  # masks from the device's generator
        opt = optim.Adam(model.parameters(), lr=0.01)
        t = Trainer(model, loss="cross_entropy", optimizer=opt, verbose=0,
                    callbacks=[ModelCheckpoint(str(out / "ckpt-{epoch}.safetensors"))])
        t.fit((x, y), epochs=4, batch_size=16, resume_from=resume_from)
        return model, opt

    full, _ = run(tmp_path / "a")
    resumed, opt = run(tmp_path / "b", resume_from=tmp_path / "a" / "ckpt-2.safetensors")
    for (k, p), (_, q) in zip(resumed.named_parameters(), full.named_parameters()):
        np.testing.assert_array_equal(to_host(p._data), to_host(q._data), err_msg=k)
    assert all(_on(v, device) for st in opt.state.values() for v in st.values() if hasattr(v, "dtype")
               and hasattr(v, "shape") and not isinstance(v, np.generic))


# --------------------------------------------------------------------------- checkpoints
def test_save_device_tensors_and_load_with_map_location(device, tmp_path):
    sd.manual_seed(0)
    model = _Seen().to(device)
    tree = {"model": model.state_dict(), "raw": sd.tensor([1.0, 2.0], device=device)._data, "n": 3}
    sd.save(tree, tmp_path / "c.safetensors")
    host = sd.load(tmp_path / "c.safetensors")  # default: the CPU, as PyTorch
    assert all(str(t.device) == "cpu" for t in host["model"].values())
    assert type(host["raw"]) is np.ndarray and host["n"] == 3
    back = sd.load(tmp_path / "c.safetensors", map_location=device)
    for k, t in model.state_dict().items():
        assert _on(back["model"][k], device), k
        np.testing.assert_array_equal(to_host(back["model"][k]._data), to_host(t._data))
    again = sd.load(tmp_path / "c.safetensors", map_location=sd.device(device))
    assert all(_on(t, device) for t in again["model"].values())
    fresh = _Seen()
    fresh.load_state_dict(host["model"])
    np.testing.assert_array_equal(fresh.net[0].weight.numpy(), to_host(model.net[0].weight._data))


# --------------------------------------------------------------------------- the CLI
def test_cli_train_on_device_in_process(device, tmp_path, capsys):
    from shendu.cli import main

    if not hasattr(nn, "Linear"):
        pytest.skip("needs nn.Linear")
    rc = main(["train", "xor", "--epochs", "3", "--device", device, "--out", str(tmp_path), "--verbose", "0"])
    assert rc == 0, capsys.readouterr().err
    assert "xor: test" in capsys.readouterr().out
    state = sd.load(tmp_path / "checkpoint.safetensors")
    assert all(str(t.device) == "cpu" for t in state["model"].values())  # the checkpoint holds host copies
    from shendu.recipes import run

    res = run("xor", epochs=2, out=tmp_path / "r", device=device, verbose=0, print_fn=lambda *a: None)
    assert all(_on(p, device) for p in res["model"].parameters())


@pytest.mark.skipif(sd.cuda.is_available(), reason="a GPU (or the stand-in) is available here")
def test_cli_device_cuda_without_a_gpu_is_a_clear_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "shendu", "train", "xor", "--epochs", "1", "--device", "cuda",
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "CUDA device requested but not available" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "checkpoint.safetensors").exists()
    from shendu.recipes import run

    with pytest.raises(RuntimeError, match="CUDA device requested but not available"):
        run("xor", epochs=1, out=tmp_path / "r", device="cuda", verbose=0)
    with pytest.raises(RuntimeError, match="CUDA device requested but not available"):
        sd.load(tmp_path / "x.safetensors", map_location="cuda")


# --------------------------------------------------------------------------- data and metrics stay on the host
def test_datasets_and_metrics_take_device_tensors_and_work_on_the_host(device):
    x, y = _data(n=10)
    xd, yd = sd.tensor(x, device=device), sd.tensor(y, device=device)
    ds = sd.data.TensorDataset(xd, yd)  # data sets hold host arrays: the loop moves batches
    assert all(type(a) is np.ndarray for a in ds.arrays)
    np.testing.assert_array_equal(ds.arrays[0], x)
    batch = next(iter(sd.data.DataLoader(ds, batch_size=4)))
    assert all(str(b.device) == "cpu" for b in batch)
    scores = sd.tensor(np.eye(3)[y] + 0.1, device=device)
    assert sd.metrics.accuracy(yd, scores) == 1.0
    assert sd.metrics.top_k_accuracy(yd, scores, k=1) == 1.0
    assert sd.metrics.f1_score(yd, yd, average="macro") == 1.0
