"""Losses: PyTorch oracle (forward + backward, all reductions), gradcheck, stability, textbook identities."""
import math

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd import gradcheck, gradgradcheck

from ._oracle import compare

R = np.random.default_rng(3)
X = R.standard_normal((6, 4))
Y = R.standard_normal((6, 4))
P = 1 / (1 + np.exp(-R.standard_normal((6, 4))))
B = (R.random((6, 4)) > 0.5).astype(np.float64)
PM = np.where(R.random((6, 4)) > 0.5, 1.0, -1.0)
IDX = R.integers(0, 4, 6)
REDS = ["mean", "sum", "none"]


def TF(torch):
    return torch.nn.functional


# (id, shendu fn(x, reduction), torch fn(T, x, reduction), input array)
CASES = [
    ("mse", lambda x, r: F.mse_loss(x, Y, r), lambda T, x, r: TF(T).mse_loss(x, T.tensor(Y), reduction=r), X),
    ("l1", lambda x, r: F.l1_loss(x, Y, r), lambda T, x, r: TF(T).l1_loss(x, T.tensor(Y), reduction=r), X),
    (
        "huber",
        lambda x, r: F.huber_loss(x, Y, r, 0.7),
        lambda T, x, r: TF(T).huber_loss(x, T.tensor(Y), reduction=r, delta=0.7),
        X,
    ),
    (
        "smooth_l1",
        lambda x, r: F.smooth_l1_loss(x, Y, r, 0.5),
        lambda T, x, r: TF(T).smooth_l1_loss(x, T.tensor(Y), reduction=r, beta=0.5),
        X,
    ),
    (
        "bce_logits",
        lambda x, r: F.binary_cross_entropy_with_logits(x, B, reduction=r),
        lambda T, x, r: TF(T).binary_cross_entropy_with_logits(x, T.tensor(B), reduction=r),
        X,
    ),
    (
        "bce_logits_posw",
        lambda x, r: F.binary_cross_entropy_with_logits(
            x, P, reduction=r, pos_weight=sd.tensor(np.array([1.0, 2.0, 0.5, 3.0]))
        ),
        lambda T, x, r: TF(T).binary_cross_entropy_with_logits(
            x, T.tensor(P), reduction=r, pos_weight=T.tensor([1.0, 2.0, 0.5, 3.0], dtype=T.float64)
        ),
        X,
    ),
    (
        "bce",
        lambda x, r: F.binary_cross_entropy(x, B, reduction=r),
        lambda T, x, r: TF(T).binary_cross_entropy(x, T.tensor(B), reduction=r),
        P,
    ),
    (
        "multilabel",
        lambda x, r: F.multilabel_soft_margin_loss(x, B, reduction=r),
        lambda T, x, r: TF(T).multilabel_soft_margin_loss(x, T.tensor(B), reduction=r),
        X,
    ),
    (
        "ce_idx",
        lambda x, r: F.cross_entropy(x, IDX, reduction=r),
        lambda T, x, r: TF(T).cross_entropy(x, T.tensor(IDX), reduction=r),
        X,
    ),
    (
        "ce_idx_smooth",
        lambda x, r: F.cross_entropy(x, IDX, reduction=r, label_smoothing=0.2),
        lambda T, x, r: TF(T).cross_entropy(x, T.tensor(IDX), reduction=r, label_smoothing=0.2),
        X,
    ),
    (
        "ce_idx_weight",
        lambda x, r: F.cross_entropy(
            x, IDX, weight=sd.tensor(np.array([1.0, 2.0, 0.5, 3.0])), reduction=r, label_smoothing=0.1
        ),
        lambda T, x, r: TF(T).cross_entropy(
            x, T.tensor(IDX), weight=T.tensor([1.0, 2.0, 0.5, 3.0], dtype=T.float64), reduction=r, label_smoothing=0.1
        ),
        X,
    ),
    (
        "ce_soft",
        lambda x, r: F.cross_entropy(x, P / P.sum(1, keepdims=True), reduction=r),
        lambda T, x, r: TF(T).cross_entropy(x, T.tensor(P / P.sum(1, keepdims=True)), reduction=r),
        X,
    ),
    (
        "ce_soft_weight_smooth",
        lambda x, r: F.cross_entropy(
            x, P, weight=sd.tensor(np.array([1.0, 2.0, 0.5, 3.0])), reduction=r, label_smoothing=0.3
        ),
        lambda T, x, r: TF(T).cross_entropy(
            x, T.tensor(P), weight=T.tensor([1.0, 2.0, 0.5, 3.0], dtype=T.float64), reduction=r, label_smoothing=0.3
        ),
        X,
    ),
    (
        "nll",
        lambda x, r: F.nll_loss(F.log_softmax(x, 1), IDX, reduction=r),
        lambda T, x, r: TF(T).nll_loss(T.log_softmax(x, 1), T.tensor(IDX), reduction=r),
        X,
    ),
    (
        "kl",
        lambda x, r: F.kl_div(F.log_softmax(x, 1), P, reduction=r),
        lambda T, x, r: TF(T).kl_div(T.log_softmax(x, 1), T.tensor(P), reduction=r),
        X,
    ),
    (
        "kl_logt",
        lambda x, r: F.kl_div(F.log_softmax(x, 1), np.log(P), reduction=r, log_target=True),
        lambda T, x, r: TF(T).kl_div(T.log_softmax(x, 1), T.tensor(np.log(P)), reduction=r, log_target=True),
        X,
    ),
    (
        "hinge_emb",
        lambda x, r: F.hinge_embedding_loss(x, PM, reduction=r, margin=0.5),
        lambda T, x, r: TF(T).hinge_embedding_loss(x, T.tensor(PM), reduction=r, margin=0.5),
        X,
    ),
    (
        "soft_margin",
        lambda x, r: F.soft_margin_loss(x, PM, reduction=r),
        lambda T, x, r: TF(T).soft_margin_loss(x, T.tensor(PM), reduction=r),
        X,
    ),
    (
        "multi_margin",
        lambda x, r: F.multi_margin_loss(x, IDX, reduction=r),
        lambda T, x, r: TF(T).multi_margin_loss(x, T.tensor(IDX), reduction=r),
        X,
    ),
    (
        "multi_margin_p2",
        lambda x, r: F.multi_margin_loss(x, IDX, p=2, margin=0.5, reduction=r),
        lambda T, x, r: TF(T).multi_margin_loss(x, T.tensor(IDX), p=2, margin=0.5, reduction=r),
        X,
    ),
    (
        "gauss_nll",
        lambda x, r: F.gaussian_nll_loss(x, Y, sd.tensor(P), reduction=r, full=True),
        lambda T, x, r: TF(T).gaussian_nll_loss(x, T.tensor(Y), T.tensor(P), reduction=r, full=True),
        X,
    ),
    (
        "gauss_nll_var",
        lambda v, r: F.gaussian_nll_loss(sd.tensor(X), Y, v, reduction=r),
        lambda T, v, r: TF(T).gaussian_nll_loss(T.tensor(X), T.tensor(Y), v, reduction=r),
        P,
    ),
]


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case, reduction):
    torch = pytest.importorskip("torch")
    _, f, tf, x = case
    compare(lambda a: f(a, reduction), lambda a: tf(torch, a, reduction), [x], rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradcheck(case):
    _, f, _, x = case
    assert gradcheck(lambda a: f(a, "mean"), [sd.tensor(x, requires_grad=True)])


def test_margin_ranking_matches_torch():
    torch = pytest.importorskip("torch")
    for r in REDS:
        compare(
            lambda a, b: F.margin_ranking_loss(a, b, PM[:, 0], margin=0.3, reduction=r),
            lambda a, b: torch.nn.functional.margin_ranking_loss(a, b, torch.tensor(PM[:, 0]), margin=0.3, reduction=r),
            [X[:, 0], Y[:, 0]],
        )


def test_cross_entropy_spatial_and_ignore_index_match_torch():
    torch = pytest.importorskip("torch")
    x = R.standard_normal((2, 3, 4, 5))
    t = R.integers(0, 3, (2, 4, 5))
    t[0, 1, :2] = -100
    for r in REDS:
        for ls in (0.0, 0.1):
            compare(
                lambda a: F.cross_entropy(a, t, reduction=r, label_smoothing=ls),
                lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(t), reduction=r, label_smoothing=ls),
                [x],
            )
    compare(
        lambda a: F.nll_loss(a, t, reduction="none"),
        lambda a: torch.nn.functional.nll_loss(a, torch.tensor(t), reduction="none"),
        [x],
    )
    # a 1-d input is one sample
    compare(
        lambda a: F.cross_entropy(a, np.array(2)),
        lambda a: torch.nn.functional.cross_entropy(a, torch.tensor(2)),
        [X[0]],
    )


