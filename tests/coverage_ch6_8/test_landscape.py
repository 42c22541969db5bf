"""Loss-landscape slices along random / interpolation / PCA directions (8.12, Fig 8.2)."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn, optim
from shendu.optim import landscape as LS


def _problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    sd.manual_seed(0)
    model = nn.Linear(3, 1)
    Xt, yt = sd.tensor(X), sd.tensor(y)
    return model, (lambda: nn.functional.mse_loss(model(Xt), yt)), X, y


def test_slice_of_a_quadratic_loss_is_the_exact_parabola_and_params_are_restored():
    model, loss_fn, X, y = _problem()
    before = LS.snapshot(model)
    d = LS.random_direction(model, seed=1)
    alphas = np.linspace(-1, 1, 9)
    got = LS.loss_along(model, loss_fn, d, alphas)
    np.testing.assert_array_equal(LS.snapshot(model), before)
    Xb = np.hstack([X, np.ones((64, 1))])  # parameters are (weight (1, 3), bias (1,)) in that order
    for a, val in zip(alphas, got):
        th = before + a * d
        assert val == pytest.approx(np.mean((Xb @ th - y[:, 0]) ** 2), rel=1e-4)
    # filter normalisation: the weight row of d has the norm of the weight row
    np.testing.assert_allclose(np.linalg.norm(d[:3]), np.linalg.norm(before[:3]), rtol=1e-10)


def test_interpolation_from_init_to_solution_and_pca_of_the_trajectory():
    model, loss_fn, _, _ = _problem()
    opt = optim.SGD(model.parameters(), lr=0.05)
    traj = [LS.snapshot(model)]
    for _ in range(60):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        traj.append(LS.snapshot(model))
    d = LS.interpolation_direction(traj[0], traj[-1])
    line = LS.loss_along(model, loss_fn, d, np.linspace(0, 1, 11), origin=traj[0])
    assert line[0] > 10 * line[-1] and np.all(np.diff(line) < 0)  # monotone along the straight path (Fig 8.2)
    U, frac = LS.pca_directions(traj, k=2)
    np.testing.assert_allclose(U @ U.T, np.eye(2), atol=1e-10)
    assert frac[0] > 0.5 and frac.sum() > 0.9  # gradient descent on a quadratic: nearly planar path
    surf = LS.loss_surface(model, loss_fn, U[0], U[1], np.linspace(-1, 1, 5), np.linspace(-1, 1, 4))
    assert surf.shape == (5, 4) and np.all(np.isfinite(surf))
    with pytest.raises(ValueError, match="loss_surface"):
        LS.loss_along(model, loss_fn, np.ones(2), [0.0])
