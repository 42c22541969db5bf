"""Second-order and line-search methods: Newton, linear and nonlinear CG, BFGS, L-BFGS, coordinate descent
(Textbook 8.6-8.7.2 test vectors; Rosenbrock; torch's L-BFGS trajectory)."""
import numpy as np
import pytest

import shendu as sd
from shendu import optim
from shendu.backend import to_host

from ._oracle import run_pair


def rosen(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def _closure(opt, x, f):
    def c():
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss
    return c


def _start(n):
    x0 = np.tile([-1.2, 1.0], n // 2) if n % 2 == 0 else np.full(n, -0.5)
    return sd.nn.Parameter(sd.tensor(x0, dtype=sd.float64))


@pytest.mark.parametrize("n", [2, 10])
@pytest.mark.parametrize("make", [
    lambda p: optim.BFGS([p], max_iter=100, tolerance_grad=1e-12, tolerance_change=0),
    lambda p: optim.LBFGS([p], max_iter=100, history_size=10, line_search_fn="strong_wolfe", tolerance_grad=1e-12,
                          tolerance_change=0),
    lambda p: optim.NonlinearCG([p], beta="PR+", max_iter=200, tolerance_grad=1e-12, tolerance_change=0),
], ids=["bfgs", "lbfgs", "cg-pr+"])
def test_rosenbrock_minimized(make, n):
    x = _start(n)
    opt = make(x)
    c = _closure(opt, x, rosen)
    for _ in range(20):
        opt.step(c)
    np.testing.assert_allclose(x.numpy(), np.ones(n), atol=1e-6)
    assert np.all(np.isfinite(x.numpy()))


def test_fletcher_reeves_with_restarts_minimizes_rosenbrock():
    x = _start(2)
    opt = optim.NonlinearCG([x], beta="FR", restart=2, max_iter=500, tolerance_change=0)
    c = _closure(opt, x, rosen)
    for _ in range(10):
        opt.step(c)
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-5)


def test_lbfgs_matches_torch_trajectory():
    torch = pytest.importorskip("torch")
    for kw in (dict(lr=0.5, max_iter=5, history_size=4), dict(max_iter=4, line_search_fn="strong_wolfe")):
        a, b, *_ = run_pair(lambda p: optim.LBFGS(p, **kw), lambda p: torch.optim.LBFGS(p, **kw), steps=6,
                            closure=True)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
        assert np.abs(a[-1] - a[0]).max() > 1e-3


def test_newton_one_step_on_positive_definite_quadratic():
    rng = np.random.default_rng(0)
    B = rng.standard_normal((6, 6))
    A, b = B @ B.T + 6 * np.eye(6), rng.standard_normal(6)
    x = sd.nn.Parameter(sd.tensor(rng.standard_normal(6)))
    opt = optim.Newton([x])
    opt.step(lambda: 0.5 * (x * (sd.tensor(A) @ x)).sum() - (sd.tensor(b) * x).sum())
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, b), rtol=1e-10)


@pytest.mark.parametrize("solver", ["direct", "cg"])
def test_newton_textbook_vector_and_hessian(solver):
    a = 0.01
    x = sd.nn.Parameter(sd.tensor([1.0, 1.0], dtype=sd.float64))
    opt = optim.Newton([x], solver=solver)

    def f():
        return (x[0] - x[1]) ** 2 + a * (x * x).sum()

    if solver == "direct":
        _, gs = opt._grad_graph(f)
        np.testing.assert_allclose(to_host(opt.hessian(gs)), [[2 + 2 * a, -2], [-2, 2 + 2 * a]], rtol=1e-12)
    opt.step(f)
    np.testing.assert_allclose(x.numpy(), [0.0, 0.0], atol=1e-12)


