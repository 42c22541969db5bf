"""Newton(ensure_descent=False): the pure Newton step -H^{-1} g (textbook 8.2.3), attracted to saddle points."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim


def _saddle(p):
    return p[0] * p[0] - p[1] * p[1]          # H = diag(2, -2): a saddle at 0


def test_undamped_newton_jumps_to_the_saddle_and_the_default_does_not():
    p = nn.Parameter(sd.tensor(np.array([1.0, 0.5])))
    opt = optim.Newton([p], ensure_descent=False)
    opt.step(lambda: _saddle(p))
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0], atol=1e-12)   # x - H^{-1} g = 0 exactly
    q = nn.Parameter(sd.tensor(np.array([1.0, 0.5])))
    opt = optim.Newton([q])                                                   # regularized: always descends
    opt.step(lambda: _saddle(q))
    assert float(_saddle(q).item()) < float(_saddle(sd.tensor(np.array([1.0, 0.5]))).item())
    assert abs(q.detach().numpy()[1]) > 0.5                                   # moves away from the saddle
    assert opt.state[q]["damping_used"] > 2.0                                 # damping raised past |lambda_min|


def test_undamped_newton_matches_the_closed_form_step_and_checks_the_solver():
    A = np.array([[3.0, 1.0], [1.0, -2.0]])                                  # indefinite quadratic 0.5 x^T A x + b^T x
    b = np.array([1.0, -1.0])
    x0 = np.array([0.3, 0.7])
    p = nn.Parameter(sd.tensor(x0.copy()))
    At, bt = sd.tensor(A), sd.tensor(b)
    optim.Newton([p], ensure_descent=False, damping=0.5).step(lambda: 0.5 * (p * (At @ p)).sum() + (bt * p).sum())
    expected = x0 - np.linalg.solve(A + 0.5 * np.eye(2), A @ x0 + b)
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-10)
    with pytest.raises(ValueError, match="Newton: ensure_descent=False needs solver='direct'"):
        optim.Newton([p], ensure_descent=False, solver="cg")
