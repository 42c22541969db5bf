"""Optimizer._params_with_grad (the shared parameter loop), adam_moments_ and the shared linear-CG loop."""
import numpy as np
import pytest

import shendu as sd
from shendu.optim.adam import adam_moments_
from shendu.optim.cg import conjugate_gradient, linear_cg_iterations
from shendu.optim.newton import _newton_cg


def test_params_with_grad_skips_params_without_grad_and_bumps_versions(device):
    a = sd.nn.Parameter(sd.ones(3, device=device))
    b = sd.nn.Parameter(sd.ones(2, device=device))
    c = sd.nn.Parameter(sd.ones(1, device=device))
    opt = sd.optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    (a.sum() * 2 + c.sum()).backward()
    versions = [p._version for p in (a, b, c)]
    seen = []
    for group in opt.param_groups:
        for g, d, xp, st in opt._params_with_grad(group):
            seen.append((group["lr"], d.shape, sd.backend.to_host(g).tolist()))
            assert st is opt.state[[a, c][len(seen) - 1]] and st == {}
            assert xp is sd.backend.namespace_of(d)
    assert seen == [(0.1, (3,), [2.0, 2.0, 2.0]), (0.5, (1,), [1.0])]   # b has no gradient: skipped
    assert [p._version for p in (a, b, c)] == [versions[0] + 1, versions[1], versions[2] + 1]
    assert b not in opt.state


def test_version_bump_lets_autograd_see_the_update():
    w = sd.nn.Parameter(sd.ones(2))
    y = (w * w).sum()                     # saves w for backward
    opt = sd.optim.Adam([w], lr=0.1)
    (w.sum()).backward()
    opt.step()                            # w changed in place after y saved it
    with pytest.raises(RuntimeError):
        y.backward()


def test_adam_moments_match_the_textbook_formulas():
    rng = np.random.default_rng(0)
    g, m, v = rng.standard_normal((3, 5))
    m0, v0 = m.copy(), v.copy()
    adam_moments_(np, g, m, v, 0.9, 0.999, np.empty(5))
    assert np.allclose(m, 0.9 * m0 + 0.1 * g) and np.allclose(v, 0.999 * v0 + 0.001 * g * g)
    m1 = m.copy()
    adam_moments_(np, g, m, None, 0.5, 0.999, np.empty(5))  # first moment only (Adamax)
    assert np.allclose(m, 0.5 * m1 + 0.5 * g)


def test_linear_cg_loop_solves_spd_and_reports_negative_curvature():
    rng = np.random.default_rng(1)
    Q = rng.standard_normal((6, 6))
    A = Q @ Q.T + 6 * np.eye(6)
    b = rng.standard_normal(6)
    x, k = conjugate_gradient(A, b)
    assert k <= 6 and np.allclose(A @ x, b, atol=1e-8)
    H = np.diag([1.0, -1.0])
    x, k, curv = linear_cg_iterations(lambda v: H @ v, np.zeros(2), np.array([0.0, 1.0]), 1e-12, 10)
    assert curv == -1.0 and k == 0 and x.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="not positive definite"):
        conjugate_gradient(H, np.array([0.0, 1.0]))
    g = np.array([0.0, -1.0])
    assert _newton_cg(lambda v: H @ v, g, 10, 1e-10).tolist() == [0.0, 1.0]   # first step: -g
    d = _newton_cg(lambda v: np.diag([2.0, 4.0]) @ v, np.array([2.0, 4.0]), 10, 1e-12)
    assert np.allclose(d, [-1.0, -1.0])                                          # H d = -g