def test_large_damping_step_is_gradient_over_alpha():
    x = sd.nn.Parameter(sd.tensor([0.3, -0.7], dtype=sd.float64))
    opt = optim.Newton([x], damping=1e6)
    x0 = x.numpy().copy()
    opt.step(lambda: rosen(x))
    g = x.grad.numpy()
    np.testing.assert_allclose(x.numpy() - x0, -g / 1e6, rtol=2e-3)


def test_newton_non_convex_start_descends_without_nan():
    x = sd.nn.Parameter(sd.tensor([0.0, 1.0], dtype=sd.float64))  # H = diag(-398, 200): indefinite
    opt = optim.Newton([x])
    f0 = float(rosen(x))
    opt.step(lambda: rosen(x))
    assert opt.state[x]["damping_used"] > 398
    assert np.all(np.isfinite(x.numpy())) and float(rosen(x)) < f0
    for _ in range(60):
        opt.step(lambda: rosen(x))
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("make", [lambda p: optim.BFGS([p]), lambda p: optim.LBFGS([p], line_search_fn="strong_wolfe"),
                                  lambda p: optim.NonlinearCG([p])], ids=["bfgs", "lbfgs", "cg"])
def test_quasi_newton_non_convex_start_no_nan(make):
    x = sd.nn.Parameter(sd.tensor([0.0, 1.0, -1.0, 2.0], dtype=sd.float64))
    opt = make(x)
    c = _closure(opt, x, rosen)
    f0 = float(rosen(x))
    opt.step(c)
    assert np.all(np.isfinite(x.numpy())) and float(rosen(x)) < f0


def test_linear_cg_converges_in_n_iterations():
    rng = np.random.default_rng(3)
    n = 12
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    A, b = Q @ np.diag(np.linspace(1, 20, n)) @ Q.T, rng.standard_normal(n)
    x, k = optim.conjugate_gradient(A, b, tol=1e-10, max_iter=10 * n)
    assert k <= n
    np.testing.assert_allclose(A @ x, b, atol=1e-8)
    x2, _ = optim.conjugate_gradient(lambda v: A @ v, b)  # matvec form (e.g. a Hessian-vector product)
    np.testing.assert_allclose(x2, x, atol=1e-8)
    with pytest.raises(ValueError, match="positive definite"):
        optim.conjugate_gradient(-A, b)


def test_nonlinear_cg_exact_line_search_textbook_vectors():
    A = np.array([[3.0, 1, 0], [1, 4, 1], [0, 1, 2]])
    b = np.array([1.0, 2, 3])
    x = sd.nn.Parameter(sd.zeros(3, dtype=sd.float64))
    opt = optim.NonlinearCG([x], beta="PR", line_search="exact", max_iter=1, restart=100)
    c = _closure(opt, x, lambda x: 0.5 * (x * (sd.tensor(A) @ x)).sum() - (sd.tensor(b) * x).sum())
    want = [[0.26415094, 0.52830189, 0.79245283], [0.18675722, 0.11714771, 1.45755518],
            [0.31578947, 0.05263158, 1.47368421]]
    for w in want:
        opt.step(c)
        np.testing.assert_allclose(x.numpy(), w, atol=1e-8)


def test_steepest_descent_exact_line_search_zigzag():
    # restart=1: every direction is -g; textbook Fig. 8.6 vectors on J = 0.5 x^T diag(1, 10) x from (10, 1)
    x = sd.nn.Parameter(sd.tensor([10.0, 1.0], dtype=sd.float64))
    opt = optim.NonlinearCG([x], line_search="exact", restart=1, max_iter=1)
    c = _closure(opt, x, lambda x: 0.5 * (x * sd.tensor([1.0, 10.0]) * x).sum())
    gs = []
    for w in [(8.1818, -0.8182), (6.6942, 0.6694), (5.4771, -0.5477), (4.4813, 0.4481)]:
        gs.append(x.numpy() * [1.0, 10.0])
        opt.step(c)
        np.testing.assert_allclose(x.numpy(), w, atol=1e-4)
    assert abs(gs[0] @ gs[1]) < 1e-9 * np.linalg.norm(gs[0]) * np.linalg.norm(gs[1]) * 1e6


