"""11.24: automatic freeze-thaw scheduling (extrapolate each learning curve, thaw the most promising trial)."""
import numpy as np
import pytest

from shendu.tune.freeze_thaw import FreezeThawScheduler, extrapolate_curve

# (asymptote a, amplitude b, rate c): A starts fast but ends high, B starts slowly and ends lowest
CURVES = {"A": (1.0, 2.0, 0.8), "B": (0.3, 3.0, 0.08), "C": (1.5, 1.0, 0.3), "D": (0.8, 2.5, 0.5)}


def make_step(noise=0.005, seed=0):
    rng = np.random.default_rng(seed)

    def step(name, state, n):
        t0 = 0 if state is None else state
        a, b, c = CURVES[name]
        ts = np.arange(t0 + 1, t0 + n + 1)
        return t0 + n, list(a + b * np.exp(-c * ts) + rng.normal(0, noise, n))
    return step


def test_extrapolate_curve_recovers_the_asymptote():
    t = np.arange(1, 16)
    a, sd, c = extrapolate_curve(0.4 + 2.0 * np.exp(-0.2 * t))
    assert a == pytest.approx(0.4, abs=0.02) and c == pytest.approx(0.2, rel=0.1) and sd < 1e-3
    assert extrapolate_curve([1.0, 0.5]) == (0.5, np.inf, 0.0)


def test_freeze_thaw_thaws_the_slow_starter_with_the_best_asymptote():
    step = make_step()
    sched = FreezeThawScheduler(step, list(CURVES), budget=100, warmup=4, chunk=2, max_steps=80)
    # after the warm-up, B looks worst-but-one by its current loss: pruning on the current loss would drop it
    warm = {k: CURVES[k][0] + CURVES[k][1] * np.exp(-CURVES[k][2] * 4) for k in CURVES}
    assert warm["B"] > warm["A"] and warm["B"] > warm["D"]
    best, state = sched.run()
    steps = dict(zip(CURVES, sched.steps_per_trial()))
    assert best == "B" and state == steps["B"]
    assert steps["B"] > 0.6 * sched.used and sum(steps.values()) == sched.used == 100
    assert all(steps[k] < 20 for k in "ACD")          # the others stay frozen after a little extra
    assert min(sched.curves[sched.best_index]) < 0.8   # better than any other trial could ever reach
    # greedy on the current loss (thaw the trial with the lowest last loss) with the same budget ends worse
    greedy = {k: make_step(seed=1)(k, None, 4) for k in CURVES}
    used = 16
    while used < 100:
        k = min(greedy, key=lambda name: greedy[name][1][-1])
        s, losses = greedy[k]
        s2, more = make_step(seed=2)(k, s, 2)
        greedy[k] = (s2, losses + more)
        used += 2
    assert min(min(v[1]) for v in greedy.values()) > min(sched.curves[sched.best_index]) + 0.2


def test_freeze_thaw_keeps_frozen_state_and_checks_arguments():
    calls = []

    def step(cfg, state, n):
        calls.append((cfg, state, n))
        return (state or 0) + n, [1.0 / ((state or 0) + i + 1) + cfg for i in range(n)]

    sched = FreezeThawScheduler(step, [0.0, 0.5], budget=12, warmup=3, chunk=3)
    sched.run()
    resumed = [c for c in calls if c[1] is not None]
    assert resumed and all(c[1] == sum(n for cfg, _, n in calls[:i] if cfg == c[0])
                           for i, c in enumerate(calls) if c[1] is not None)   # resumed from its own state
    with pytest.raises(ValueError, match="budget"):
        FreezeThawScheduler(step, [0.0, 0.5], budget=4, warmup=3)
    with pytest.raises(ValueError, match="configs"):
        FreezeThawScheduler(step, [], budget=4)
