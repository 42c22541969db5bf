"""Schedulers: lr sequences and 50-step SGD trajectories equal torch's; textbook schedules equal their formulas."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu import optim
from shendu.optim import lr_scheduler as S

from ._oracle import assert_same

torch = pytest.importorskip("torch")
TS = torch.optim.lr_scheduler

CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.95)),
    ("CosineAnnealingLR", dict(T_max=20, eta_min=0.001)),
    ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=10)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.05, total_iters=30)),
    ("ConstantLR", dict(factor=0.25, total_iters=6)),
    ("PolynomialLR", dict(total_iters=30, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda t: 1.0 / (1 + 0.1 * t))),
    ("MultiplicativeLR", dict(lr_lambda=lambda t: 0.97)),
]


def _lrs(make_opt, make_sched, n=60):
    p = make_opt()
    s = make_sched(p)
    out = [p.param_groups[0]["lr"]]
    for _ in range(n):
        p.step()
        s.step()
        out.append(p.param_groups[0]["lr"])
        assert s.get_last_lr()[0] == out[-1]
    return np.array(out)


@pytest.mark.parametrize("name,kw", CASES, ids=[c[0] for c in CASES])
def test_lr_sequence_matches_torch(name, kw):
    a = _lrs(lambda: optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=0.1), lambda o: getattr(S, name)(o, **kw))
    b = _lrs(lambda: torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.1), lambda o: getattr(TS, name)(o, **kw))
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    assert np.ptp(a) > 0


@pytest.mark.parametrize("name,kw", CASES[:4], ids=[c[0] for c in CASES[:4]])
def test_trajectory_with_scheduler_matches_torch(name, kw):
    assert_same(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                sched=(lambda o: getattr(S, name)(o, **kw), lambda o: getattr(TS, name)(o, **kw)))


def test_sequential_warmup_then_cosine_matches_torch():
    def mk(mod, opt):
        w = mod.LinearLR(opt, start_factor=0.1, total_iters=5)
        c = mod.CosineAnnealingLR(opt, T_max=30)
        return mod.SequentialLR(opt, [w, c], milestones=[5])

    a = _lrs(lambda: optim.Adam([sd.nn.Parameter(sd.ones(2))], lr=0.1), lambda o: mk(S, o), 40)
    b = _lrs(lambda: torch.optim.Adam([torch.ones(2, requires_grad=True)], lr=0.1), lambda o: mk(TS, o), 40)
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_chained_matches_torch():
    def mk(mod, opt):
        return mod.ChainedScheduler([mod.ExponentialLR(opt, 0.9), mod.StepLR(opt, 4, 0.5)])

    a = _lrs(lambda: optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=0.1), lambda o: mk(S, o), 20)
    b = _lrs(lambda: torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.1), lambda o: mk(TS, o), 20)
    np.testing.assert_allclose(a, b, rtol=1e-10)


def test_reduce_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    for kw in (dict(patience=2, factor=0.5, cooldown=1), dict(mode="max", patience=1, threshold_mode="abs",
                                                             threshold=0.01, min_lr=0.02)):
        o1 = optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=0.1)
        o2 = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.1)
        s1, s2 = S.ReduceLROnPlateau(o1, **kw), TS.ReduceLROnPlateau(o2, **kw)
        a, b = [], []
        for m in metrics:
            s1.step(m)
            s2.step(m)
            a.append(o1.param_groups[0]["lr"])
            b.append(o2.param_groups[0]["lr"])
        np.testing.assert_allclose(a, b, rtol=1e-12)
        assert min(a) < 0.1


def test_textbook_linear_decay():
    opt = optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=0.5)
    s = S.LinearDecayLR(opt, tau=10, final_factor=0.01)
    got = [opt.param_groups[0]["lr"]]
    for _ in range(14):
        s.step()
        got.append(opt.param_groups[0]["lr"])
    want = [(1 - min(k / 10, 1)) * 0.5 + min(k / 10, 1) * 0.005 for k in range(15)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[-1] == got[-4] == pytest.approx(0.005)


def test_textbook_exponential_inverse_time_and_warmup():
    for make, f in [(lambda o: S.ExponentialDecayLR(o, k=0.1), lambda t: math.exp(-0.1 * t)),
                    (lambda o: S.InverseTimeLR(o, tau=4), lambda t: 4 / max(t, 4)),
                    (lambda o: S.LinearWarmup(o, warmup_steps=5, start_factor=0.2),
                     lambda t: 0.2 + 0.8 * min(t, 5) / 5)]:
        opt = optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=0.3)
        s = make(opt)
        for t in range(1, 12):
            s.step()
            assert opt.param_groups[0]["lr"] == pytest.approx(0.3 * f(t), rel=1e-12)


def test_step_with_epoch_uses_closed_form_and_state_dict_round_trip():
    opt = optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=1.0)
    s = S.StepLR(opt, step_size=3, gamma=0.5)
    s.step(7)
    assert opt.param_groups[0]["lr"] == 0.25
    st = s.state_dict()
    assert "optimizer" not in st
    opt2 = optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=1.0)
    s2 = S.StepLR(opt2, step_size=3, gamma=0.5)
    s2.load_state_dict(st)
    opt2.param_groups[0]["lr"] = 0.25
    s.step()
    s2.step()
    s.step()
    s2.step()
    assert s.last_epoch == s2.last_epoch == 9 and opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"] == 0.125


def test_step_annealing_divides_by_factor_every_n():
    opt = optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=0.8)
    s = S.StepAnnealingLR(opt, every=3, factor=2.0)
    got = []
    for _ in range(10):
        got.append(opt.param_groups[0]["lr"])
        s.step()
    np.testing.assert_allclose(got, [0.8 / 2 ** (t // 3) for t in range(10)], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda o: S.MultiStepLR(o, milestones=[3, 6], gamma=0.5),
    lambda o: S.ReduceLROnPlateau(o, patience=1),
    lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=3), S.CosineAnnealingLR(o, 10)], milestones=[3]),
    lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    lambda o: S.LinearDecayLR(o, tau=8),
], ids=["multistep", "plateau", "sequential", "warm-restarts", "linear-decay"])
def test_scheduler_state_survives_save_and_load(make, tmp_path):
    def fresh():
        o = optim.SGD([sd.nn.Parameter(sd.ones(2))], lr=0.1)
        return o, make(o)

    def advance(o, s, n, k0):
        out = []
        for k in range(n):
            o.step()
            s.step(1.0 / (1 + (k0 + k) % 3)) if isinstance(s, S.ReduceLROnPlateau) else s.step()
            out.append(o.param_groups[0]["lr"])
        return out

    o, s = fresh()
    advance(o, s, 5, 0)
    sd.save({"s": s.state_dict(), "o": o.state_dict()}, tmp_path / "s.safetensors")
    ref = advance(o, s, 8, 5)
    ck = sd.load(tmp_path / "s.safetensors")
    o2, s2 = fresh()
    o2.load_state_dict(ck["o"])
    s2.load_state_dict(ck["s"])
    np.testing.assert_allclose(advance(o2, s2, 8, 5), ref, rtol=1e-12)