def test_cross_entropy_double_backward_matches_torch():
    torch = pytest.importorskip("torch")
    t = IDX.copy()
    t[1] = 7
    for ls in (0.0, 0.25):
        a = sd.tensor(X, requires_grad=True)
        (g,) = sd.grad(F.cross_entropy(a, t, ignore_index=7, label_smoothing=ls), [a], create_graph=True)
        (g * g).sum().backward()
        b = torch.tensor(X, requires_grad=True)
        (gt,) = torch.autograd.grad(
            torch.nn.functional.cross_entropy(b, torch.tensor(t), ignore_index=7, label_smoothing=ls),
            [b],
            create_graph=True,
        )
        (gt * gt).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-12)
    assert gradgradcheck(lambda a: F.cross_entropy(a, IDX, reduction="sum"), [sd.tensor(X, requires_grad=True)])


def test_cross_entropy_one_hot_equals_index_target():
    x = sd.tensor(X.astype(np.float32))
    oh = np.eye(4, dtype=np.float32)[IDX]
    np.testing.assert_allclose(F.cross_entropy(x, oh).item(), F.cross_entropy(x, IDX).item(), rtol=1e-6)
    np.testing.assert_allclose(F.cross_entropy(x, oh, label_smoothing=0.1).item(),
                               F.cross_entropy(x, IDX, label_smoothing=0.1).item(), rtol=1e-6)