def test_coordinate_descent_textbook_sweeps():
    a = 0.01
    x1 = sd.nn.Parameter(sd.tensor(1.0, dtype=sd.float64))
    x2 = sd.nn.Parameter(sd.tensor(1.0, dtype=sd.float64))
    cd = optim.BlockCoordinateDescent([x1, x2])
    f = lambda: (x1 - x2) ** 2 + a * (x1 * x1 + x2 * x2)  # noqa: E731
    for w in [(0.99009901, 0.98029605), (0.97059015, 0.96098034), (0.95146569, 0.94204524)]:
        cd.step(f)
        np.testing.assert_allclose([x1.item(), x2.item()], w, atol=1e-8)


def test_block_coordinate_descent_with_lbfgs_blocks_solves_least_squares():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 6)), rng.standard_normal(40)
    w1 = sd.nn.Parameter(sd.zeros(3, dtype=sd.float64))
    w2 = sd.nn.Parameter(sd.zeros(3, dtype=sd.float64))
    cd = optim.BlockCoordinateDescent([[w1], [w2]],
                                    lambda b: optim.LBFGS(b, line_search_fn="strong_wolfe", tolerance_change=0,
                                                          tolerance_grad=1e-12))

    def c():
        cd.zero_grad()
        loss = ((sd.tensor(X[:, :3]) @ w1 + sd.tensor(X[:, 3:]) @ w2 - sd.tensor(y)) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(60):
        cd.step(c)
    np.testing.assert_allclose(np.concatenate([w1.numpy(), w2.numpy()]), np.linalg.lstsq(X, y, rcond=None)[0],
                               atol=1e-6)


def test_lbfgs_state_dict_resume(tmp_path):
    x = _start(4)
    opt = optim.LBFGS([x], max_iter=3, history_size=5)
    c = _closure(opt, x, rosen)
    opt.step(c)
    sd.save({"o": opt.state_dict(), "x": x.numpy().copy()}, tmp_path / "l.safetensors")
    opt.step(c)
    ref = x.numpy().copy()
    ck = sd.load(tmp_path / "l.safetensors")
    y = sd.nn.Parameter(sd.tensor(np.array(ck["x"])))
    o2 = optim.LBFGS([y], max_iter=3, history_size=5)
    o2.load_state_dict(ck["o"])
    o2.step(_closure(o2, y, rosen))
    np.testing.assert_array_equal(y.numpy(), ref)


def test_newton_closure_contract_errors():
    x = sd.nn.Parameter(sd.tensor([0.5, 1.0], dtype=sd.float64))
    opt = optim.Newton([x])

    def calls_backward():
        loss = ((x - 1) ** 4).sum()
        loss.backward()
        return loss

    with pytest.raises(ValueError, match="freed the graph"):
        opt.step(calls_backward)
    with pytest.raises(ValueError, match="graph"):
        opt.step(lambda: ((x - 1) ** 4).sum().detach())
    with pytest.raises(ValueError, match="closure"):
        opt.step(None)


def test_coordinate_descent_over_elements_textbook_sweeps_and_least_squares():
    a = 0.01
    x = sd.nn.Parameter(sd.tensor([1.0, 1.0], dtype=sd.float64))
    cd = optim.CoordinateDescent([x])
    for w in [(0.99009901, 0.98029605), (0.97059015, 0.96098034), (0.95146569, 0.94204524)]:
        cd.step(lambda: (x[0] - x[1]) ** 2 + a * (x * x).sum())
        np.testing.assert_allclose(x.numpy(), w, atol=1e-8)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    w = sd.nn.Parameter(sd.zeros(4, dtype=sd.float64))
    cd = optim.CoordinateDescent([w])
    for _ in range(60):
        cd.step(lambda: ((sd.tensor(X) @ w - sd.tensor(y)) ** 2).sum())
    np.testing.assert_allclose(w.numpy(), np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-8)
