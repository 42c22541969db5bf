"""sd.linalg: float64 gradcheck (and second derivatives), torch.linalg as oracle for forward and backward,
batched shapes, dtypes and errors. Runs on the strict device stand-in in the strict suite run."""
import numpy as np
import pytest

import shendu as sd
from shendu.autograd.gradcheck import gradcheck, gradgradcheck

LA = sd.linalg


def rnd(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def well(n, batch=(), seed=0):
    """A well-conditioned (non-symmetric) matrix: random plus n I."""
    return rnd(*batch, n, n, seed=seed) + n * np.eye(n)


def spd(n, batch=(), seed=0):
    x = rnd(*batch, n, n, seed=seed)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def T(a, grad=True):
    return sd.tensor(a, requires_grad=grad)


def sym(x):
    return x + x.mT


def eye_like(x):
    return sd.eye(x.shape[-1], dtype=x.dtype, device=x.device)


def sign_fixed(V, ref):
    """V with each column's sign set by ``ref``'s first row (eigen/singular vectors are defined up to sign)."""
    return V * sd.sign(ref[..., :1, :])


def svd_gauge_free(A):
    U, S, Vh = LA.svd(A, full_matrices=False)
    s = sd.sign(U[..., :1, :])
    return U * s, S, Vh * s.mT


# --- gradcheck (float64), first and second derivatives --------------------------------------------------
GRAD_CASES = {
    "solve_matrix": (lambda a, b: LA.solve(a, b), lambda: [well(4, seed=1), rnd(4, 3, seed=2)]),
    "solve_vector_batched": (lambda a, b: LA.solve(a, b), lambda: [well(3, (2,), seed=1), rnd(2, 3, seed=2)]),
    "solve_broadcast": (lambda a, b: LA.solve(a, b), lambda: [well(3, seed=1), rnd(2, 3, 2, seed=2)]),
    "solve_right": (lambda a, b: LA.solve(a, b, left=False), lambda: [well(3, seed=1), rnd(2, 3, seed=2)]),
    "inv": (LA.inv, lambda: [well(4, (2,), seed=3)]),
    "det": (LA.det, lambda: [well(3, (2,), seed=4)]),
    "slogdet": (lambda a: LA.slogdet(a).logabsdet, lambda: [rnd(2, 3, 3, seed=5)]),
    "cholesky": (lambda x: LA.cholesky(x @ x.mT + 3 * eye_like(x)), lambda: [rnd(2, 3, 3, seed=6)]),
    "cholesky_upper": (lambda x: LA.cholesky(x @ x.mT + 3 * eye_like(x), upper=True), lambda: [rnd(3, 3, seed=7)]),
    "qr_tall": (lambda a: tuple(LA.qr(a)), lambda: [rnd(2, 5, 3, seed=8)]),
    "qr_square": (lambda a: tuple(LA.qr(a)), lambda: [rnd(3, 3, seed=9)]),
    "qr_wide": (lambda a: tuple(LA.qr(a)), lambda: [rnd(3, 5, seed=10)]),
    "eigh": (
        lambda x: (LA.eigh(sym(x))[0], sign_fixed(LA.eigh(sym(x))[1], LA.eigh(sym(x))[1])),
        lambda: [rnd(2, 4, 4, seed=11)],
    ),
    "eigh_upper": (
        lambda x: tuple(LA.eigh(sym(x) * sd.tensor(1.0, dtype=x.dtype, device=x.device), UPLO="U")[:1]),
        lambda: [rnd(3, 3, seed=12)],
    ),
    "eigvalsh": (lambda x: LA.eigvalsh(sym(x)), lambda: [rnd(2, 4, 4, seed=13)]),
    "svd_tall": (svd_gauge_free, lambda: [rnd(2, 5, 3, seed=14)]),
    "svd_wide": (svd_gauge_free, lambda: [rnd(3, 5, seed=15)]),
    "svd_square": (svd_gauge_free, lambda: [rnd(4, 4, seed=16)]),
    "svdvals": (LA.svdvals, lambda: [rnd(2, 4, 3, seed=17)]),
    "pinv_tall": (LA.pinv, lambda: [rnd(2, 5, 3, seed=18)]),
    "pinv_wide": (LA.pinv, lambda: [rnd(3, 5, seed=19)]),
    "matrix_norm_nuc": (lambda a: LA.matrix_norm(a, "nuc"), lambda: [rnd(2, 4, 3, seed=20)]),
    "matrix_norm_2": (lambda a: LA.matrix_norm(a, 2), lambda: [rnd(4, 3, seed=21)]),
    "matrix_norm_1_inf": (
        lambda a: (LA.matrix_norm(a, 1), LA.matrix_norm(a, float("inf"))),
        lambda: [rnd(3, 4, seed=22)],
    ),
    "norm_fro_dims": (lambda a: LA.norm(a, dim=(0, 2)), lambda: [rnd(3, 2, 4, seed=23)]),
    "vector_norm_3": (lambda a: LA.vector_norm(a, 3, dim=-1), lambda: [rnd(3, 4, seed=24)]),
    "matrix_power": (lambda a: (LA.matrix_power(a, 3), LA.matrix_power(a, -2)), lambda: [well(3, seed=25)]),
    "cond": (lambda a: (LA.cond(a), LA.cond(a, "nuc")), lambda: [well(3, (2,), seed=26)]),
}
SECOND = ["solve_matrix", "inv", "det", "slogdet", "cholesky", "qr_tall", "qr_wide", "eigh", "eigvalsh", "svd_tall",
          "svd_wide", "svdvals", "pinv_tall", "pinv_wide"]


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradcheck(name):
    fn, make = GRAD_CASES[name]
    xs = [T(a) for a in make()]
    assert gradcheck(fn, xs, eps=1e-6, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", SECOND)
def test_gradgradcheck(name):
    fn, make = GRAD_CASES[name]
    xs = [T(a) for a in make()]
    assert gradgradcheck(fn, xs, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_gradcheck_catches_a_wrong_rule():
    """The checks above have teeth: a deliberately wrong eigenvector rule (E with the opposite sign) fails."""
    from shendu.ops import linalg_decomp as ld

    good = ld.Eigh.backward

    def bad(self, gl, gV):
        return -good(self, gl, gV) + 2 * good(self, gl, gV * 0)  # flips the eigenvector term only

    x = T(rnd(3, 3, seed=30))
    ld.Eigh.backward = bad
    try:
        with pytest.raises(AssertionError):
            gradcheck(lambda x: sign_fixed(LA.eigh(sym(x))[1], LA.eigh(sym(x))[1]), [x])
    finally:
        ld.Eigh.backward = good


# --- torch.linalg as the oracle: forward and backward ----------------------------------------------------
torch_cases = {
    # name: (shendu fn, torch fn, input makers)
    "solve": (lambda a, b: LA.solve(a, b), None, [lambda: well(3, (2,), seed=1), lambda: rnd(2, 3, 4, seed=2)]),
    "solve_vec": (lambda a, b: LA.solve(a, b), None, [lambda: well(3, (2,), seed=1), lambda: rnd(2, 3, seed=2)]),
    "inv": (LA.inv, None, [lambda: well(4, (2,), seed=3)]),
    "det": (LA.det, None, [lambda: well(3, (2,), seed=4)]),
    "slogdet": (lambda a: tuple(LA.slogdet(a)), None, [lambda: rnd(2, 3, 3, seed=5)]),
    "cholesky": (LA.cholesky, None, [lambda: spd(4, (2,), seed=6)]),
    "qr": (lambda a: tuple(LA.qr(a)), None, [lambda: rnd(2, 5, 3, seed=8)]),
    "qr_wide": (lambda a: tuple(LA.qr(a)), None, [lambda: rnd(3, 5, seed=10)]),
    "eigvalsh": (LA.eigvalsh, None, [lambda: spd(4, (2,), seed=13)]),
    "svdvals": (LA.svdvals, None, [lambda: rnd(2, 4, 3, seed=17)]),
    "pinv": (LA.pinv, None, [lambda: rnd(2, 3, 5, seed=19)]),
    "matrix_norm_nuc": (lambda a: LA.matrix_norm(a, "nuc"), None, [lambda: rnd(2, 4, 3, seed=20)]),
    "norm": (lambda a: LA.norm(a, float("inf"), dim=(-1, -2)), None, [lambda: rnd(2, 4, 3, seed=20)]),
}
TORCH_FN = {
    "solve": lambda L, a, b: L.solve(a, b),
    "solve_vec": lambda L, a, b: L.solve(a, b),
    "inv": lambda L, a: L.inv(a),
    "det": lambda L, a: L.det(a),
    "slogdet": lambda L, a: tuple(L.slogdet(a)),
    "cholesky": lambda L, a: L.cholesky(a),
    "qr": lambda L, a: tuple(L.qr(a)),
    "qr_wide": lambda L, a: tuple(L.qr(a)),
    "eigvalsh": lambda L, a: L.eigvalsh(a),
    "svdvals": lambda L, a: L.svdvals(a),
    "pinv": lambda L, a: L.pinv(a),
    "matrix_norm_nuc": lambda L, a: L.matrix_norm(a, "nuc"),
    "norm": lambda L, a: L.norm(a, float("inf"), dim=(-1, -2)),
}


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _compare_with_torch(sd_fn, th_fn, arrays, rtol=1e-6, atol=1e-8):
    torch = pytest.importorskip("torch")
    xs = [T(a) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, touts = _as_tuple(sd_fn(*xs)), _as_tuple(th_fn(torch.linalg, *ts))
    assert len(outs) == len(touts)
    rng = np.random.default_rng(99)
    vs = [rng.standard_normal(tuple(o.shape)) for o in outs]
    loss = None
    tloss = 0
    for o, t, v in zip(outs, touts, vs):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
        assert o.dtype == np.float64
        if o.requires_grad:
            term = (o * sd.tensor(v)).sum()
            loss = term if loss is None else loss + term
            tloss = tloss + (t * torch.tensor(v)).sum()
    gs = sd.grad(loss, xs)
    tgs = torch.autograd.grad(tloss, ts)
    for g, tg in zip(gs, tgs):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", list(TORCH_FN))
def test_matches_torch_forward_and_backward(name):
    sd_fn, _, makers = torch_cases[name]
    _compare_with_torch(sd_fn, TORCH_FN[name], [m() for m in makers])


def test_eigh_and_svd_match_torch_up_to_sign():
    torch = pytest.importorskip("torch")
    A = rnd(2, 4, 4, seed=40)
    H = A + np.swapaxes(A, -1, -2)
    x, t = T(H), torch.tensor(H, requires_grad=True)
    lam, V = LA.eigh(x)
    tl, tV = torch.linalg.eigh(t)
    np.testing.assert_allclose(lam.numpy(), tl.detach().numpy(), rtol=1e-10, atol=1e-12)
    # sign-invariant loss: sum_k c_k (v_k^T B v_k) + sum d_k lambda_k
    B = rnd(4, 4, seed=41)
    B = B + B.T
    c, d = rnd(4, seed=42), rnd(4, seed=43)
    Bs, cs, ds = sd.tensor(B), sd.tensor(c), sd.tensor(d)
    loss = (((V.mT @ Bs @ V) * sd.eye(4, dtype=sd.float64)).sum(-2) * cs).sum() + (lam * ds).sum()
    tloss = (torch.diagonal(tV.mT @ torch.tensor(B) @ tV, dim1=-2, dim2=-1) * torch.tensor(c)).sum() + (
        tl * torch.tensor(d)
    ).sum()
    np.testing.assert_allclose(
        sd.grad(loss, x)[0].numpy(), torch.autograd.grad(tloss, t)[0].numpy(), rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(np.abs(V.numpy()), np.abs(tV.detach().numpy()), rtol=1e-8, atol=1e-10)

    for shape in [(2, 5, 3), (3, 6)]:
        M = rnd(*shape, seed=44)
        x, t = T(M), torch.tensor(M, requires_grad=True)
        U, S, Vh = LA.svd(x, full_matrices=False)
        tU, tS, tVh = torch.linalg.svd(t, full_matrices=False)
        np.testing.assert_allclose(S.numpy(), tS.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(np.abs(U.numpy()), np.abs(tU.detach().numpy()), rtol=1e-8, atol=1e-10)
        # sign-invariant loss through U and Vh: sum of u_k v_k^T weighted by a fixed matrix, plus S
        k = min(shape[-2:])
        W = rnd(*shape[-2:], seed=45)
        cw = rnd(k, seed=46)
        loss = (((U * sd.tensor(cw)) @ Vh) * sd.tensor(W)).sum() + (S * S).sum()
        tloss = (((tU * torch.tensor(cw)) @ tVh) * torch.tensor(W)).sum() + (tS * tS).sum()
        np.testing.assert_allclose(sd.grad(loss, x)[0].numpy(), torch.autograd.grad(tloss, t)[0].numpy(),
                                   rtol=1e-6, atol=1e-9)


def test_svd_full_matrices_matches_torch_default():
    torch = pytest.importorskip("torch")
    M = rnd(5, 3, seed=47)
    x, t = T(M), torch.tensor(M, requires_grad=True)
    U, S, Vh = LA.svd(x)  # PyTorch's default: full_matrices=True
    tU, tS, tVh = torch.linalg.svd(t)
    assert U.shape == (5, 5) and Vh.shape == (3, 3)
    np.testing.assert_allclose((U.numpy()[:, :3] * S.numpy()) @ Vh.numpy(), M, atol=1e-12)
    np.testing.assert_allclose(U.numpy().T @ U.numpy(), np.eye(5), atol=1e-12)
    loss = (S * sd.tensor([1.0, 2.0, 3.0])).sum() + (
        (U[:, :3] * sd.sign(U[:1, :3])) ** 2 * sd.tensor(rnd(5, 3, seed=48))
    ).sum()
    tloss = (tS * torch.tensor([1.0, 2.0, 3.0])).sum() + (
        (tU[:, :3] * torch.sign(tU[:1, :3])) ** 2 * torch.tensor(rnd(5, 3, seed=48))
    ).sum()
    np.testing.assert_allclose(
        sd.grad(loss, x)[0].numpy(), torch.autograd.grad(tloss, t)[0].numpy(), rtol=1e-6, atol=1e-9
    )


def test_pinv_tolerances_match_torch_on_a_rank_deficient_matrix():
    torch = pytest.importorskip("torch")
    M = rnd(4, 2, seed=50) @ rnd(2, 5, seed=51)  # rank 2
    x = sd.tensor(M)
    for kw in [{}, {"atol": 1e-3}, {"rtol": 1e-2}, {"atol": 0.0, "rtol": 0.5}]:
        np.testing.assert_allclose(
            LA.pinv(x, **kw).numpy(), torch.linalg.pinv(torch.tensor(M), **kw).numpy(), atol=1e-10
        )
    np.testing.assert_allclose(LA.pinv(x, 1e-2).numpy(), LA.pinv(x, rtol=1e-2).numpy())  # rcond = rtol
    P = LA.pinv(x).numpy()
    np.testing.assert_allclose(M @ P @ M, M, atol=1e-10)  # a Moore-Penrose condition
    np.testing.assert_allclose(P @ M @ P, P, atol=1e-10)


# --- properties on batched inputs, dtypes ------------------------------------------------------------------
def test_batched_shapes_and_identities():
    A = well(3, (2, 3), seed=60)
    S = spd(3, (2, 3), seed=61)
    a, s = sd.tensor(A), sd.tensor(S)
    assert LA.det(a).shape == (2, 3) and LA.inv(a).shape == (2, 3, 3, 3)
    np.testing.assert_allclose(LA.det(a).numpy(), np.linalg.det(A), rtol=1e-10)
    np.testing.assert_allclose((a @ LA.inv(a)).numpy(), np.broadcast_to(np.eye(3), (2, 3, 3, 3)), atol=1e-12)
    L = LA.cholesky(s)
    np.testing.assert_allclose((L @ L.mT).numpy(), S, atol=1e-10)
    assert np.allclose(np.triu(L.numpy(), 1), 0)
    lam, Q = LA.eigh(s)
    assert lam.shape == (2, 3, 3) and Q.shape == (2, 3, 3, 3)
    assert (np.diff(lam.numpy(), axis=-1) >= 0).all()  # ascending
    np.testing.assert_allclose((Q @ (lam.unsqueeze(-1) * Q.mT)).numpy(), S, atol=1e-10)
    Qr, R = LA.qr(sd.tensor(rnd(2, 3, 6, 4, seed=62)))
    assert Qr.shape == (2, 3, 6, 4) and R.shape == (2, 3, 4, 4)
    np.testing.assert_allclose((Qr.mT @ Qr).numpy(), np.broadcast_to(np.eye(4), (2, 3, 4, 4)), atol=1e-12)
    U, sv, Vh = LA.svd(sd.tensor(rnd(2, 3, 6, 4, seed=63)), full_matrices=False)
    assert U.shape == (2, 3, 6, 4) and sv.shape == (2, 3, 4) and Vh.shape == (2, 3, 4, 4)
    sign, logabs = LA.slogdet(a)
    np.testing.assert_allclose((sign * logabs.exp()).numpy(), np.linalg.det(A), rtol=1e-10)


def test_float32_stays_float32():
    A = well(3, seed=64).astype(np.float32)
    a = sd.tensor(A, requires_grad=True)
    outs = [LA.solve(a, a), LA.inv(a), LA.det(a), LA.slogdet(a)[1], LA.cholesky(a @ a.mT), LA.qr(a)[0],
            LA.eigh(a + a.mT)[1], LA.eigvalsh(a + a.mT), LA.svd(a)[0], LA.svdvals(a), LA.pinv(a), LA.norm(a)]
    for o in outs:
        assert o.dtype == np.float32
    (outs[1].sum() + outs[6][:, 0].abs().sum() + outs[10].sum()).backward()
    assert a.grad.dtype == np.float32


def test_ops_run_on_each_device(device):
    A = well(3, (2,), seed=65)
    a = sd.tensor(A, requires_grad=True, device=device)
    loss = (LA.solve(a, a.mT).sum() + LA.det(a).sum() + LA.eigvalsh(a @ a.mT).sum() + LA.svdvals(a).sum()
            + LA.pinv(a).sum() + LA.cholesky(a @ a.mT).sum() + LA.qr(a)[1].sum() + LA.matrix_norm(a, 2).sum())
    loss.backward()
    assert a.grad.device == a.device
    ref = sd.tensor(A, requires_grad=True, device="cpu")
    rl = (LA.solve(ref, ref.mT).sum() + LA.det(ref).sum() + LA.eigvalsh(ref @ ref.mT).sum() + LA.svdvals(ref).sum()
          + LA.pinv(ref).sum() + LA.cholesky(ref @ ref.mT).sum() + LA.qr(ref)[1].sum() + LA.matrix_norm(ref, 2).sum())
    rl.backward()
    np.testing.assert_allclose(a.grad.cpu().numpy(), ref.grad.numpy(), rtol=1e-10)


def test_norms_match_numpy():
    A = rnd(3, 4, seed=66)
    a = sd.tensor(A)
    for o in ["fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]:
        np.testing.assert_allclose(LA.matrix_norm(a, o).numpy(), np.linalg.norm(A, o), rtol=1e-10)
        np.testing.assert_allclose(LA.norm(a, o).numpy(), np.linalg.norm(A, o), rtol=1e-10)
    assert LA.matrix_norm(a, 1, keepdim=True).shape == (1, 1)
    np.testing.assert_allclose(LA.norm(a).numpy(), np.sqrt((A ** 2).sum()))
    for o in [1, 2, 3.5, np.inf, -np.inf]:
        np.testing.assert_allclose(LA.vector_norm(a, o, dim=1).numpy(), np.linalg.norm(A, o, axis=1), rtol=1e-10)
    z = sd.tensor([0.0, 2.0, 0.0, -1.0])
    assert LA.vector_norm(z, 0).item() == 2.0
    B = rnd(2, 3, 4, seed=67)
    np.testing.assert_allclose(LA.matrix_norm(sd.tensor(B), 2, dim=(0, 2), keepdim=True).numpy().ravel(),
                               [np.linalg.norm(B[:, i, :], 2) for i in range(3)], rtol=1e-10)


# --- errors -------------------------------------------------------------------------------------------------
def test_bad_inputs_name_the_op_and_shape():
    with pytest.raises(ValueError, match=r"linalg.inv.*square.*\(2, 3\)"):
        LA.inv(sd.tensor(rnd(2, 3)))
    with pytest.raises(ValueError, match=r"linalg.det.*\(3,\)"):
        LA.det(sd.tensor(rnd(3)))
    with pytest.raises(TypeError, match=r"linalg.cholesky.*floating"):
        LA.cholesky(sd.tensor(np.eye(2, dtype=np.int64)))
    with pytest.raises(ValueError, match=r"linalg.solve.*\(3, 3\).*\(4,\)"):
        LA.solve(sd.tensor(well(3)), sd.tensor(rnd(4)))
    with pytest.raises(ValueError, match="UPLO"):
        LA.eigh(sd.tensor(spd(2)), UPLO="X")
    with pytest.raises(ValueError, match="mode"):
        LA.qr(sd.tensor(rnd(3, 3)), mode="r")
    with pytest.raises(ValueError, match="rtol"):
        LA.pinv(sd.tensor(rnd(3, 3)), rtol=-1.0)


def test_singular_and_not_positive_definite_raise_linalg_error():
    sing = sd.tensor(np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(LA.LinAlgError, match=r"linalg.inv: .*\(2, 2\).*singular"):
        LA.inv(sing)
    with pytest.raises(LA.LinAlgError, match=r"linalg.solve: .*singular"):
        LA.solve(sing, sd.tensor([1.0, 1.0], dtype=sd.float64))
    with pytest.raises(LA.LinAlgError, match=r"linalg.cholesky: .*not positive-definite"):
        LA.cholesky(sd.tensor(np.array([[1.0, 2.0], [2.0, 1.0]])))
    assert issubclass(LA.LinAlgError, ValueError) and issubclass(LA.LinAlgError, RuntimeError)
    assert LA.det(sing).item() == pytest.approx(0.0, abs=1e-12)  # det of a singular matrix is fine
    assert LA.slogdet(sing).sign.item() == 0.0


def test_device_path_reports_failures_that_cupy_does_not_raise(device, monkeypatch):
    """CuPy's inv/solve return inf/NaN and its cholesky leaves a non-positive pivot instead of raising: the ops
    check their results off the host. Played on the strict stand-in by replacing its LAPACK calls."""
    from shendu.testing import strict_device as sdev

    x = sd.tensor(np.array([[1.0, 2.0], [2.0, 1.0]]), device=device)
    xp = sd.backend.namespace_of(x._data)
    if not isinstance(xp, sdev.StrictNamespace):
        pytest.skip("plays CuPy's silent failures on the stand-in only")
    lin = xp.linalg
    lin.inv, lin.solve, lin.cholesky  # noqa: B018  (cache the attributes so monkeypatch can restore them)
    monkeypatch.setattr(lin, "inv", lambda a: sdev._dev(np.full(a.shape, np.inf)))
    monkeypatch.setattr(lin, "solve", lambda a, b: sdev._dev(np.full(b.shape, np.nan)))
    monkeypatch.setattr(lin, "cholesky", lambda a: sdev._dev(np.array([[1.0, 0.0], [2.0, -3.0]])))
    with pytest.raises(LA.LinAlgError, match="linalg.inv.*singular"):
        LA.inv(x)
    with pytest.raises(LA.LinAlgError, match="linalg.solve.*singular"):
        LA.solve(x, x)
    with pytest.raises(LA.LinAlgError, match="linalg.cholesky.*not positive-definite"):
        LA.cholesky(x)


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    M = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2: inv fails, adj(M) does not vanish
    x = T(M)
    LA.det(x).backward()
    cof = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(x.grad.numpy(), cof, atol=1e-12)
    assert gradcheck(LA.det, [T(M)], atol=1e-6, rtol=1e-5)
    xb = T(np.stack([M, well(3, seed=70)]))  # a batch with one singular matrix
    LA.det(xb).sum().backward()
    np.testing.assert_allclose(xb.grad.numpy()[0], cof, atol=1e-12)
    np.testing.assert_allclose(xb.grad.numpy()[1], np.linalg.det(well(3, seed=70)) * np.linalg.inv(well(3, seed=70)).T)


def test_small_compositions_match_torch():
    torch = pytest.importorskip("torch")
    A = well(3, (2,), seed=80) / 3
    mn = torch.linalg.matrix_norm
    x = T(A)
    np.testing.assert_allclose(LA.cond(x, 1).numpy(), torch.linalg.cond(torch.tensor(A), 1).numpy(), rtol=1e-10)
    cases = [
        (lambda a: LA.matrix_power(a, 5), lambda a: torch.linalg.matrix_power(a, 5)),
        # torch's n<0 backward is broken:
        (lambda a: LA.matrix_power(a, -3), lambda a: torch.linalg.matrix_power(torch.linalg.inv(a), 3)),
        (lambda a: LA.matrix_power(a, 0) + a, lambda a: torch.linalg.matrix_power(a, 0) + a),
        (lambda a: LA.cond(a), lambda a: torch.linalg.cond(a)),
        (lambda a: LA.cond(a, -2), lambda a: torch.linalg.cond(a, -2)),
        (lambda a: LA.cond(a, "fro"), lambda a: mn(a, "fro") * mn(torch.linalg.inv(a), "fro")),  # torch.linalg.cond's
        (lambda a: LA.cond(a, 1), lambda a: mn(a, 1) * mn(torch.linalg.inv(a), 1)),  # backward fails for these p
        (lambda a: LA.vecdot(a, a.mT, dim=-2), lambda a: torch.linalg.vecdot(a, a.mT, dim=-2)),
        (
            lambda a: LA.multi_dot([a[0, 0], a[0], a[1], a[1, :, 1]]),
            lambda a: torch.linalg.multi_dot([a[0, 0], a[0], a[1], a[1, :, 1]]),
        ),
    ]
    for sd_fn, th_fn in cases:
        x, t = T(A), torch.tensor(A, requires_grad=True)
        y, ty = sd_fn(x), th_fn(t)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        v = rnd(*tuple(y.shape), seed=81)
        (g,) = sd.grad((y * sd.tensor(v)).sum(), [x])
        (tg,) = torch.autograd.grad((ty * torch.tensor(v)).sum(), [t])
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-8, atol=1e-12)
    M = rnd(4, 2, seed=82) @ rnd(2, 5, seed=83)
    B = np.stack([M[:, :4], np.eye(4), np.diag([1.0, 1e-3, 1e-9, 0.0])])
    for kw in [{}, {"atol": 1e-2}, {"rtol": 1e-4}]:
        r = LA.matrix_rank(sd.tensor(B), **kw)
        assert r.dtype == np.int64
        np.testing.assert_array_equal(r.numpy(), torch.linalg.matrix_rank(torch.tensor(B), **kw).numpy())
    with pytest.raises(TypeError, match="matrix_power"):
        LA.matrix_power(sd.tensor(A), 1.5)
    with pytest.raises(ValueError, match="multi_dot"):
        LA.multi_dot([sd.tensor(A), sd.tensor(A)])


def test_values_only_gradients_are_finite_at_repeated_or_zero_values():
    """A loss on eigenvalues/singular values alone has a gradient even where they repeat or vanish (the absent
    vector gradients must not turn 0/0 into NaN), through eigh/svd as through eigvalsh/svdvals."""
    x = T(2 * np.eye(3))
    lam, _ = LA.eigh(x)
    (lam * sd.tensor([1.0, 2.0, 3.0], dtype=sd.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.diag([1.0, 2.0, 3.0]), atol=1e-12)
    M = np.zeros((4, 2))
    M[0, 0] = M[1, 1] = 1.0  # repeated singular values 1, 1
    for A in (M, np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]), M.T):  # ... and a zero one, tall and wide
        x = T(A)
        LA.svd(x, full_matrices=False).S.sum().backward()
        y = T(A)
        LA.svdvals(y).sum().backward()
        assert np.isfinite(x.grad.numpy()).all()
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), M.T, atol=1e-12)  # d(sum s)/dA = U Vh