def test_losses_stable_at_extreme_logits_float32():
    z = sd.tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(z, np.array([1, 1]))
    assert loss.dtype == sd.float32 and np.isfinite(loss.item())
    assert abs(loss.item() - 1e4) < 1  # first row: -log softmax = 2e4 / 2
    loss.backward()
    assert np.isfinite(z.grad.numpy()).all()
    z.grad = None
    l2 = F.binary_cross_entropy_with_logits(z, np.ones((2, 3), np.float32))
    assert np.isfinite(l2.item())
    l2.backward()
    assert np.isfinite(z.grad.numpy()).all()
    # sigmoid cross-entropy through softplus: exact large-margin value (textbook 6.2.2.2)
    v = F.binary_cross_entropy_with_logits(sd.tensor([-100.0]), sd.tensor([1.0]))
    assert abs(v.item() - 100.0) < 1e-4
    p = F.binary_cross_entropy(sd.tensor([0.0, 1.0]), sd.tensor([1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(p.numpy(), [100.0, 0.0])


def test_quadratic_cost_is_half_mse_sum_over_n():
    a = sd.tensor(X, requires_grad=True)
    q = F.quadratic_cost(a, Y)
    assert abs(q.item() - ((X - Y) ** 2).sum() / (2 * 6)) < 1e-12
    q.backward()
    np.testing.assert_allclose(a.grad.numpy(), (X - Y) / 6)
    assert abs(nn.QuadraticCost()(sd.tensor(X), Y).item() - q.item()) < 1e-12


def test_lp_loss():
    a = sd.tensor(X, requires_grad=True)
    for p in (1.0, 2.0, 3.0):
        assert abs(F.lp_loss(a, Y, p).item() - (np.abs(X - Y) ** p).mean()) < 1e-12
    assert gradcheck(lambda a: F.lp_loss(a, Y, 3.0), [a])
    with pytest.raises(ValueError, match="lp_loss"):
        F.lp_loss(a, Y, 0)


def test_hinge_loss():
    f = sd.tensor([2.0, 0.5, -1.0])
    y = sd.tensor([1.0, 1.0, 1.0])
    np.testing.assert_allclose(F.hinge_loss(f, y, reduction="none").numpy(), [0.0, 0.5, 2.0])


def test_gaussian_nll_precision_matches_variance_form():
    s = R.standard_normal((6, 4))
    a = F.gaussian_nll_precision(sd.tensor(X), Y, sd.tensor(s))
    b = F.gaussian_nll_loss(sd.tensor(X), Y, sd.tensor(np.exp(-s)), full=True)
    assert abs(a.item() - b.item()) < 1e-12
    assert gradcheck(lambda ls: F.gaussian_nll_precision(sd.tensor(X), Y, ls), [sd.tensor(s, requires_grad=True)])


def test_mdn_nll_against_direct_mixture_density():
    n, k, d = 5, 3, 2
    logits, mu, ls = R.standard_normal((n, k)), R.standard_normal((n, k, d)), R.standard_normal((n, k, d)) * 0.3
    y = R.standard_normal((n, d))
    pi = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    sig = np.exp(ls)
    dens = np.prod(np.exp(-0.5 * ((y[:, None] - mu) / sig) ** 2) / (np.sqrt(2 * np.pi) * sig), axis=2)
    want = -np.log((pi * dens).sum(1))
    got = F.mdn_nll(sd.tensor(logits), sd.tensor(mu), sd.tensor(ls), y, reduction="none").numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10)
    ts = [sd.tensor(a, requires_grad=True) for a in (logits, mu, ls)]
    assert gradcheck(lambda a, b, c: F.mdn_nll(a, b, c, y), ts)
    with pytest.raises(ValueError, match="mdn_nll"):
        F.mdn_nll(sd.tensor(logits), sd.tensor(mu), sd.tensor(ls), y[:, :1])


def test_loss_modules_and_errors():
    x = sd.tensor(X)
    assert abs(nn.MSELoss()(x, Y).item() - F.mse_loss(x, Y).item()) == 0
    assert (
        abs(
            nn.CrossEntropyLoss(label_smoothing=0.1)(x, IDX).item()
            - F.cross_entropy(x, IDX, label_smoothing=0.1).item()
        )
        == 0
    )
    assert nn.BCEWithLogitsLoss(reduction="none")(x, B).shape == (6, 4)
    assert (
        abs(
            nn.KLDivLoss(reduction="batchmean")(F.log_softmax(x, 1), P).item()
            - F.kl_div(F.log_softmax(x, 1), P, "sum").item() / 6
        )
        < 1e-12
    )
    with pytest.raises(ValueError, match="mse_loss.*\\(6, 4\\).*\\(6, 3\\)"):
        F.mse_loss(x, Y[:, :3])
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, Y, "avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy.*\\(5,\\)"):
        F.cross_entropy(x, IDX[:5])
    with pytest.raises(ValueError, match="outside"):
        F.cross_entropy(x, np.array([0, 1, 2, 3, 4, 0]))


def test_cross_entropy_float32_stays_float32():
    x = sd.tensor(X.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(x, IDX)
    assert loss.dtype == sd.float32
    loss.backward()
    assert x.grad.dtype == sd.float32
    assert F.mse_loss(x, Y.astype(np.float32)).dtype == sd.float32
    assert F.binary_cross_entropy_with_logits(x, B.astype(np.float32)).dtype == sd.float32
    # cross-entropy of uniform logits is log C (textbook 6.2.2.3)
    assert abs(F.cross_entropy(sd.zeros(3, 10), np.array([1, 2, 3])).item() - math.log(10)) < 1e-6


def test_bce_at_exact_zero_and_one_has_finite_gradient():
    p = sd.tensor([0.0, 1.0, 0.5], requires_grad=True)
    with np.errstate(all="raise"):
        loss = F.binary_cross_entropy(p, sd.tensor([1.0, 0.0, 1.0]), reduction="sum")
    assert abs(loss.item() - (200 + math.log(2))) < 1e-4
    loss.backward()
    assert np.isfinite(p.grad.numpy()).all()
