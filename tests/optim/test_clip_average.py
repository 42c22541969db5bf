"""Gradient clipping and Polyak averaging, against their formulas (and torch where it has them)."""
import numpy as np
import pytest

import shendu as sd
from shendu import optim


def _params(grads):
    ps = []
    for g in grads:
        p = sd.nn.Parameter(sd.zeros(*np.shape(g), dtype=sd.float64))
        p.grad = sd.tensor(np.array(g, dtype=np.float64))
        ps.append(p)
    return ps


def test_clip_grad_norm_scales_to_max_norm_and_returns_norm():
    ps = _params([[3.0, 0.0], [[4.0]]])
    total = optim.clip_grad_norm_(ps, max_norm=1.0)
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [3 / (5 + 1e-6), 0.0])
    np.testing.assert_allclose(ps[1].grad.numpy(), [[4 / (5 + 1e-6)]])
    ps = _params([[0.3, 0.4]])
    optim.clip_grad_norm_(ps, max_norm=1.0)  # below the threshold: untouched
    np.testing.assert_array_equal(ps[0].grad.numpy(), [0.3, 0.4])


@pytest.mark.parametrize("norm_type", [1.0, 3.0, float("inf")])
def test_clip_grad_norm_other_norms_match_torch(norm_type):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    gs = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ps = _params(gs)
    ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in gs]
    for t, g in zip(ts, gs):
        t.grad = torch.tensor(g)
    a = optim.clip_grad_norm_(ps, 0.5, norm_type=norm_type)
    b = torch.nn.utils.clip_grad_norm_(ts, 0.5, norm_type=norm_type)
    assert float(a) == pytest.approx(float(b), rel=1e-12)
    for p, t in zip(ps, ts):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_nonfinite_and_missing_grads():
    ps = _params([[np.inf, 1.0]])
    with pytest.raises(RuntimeError, match="total norm"):
        optim.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    q = sd.nn.Parameter(sd.ones(2))
    assert float(optim.clip_grad_norm_([q], 1.0)) == 0.0


def test_clip_grad_value():
    ps = _params([[-3.0, 0.2, 7.0]])
    optim.clip_grad_value_(ps[0], 0.5)
    np.testing.assert_array_equal(ps[0].grad.numpy(), [-0.5, 0.2, 0.5])
    with pytest.raises(ValueError, match="clip_value"):
        optim.clip_grad_value_(ps, -1)


class _Lin(sd.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = sd.nn.Parameter(sd.tensor([1.0, 2.0], dtype=sd.float64))
        self.register_buffer("stat", sd.tensor([0.0], dtype=sd.float64))

    def forward(self, x):
        return x * self.w


def test_arithmetic_average_of_iterates():
    m = _Lin()
    avg = optim.AveragedModel(m)
    seq = [np.array([1.0, 2.0]), np.array([3.0, -2.0]), np.array([5.0, 9.0])]
    for k, v in enumerate(seq):
        m.w.data[...] = v
        m.stat._data[...] = k
        avg.update_parameters(m)
        np.testing.assert_allclose(avg.module.w.numpy(), np.mean(seq[:k + 1], axis=0), rtol=1e-12)
    assert int(avg.n_averaged.item()) == 3
    np.testing.assert_array_equal(avg.module.stat.numpy(), [2.0])  # buffers copied, not averaged
    np.testing.assert_allclose(avg(sd.tensor([1.0, 1.0], dtype=sd.float64)).numpy(), [3.0, 3.0])


def test_oscillating_iterates_average_to_the_center():
    # textbook 8.7.3: iterates that jump across a valley average to its bottom
    m = _Lin()
    avg = optim.AveragedModel(m)
    for k in range(100):
        m.w.data[...] = [2.0 + (-1) ** k * 0.5, -1.0 - (-1) ** k]
        avg.update_parameters(m)
    np.testing.assert_allclose(avg.module.w.numpy(), [2.0, -1.0], atol=1e-12)


def test_ema_and_swap_in():
    m = _Lin()
    ema = optim.EMA(m, decay=0.9)
    ref = None
    rng = np.random.default_rng(0)
    for _ in range(10):
        v = rng.standard_normal(2)
        m.w.data[...] = v
        ema.update_parameters(m)
        ref = v.copy() if ref is None else 0.9 * ref + 0.1 * v
    np.testing.assert_allclose(ema.module.w.numpy(), ref, rtol=1e-12)
    live = m.w.numpy().copy()
    with ema.swap_in(m):
        np.testing.assert_allclose(m.w.numpy(), ref, rtol=1e-12)
    np.testing.assert_array_equal(m.w.numpy(), live)


def test_ema_matches_torch_averaged_model():
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    m = _Lin()
    tm = torch.nn.Linear(2, 1, bias=False).double()
    ema = optim.AveragedModel(m, mode="ema", decay=0.8)
    tema = AveragedModel(tm, multi_avg_fn=get_ema_multi_avg_fn(0.8))
    rng = np.random.default_rng(1)
    for _ in range(6):
        v = rng.standard_normal(2)
        m.w.data[...] = v
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(v[None]))
        ema.update_parameters(m)
        tema.update_parameters(tm)
    np.testing.assert_allclose(ema.module.w.numpy(), tema.module.weight.detach().numpy()[0], rtol=1e-12)


def test_averaged_model_rejects_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        optim.AveragedModel(_Lin(), mode="median")
