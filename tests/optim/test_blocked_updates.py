"""Cache-blocked optimizer updates (shendu.optim._blocked): running Adam/AdamW/Adadelta/RMSprop/SGD block by block
gives the same bits as one whole-array pass, matches the textbook reference (Algorithm 8.7), and leaves device and
non-contiguous parameters on the whole-array path."""
import importlib

import numpy as np
import pytest

import shendu as sd
from shendu import optim
from shendu.reference.adam import adam_step

B = importlib.import_module("shendu.optim._blocked")

MAKERS = {
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adam_amsgrad_wd": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    "adadelta": lambda ps: optim.Adadelta(ps),
    "adadelta_lr_wd": lambda ps: optim.Adadelta(ps, lr=0.5, weight_decay=0.1, maximize=True),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "rmsprop_centered_nesterov": lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.9, nesterov=True),
    "rmsprop_inside_momentum": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, eps_inside_sqrt=True),
}


def _trajectory(make, steps=4, shape=(7, 13), dtype=np.float32, device=None):
    rng = np.random.default_rng(0)
    p = sd.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True, device=device)
    opt = make([p])
    for _ in range(steps):
        p.grad = sd.tensor(rng.standard_normal(shape).astype(dtype), device=device)
        opt.step()
    return p.cpu().numpy(), opt


@pytest.mark.parametrize("name", list(MAKERS))
def test_blocks_give_the_same_bits_as_one_pass(name, monkeypatch):
    whole, _ = _trajectory(MAKERS[name], device="cpu")
    monkeypatch.setattr(B, "BLOCK", 10)  # 91 elements: 9 full blocks and a partial one
    blocked, opt = _trajectory(MAKERS[name], device="cpu")
    np.testing.assert_array_equal(blocked, whole)
    st = next(iter(opt.state.values()))
    scale = importlib.import_module("shendu.optim.adam").BLOCK_SCALE if name.startswith("adam") else 1
    assert 10 * scale < 91 and st["_blk"].shape[1] == 10 * scale  # the scratch is one block, not the whole parameter


def test_blocked_adam_matches_algorithm_8_7(monkeypatch):
    monkeypatch.setattr(B, "BLOCK", 8)
    rng = np.random.default_rng(1)
    theta = rng.standard_normal((5, 9))
    p = sd.tensor(theta.copy(), requires_grad=True, device="cpu")
    opt = optim.Adam([p], lr=0.05, amsgrad=True)
    state = {}
    for _ in range(5):
        g = rng.standard_normal(theta.shape)
        p.grad = sd.tensor(g, device="cpu")
        opt.step()
        theta = adam_step(theta, g, state, lr=0.05, amsgrad=True)
    np.testing.assert_allclose(p.numpy(), theta, rtol=1e-12, atol=1e-12)


def test_blocks_views_write_through_and_fallback(monkeypatch):
    d = np.zeros((5, 5))
    (a, g, t), = B.blocks({}, (d, np.ones((5, 5))), 1)  # 25 < BLOCK: the arrays themselves
    assert a is d and t.shape == d.shape
    monkeypatch.setattr(B, "BLOCK", 4)
    pieces = B.blocks({}, (d, np.arange(25.0).reshape(5, 5)), 1)
    assert [len(p[0]) for p in pieces] == [4] * 6 + [1] and all(p[0].base is d for p in pieces)
    for dd, g, _t in pieces:
        dd += g
    np.testing.assert_array_equal(d.ravel(), np.arange(25.0))  # the slices write through to d
    nc = np.zeros((800, 400))[:, ::2]  # non-contiguous (> BLOCK): the arrays themselves, whole-size scratch
    (a, t), = B.blocks({}, (nc,), 1)
    assert a is nc and t.shape == nc.shape


@pytest.mark.parametrize("name", ["adam", "adadelta"])
def test_device_parameters_match_cpu(name, device):
    ref, _ = _trajectory(MAKERS[name], dtype=np.float64, device="cpu")
    got, _ = _trajectory(MAKERS[name], dtype=np.float64, device=device)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("blas", [True, False])
def test_plain_sgd_step_is_p_minus_lr_g_in_place(dtype, blas, monkeypatch):
    """The plain SGD step writes p - lr g into the parameter's own array: as one BLAS axpy on the host (SciPy), or
    without SciPy block by block, bit for bit NumPy's p + (-lr) g."""
    sgd = importlib.import_module("shendu.optim.sgd")
    if blas and sgd._blas is None:
        pytest.skip("SciPy not installed")
    if not blas:
        monkeypatch.setattr(sgd, "_blas", None)
    monkeypatch.setattr(B, "BLOCK", 16)
    rng = np.random.default_rng(2)
    base = rng.standard_normal((6, 10)).astype(dtype)
    grad = rng.standard_normal((6, 10)).astype(dtype)
    p = sd.tensor(base.copy(), requires_grad=True, device="cpu")
    arr = p._data
    p.grad = sd.tensor(grad, device="cpu")
    opt = optim.SGD([p], lr=0.3)
    want = base
    for _ in range(2):
        opt.step()
        assert p._data is arr  # in place
        want = want + dtype(-0.3) * grad
        if blas:  # BLAS may fuse the multiply-add (one rounding instead of two)
            np.testing.assert_allclose(arr, want, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(arr, want)
    st = opt.state[p]
    assert ("_blk" in st) == (not blas)  # the blocked path keeps a one-block scratch, axpy none


@pytest.mark.parametrize("name", ["adam", "adam_amsgrad_wd", "adamw"])
def test_adam_axpy_passes_match_numpy_passes(name, monkeypatch):
    """Adam's m, v and parameter updates as BLAS axpys (host, SciPy) follow the NumPy two-pass form to float32
    rounding, and match the textbook reference; without SciPy the NumPy passes run."""
    sgd = importlib.import_module("shendu.optim.sgd")
    if sgd._blas is None:
        pytest.skip("SciPy not installed")
    calls = []
    real = sgd._blas.saxpy
    monkeypatch.setattr(sgd._blas, "saxpy", lambda *a, **k: calls.append(1) or real(*a, **k))
    with_blas, _ = _trajectory(MAKERS[name], steps=6, shape=(40, 30), device="cpu")
    assert len(calls) == 6 * 3  # three axpys per step (one piece: 1200 elements)
    monkeypatch.setattr(sgd, "_blas", None)
    numpy_only, _ = _trajectory(MAKERS[name], steps=6, shape=(40, 30), device="cpu")
    np.testing.assert_allclose(with_blas, numpy_only, rtol=1e-6, atol=1e-7)
