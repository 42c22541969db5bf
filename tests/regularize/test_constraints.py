"""Constraints by reprojection (textbook 7.2): max-norm (W7.4, torch.renorm oracle), L2/L1 balls (L1 vs an
independent bisection and optimality), NonNeg; optimizer step hooks; fit/compile wiring; the L1 sparsity example."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim
from shendu import regularize as R
from shendu.backend import to_host
from shendu.train import fit

ROOT = Path(__file__).resolve().parents[2]


def test_w7_4_max_norm_projection_is_w_k_over_norm_per_unit():
    # each output unit's incoming weights (a row of Linear's (out, in) weight, a column of the book's W)
    w = sd.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    out = R.MaxNorm(1.0)(w)
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]], rtol=1e-6)  # w*k/||w||; inside: same
    c0, c1 = 9.09 ** 0.5, 16.16 ** 0.5  # dim=1: the units are the columns of this array
    np.testing.assert_allclose(R.MaxNorm(1.0, dim=1)(w).numpy(), [[3 / c0, 4 / c1], [0.3 / c0, 0.4 / c1], [0, 0]],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="dim"):
        R.MaxNorm(1.0, dim=2)(w)


def test_max_norm_matches_torch_renorm_on_linear_and_conv_weights():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape in [(5, 7), (4, 3, 3, 3)]:
        w = rng.standard_normal(shape).astype(np.float32)
        got = R.MaxNorm(2.0)(sd.tensor(w))
        assert got.dtype == sd.float32
        want = torch.renorm(torch.tensor(w), p=2, dim=0, maxnorm=2.0).numpy()
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
        norms = np.sqrt((got.numpy().reshape(shape[0], -1) ** 2).sum(1))
        assert np.all(norms <= 2.0 + 1e-5)


def test_l2_ball_scales_outside_points_and_keeps_inside_ones():
    v = np.array([3.0, 4.0, 0.0], dtype=np.float32)
    np.testing.assert_allclose(R.L2Ball(1.0)(sd.tensor(v)).numpy(), v / 5.0, rtol=1e-6)
    np.testing.assert_allclose(R.L2Ball(10.0)(sd.tensor(v)).numpy(), v)
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    for p in m.parameters():
        p._data[...] = 1.0
    R.L2Ball(1.0, joint=True).apply(m)  # the two weights as one vector: 12 + 8 ones -> norm 1
    total = sum((p.numpy() ** 2).sum() for n, p in m.named_parameters() if n.endswith("weight"))
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)
    np.testing.assert_allclose(m[0].bias.numpy(), 1.0)  # biases are not constrained by default
    with pytest.raises(ValueError, match="radius"):
        R.L2Ball(0.0)


def _l1_projection_by_bisection(v, z):
    """An independent reference: theta solving sum(max(|v| - theta, 0)) = z by bisection."""
    if np.abs(v).sum() <= z:
        return v.copy()
    lo, hi = 0.0, np.abs(v).max()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.maximum(np.abs(v) - mid, 0).sum() > z:
            lo = mid
        else:
            hi = mid
    return np.sign(v) * np.maximum(np.abs(v) - 0.5 * (lo + hi), 0)


def test_l1_ball_projection_matches_bisection_and_is_the_nearest_point():
    rng = np.random.default_rng(1)
    for n, z in [(1, 0.5), (7, 1.0), (50, 3.0), (200, 0.1)]:
        v = rng.standard_normal(n) * 2
        p = R.project_l1_ball(sd.tensor(v), z).numpy()
        np.testing.assert_allclose(p, _l1_projection_by_bisection(v, z), atol=1e-9)
        np.testing.assert_allclose(np.abs(p).sum(), min(z, np.abs(v).sum()), rtol=1e-9)
        # nearest point: no point of the ball (random ones, scaled onto it) is closer to v
        u = rng.standard_normal((500, n))
        u = u * (z / np.abs(u).sum(1, keepdims=True)) * rng.uniform(0, 1, (500, 1))
        assert np.linalg.norm(v - p) <= np.linalg.norm(v - u, axis=1).min() + 1e-12
    inside = np.array([0.1, -0.2, 0.3])
    np.testing.assert_allclose(R.project_l1_ball(sd.tensor(inside), 1.0).numpy(), inside)
    w = sd.tensor(rng.standard_normal((4, 5)).astype(np.float32))  # any shape, as one vector; float32 stays
    pw = R.L1Ball(2.0)(w)
    assert pw.dtype == sd.float32 and pw.shape == (4, 5)
    np.testing.assert_allclose(np.abs(pw.numpy()).sum(), 2.0, rtol=1e-5)


def test_l1_ball_joint_and_nonneg_on_a_model():
    m = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    R.L1Ball(1.5, joint=True).apply(m)
    ws = [m[0].weight.numpy(), m[2].weight.numpy()]
    np.testing.assert_allclose(sum(np.abs(a).sum() for a in ws), 1.5, rtol=1e-5)
    R.NonNeg(include="weight", exclude=()).apply(m)
    assert (m[0].weight.numpy() >= 0).all() and (m[2].weight.numpy() >= 0).all()
    assert (m[0].bias.numpy() < 0).any()  # untouched


def test_step_hooks_fire_in_order_once_per_step_and_remove():
    p = nn.Parameter(sd.tensor([1.0, 2.0]))
    opt = optim.AdamW([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt, args, kwargs)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", p.numpy().copy())))
    p.grad = sd.tensor([1.0, 1.0])
    before = p.numpy().copy()
    opt.step()
    assert [c[0] for c in calls] == ["pre", "post"]
    assert calls[0][1:] == (True, (), {})
    assert np.all(calls[1][1] < before)  # the post hook sees the updated parameter
    h1.remove()
    opt.step()
    assert [c[0] for c in calls] == ["pre", "post", "post"]
    h2.remove()
    h2.remove()  # removing twice is harmless
    opt.step()
    assert len(calls) == 3
    with opt.register_step_post_hook(lambda o, a, k: calls.append("ctx")):
        opt.step()
    opt.step()
    assert calls[3:] == ["ctx"]


def test_hooks_fire_once_when_a_subclass_step_calls_super():
    class Doubled(optim.SGD):
        def step(self, closure=None):
            super().step(closure)
            return super().step(closure)

    p = nn.Parameter(sd.tensor([1.0]))
    opt = Doubled([p], lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    p.grad = sd.tensor([1.0])
    opt.step()
    assert calls == ["pre", "post"]
    np.testing.assert_allclose(p.numpy(), [0.8], rtol=1e-6)


def test_pre_hook_can_replace_the_step_arguments():
    p = nn.Parameter(sd.tensor([1.0]))
    opt = optim.SGD([p], lr=0.5)
    seen = []

    def closure():
        seen.append("closure")
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    opt.register_step_pre_hook(lambda o, args, kwargs: ((), {"closure": closure}))
    p.grad = sd.tensor([100.0])
    loss = opt.step()
    assert seen == ["closure"] and abs(loss.item() - 1.0) < 1e-6
    np.testing.assert_allclose(p.numpy(), [0.0], atol=1e-7)  # 1 - 0.5 * 2 * 1
    opt.register_step_pre_hook(lambda o, a, k: 42)
    with pytest.raises(RuntimeError, match="pre hook"):
        opt.step()
    with pytest.raises(TypeError, match="callable"):
        opt.register_step_post_hook(3)


def test_attached_max_norm_holds_at_a_high_learning_rate():
    sd.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = optim.SGD(m.parameters(), lr=2.0)  # high lr: the book's case for reprojection (line 765)
    h = R.MaxNorm(0.5).attach(opt, m)
    rng = np.random.default_rng(0)
    x = sd.tensor(rng.standard_normal((32, 8)).astype(np.float32))
    y = sd.tensor(rng.standard_normal((32, 1)).astype(np.float32))
    for _ in range(20):
        opt.zero_grad()
        nn.functional.mse_loss(m(x), y).backward()
        opt.step()
        for lin in (m[0], m[2]):
            assert np.sqrt((lin.weight.numpy() ** 2).sum(1)).max() <= 0.5 + 1e-5
    assert np.isfinite(m[0].weight.numpy()).all()
    h.remove()


def _regression(n=64, d=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    w = np.zeros(d, dtype=np.float32)
    w[:3] = [2.0, -1.5, 1.0]
    y = (x @ w + 0.05 * rng.standard_normal(n)).astype(np.float32)[:, None]
    return x, y


def test_fit_with_regularizers_and_constraints():
    x, y = _regression()
    sd.manual_seed(0)
    m = nn.Sequential(nn.Linear(10, 1))
    # lr = 0, one full batch: the reported training loss is J + penalty (as Keras); val_loss is J alone
    pen = R.L2(0.3)
    j = float(nn.functional.mse_loss(m(sd.tensor(x)), sd.tensor(y)).item())
    pv = float(pen(m).item())
    h = fit(m, (x, y), loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.0), epochs=1, batch_size=64,
               regularizers=[pen], val_data=(x, y), verbose=0)
    np.testing.assert_allclose(h.history["loss"][0], j + pv, rtol=1e-5)
    np.testing.assert_allclose(h.history["val_loss"][0], j, rtol=1e-5)
    # training: the max-norm constraint holds after every step, so at the end; the L1 proximal step zeroes weights
    h = fit(m, (x, y), loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.05), epochs=30, batch_size=16,
               constraints=[R.ProximalL1(0.2), R.MaxNorm(2.5)], verbose=0)
    w = m[0].weight.numpy()[0]
    assert np.linalg.norm(w) <= 2.5 + 1e-5
    assert (w[3:] == 0).mean() >= 0.7 and (np.abs(w[:3]) > 0.5).all()
    assert h.history["loss"][-1] < 0.6 * h.history["loss"][0]
    with pytest.raises(TypeError, match="regularizers"):
        fit(m, (x, y), loss="mse", regularizers=[3], verbose=0)


def test_compile_takes_regularizers_and_constraints():
    x, y = _regression(seed=1)
    sd.manual_seed(0)
    m = nn.Sequential(nn.Linear(10, 8), nn.Tanh(), nn.Linear(8, 1))
    m.compile(optimizer="sgd", loss="mse", lr=0.05, regularizers=[R.L2(1e-3)], constraints=[R.NonNeg()])
    m.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert (m[0].weight.numpy() >= 0).all() and (m[2].weight.numpy() >= 0).all()
    assert (m[0].bias.numpy() < 0).any() or (m[2].bias.numpy() < 0).any()  # biases unconstrained


def test_l1_sparsity_example_quick(tmp_path):
    out = tmp_path / "l1.png"
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "regularization" / "l1_sparsity.py"), "--quick",
                        "--out", str(out)], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith("alpha")]
    zeros = [float(row[3]) for row in rows]  # "alpha <a> zeros <fraction> ..."
    assert len(zeros) >= 3 and zeros == sorted(zeros) and zeros[0] == 0.0 and zeros[-1] > 0.5
    gaps = [float(row[5]) for row in rows if len(row) > 5]  # vs sklearn's Lasso, where it is installed
    assert all(g < 1e-4 for g in gaps)
    subgradient = [line for line in r.stdout.splitlines() if "subgradient" in line][0]
    assert "exact zeros   0/" in subgradient  # the subgradient never lands on 0 (line 734)


def test_projections_stay_on_the_device(device):
    w = sd.tensor(np.array([[3.0, 4.0], [1.0, 0.0]], dtype=np.float32), device=device)
    for c in (R.MaxNorm(1.0), R.L2Ball(1.0), R.L1Ball(1.0), R.NonNeg()):
        out = c(w)
        assert out.device == w.device
        assert np.isfinite(to_host(out._data)).all()
