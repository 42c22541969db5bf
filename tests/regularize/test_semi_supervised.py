"""Semi-supervised learning (textbook 7.6, 7.13): pseudo-labelling / self-training, virtual adversarial training
(power iteration finds the KL's top Hessian direction; gradients; a digits learning test), and the shared
generative + discriminative objective."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.data.datasets import load_digits
from shendu.regularize import (
    generative_discriminative_loss,
    kl_logits,
    pseudo_label,
    robust_accuracy,
    self_training,
    vat_loss,
)

F = sd.nn.functional


def _few_labels(n=60, seed=0):
    (x, y), (xt, yt) = load_digits()
    idx = np.random.default_rng(seed).permutation(len(x))
    return x[idx[:n]], y[idx[:n]], x[idx[n:]], y[idx[n:]], xt, yt


def _mlp():
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def test_pseudo_label_keeps_exactly_the_confident_predictions():
    model = nn.Linear(3, 4)
    with sd.no_grad():
        model.weight.mul_(4.0)
    xu = np.random.default_rng(1).standard_normal((50, 3)).astype(np.float32)
    model.eval()
    with sd.no_grad():
        p = F.softmax(model(sd.tensor(xu)), dim=-1).numpy()
    model.train()
    want = np.nonzero(p.max(axis=1) >= 0.8)[0]
    assert 0 < len(want) < 50
    xs, ys, idx = pseudo_label(model, xu, threshold=0.8)
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_array_equal(ys, p.argmax(axis=1)[want])
    assert isinstance(xs, np.ndarray) and ys.dtype == np.int64 and np.array_equal(xs, xu[want])
    assert model.training  # mode restored
    xt, yt, it = pseudo_label(model, sd.tensor(xu), threshold=0.8)  # Tensors in, Tensors out
    np.testing.assert_array_equal(it, want)
    np.testing.assert_array_equal(yt.numpy(), ys)
    np.testing.assert_array_equal(xt.numpy(), xu[want])
    assert len(pseudo_label(model, xu, threshold=1.0)[2]) <= len(pseudo_label(model, xu, threshold=0.0)[2]) == 50
    with pytest.raises(ValueError, match="threshold"):
        pseudo_label(model, xu, threshold=1.5)


def test_self_training_on_digits_with_60_labels():
    x, y, xu, yu, xt, yt = _few_labels()
    sup = _mlp()
    sd.train.fit(sup, (x, y), loss="cross_entropy", epochs=60, batch_size=16, lr=3e-3, verbose=0)
    acc_sup = robust_accuracy(sup, xt, yt, 0.0)
    xs, ys, idx = pseudo_label(sup, xu, threshold=0.9)
    assert len(idx) > 300 and np.mean(ys == yu[idx]) > 0.95  # many, mostly right, pseudo-labels
    sd.manual_seed(0)
    model = _mlp()
    used = self_training(model, x, y, xu, threshold=0.9, rounds=3, epochs=20, batch_size=16, lr=3e-3)
    assert len(used) == 3 and used[-1] > used[0] and used[-1] > 800
    assert robust_accuracy(model, xt, yt, 0.0) >= acc_sup


def _kl_hessian_top_vector(model, x):
    W, b = model.weight.numpy(), model.bias.numpy()
    z = x.numpy()[0] @ W.T + b
    p = np.exp(z - z.max())
    p /= p.sum()
    H = W.T @ (np.diag(p) - np.outer(p, p)) @ W  # Hessian of KL(p || q(x + r)) in r at r = 0
    return np.linalg.eigh(H)[1][:, -1]


def test_vat_power_iteration_finds_the_top_eigenvector_of_the_kl_hessian():
    with sd.default_dtype(np.float64):
        model = nn.Linear(5, 3)
        x = sd.randn(1, 5)
    loss, r = vat_loss(model, x, xi=1e-6, eps=0.5, n_power=40, return_perturbation=True)
    r = r.numpy()[0]
    assert np.linalg.norm(r) == pytest.approx(0.5, rel=1e-9)
    assert abs(r @ _kl_hessian_top_vector(model, x)) / 0.5 == pytest.approx(1.0, abs=1e-6)
    # its KL beats every random direction of the same size
    rng = np.random.default_rng(0)
    for _ in range(20):
        d = rng.standard_normal((1, 5))
        rr = sd.tensor(0.5 * d / np.linalg.norm(d))
        assert kl_logits(model(x), model(x + rr)).item() <= loss.item() + 1e-12


def test_vat_loss_gradient_is_that_of_the_kl_at_the_fixed_perturbation():
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 4))
    x = sd.randn(8, 6)
    loss, r = vat_loss(model, x, xi=1e-3, eps=0.4, n_power=2, return_perturbation=True)
    assert all(p.grad is None for p in model.parameters())  # the power iteration leaves .grad alone
    assert r.shape == x.shape and not r.requires_grad
    np.testing.assert_allclose(np.linalg.norm(r.numpy(), axis=1), 0.4, rtol=1e-5)
    loss.backward()
    got = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    with sd.no_grad():
        target = model(x)
    kl_logits(target, model(x + r)).backward()
    for g, p in zip(got, model.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-8)
    assert loss.item() > 0
    assert vat_loss(model, x, eps=0.0).item() == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="n_power"):
        vat_loss(model, x, n_power=0)


def test_vat_on_unlabelled_digits_improves_a_60_label_classifier():
    x, y, xu, _, xt, yt = _few_labels()
    xl, yl = sd.tensor(x), sd.tensor(y)
    accs = []
    for lam in (0.0, 1.0):
        sd.manual_seed(0)
        model = _mlp()
        opt = sd.optim.Adam(model.parameters(), lr=3e-3)
        rng = np.random.default_rng(0)
        for _ in range(300):
            lb = rng.integers(0, len(x), 32)
            loss = F.cross_entropy(model(xl[lb]), yl[lb])
            if lam:
                loss = loss + lam * vat_loss(model, sd.tensor(xu[rng.integers(0, len(xu), 128)]), eps=0.5)
            opt.zero_grad()
            loss.backward()
            opt.step()
        accs.append(robust_accuracy(model, xt, yt, 0.0))
    assert accs[1] > accs[0] + 0.01, accs


def test_generative_discriminative_loss_value_and_where_gradients_flow():
    enc, head, dec = nn.Linear(8, 4), nn.Linear(4, 3), nn.Linear(4, 8)
    xl, yl = sd.randn(5, 8), sd.tensor(np.array([0, 1, 2, 1, 0]))
    xu = sd.randn(7, 8)
    loss = generative_discriminative_loss(enc, head, dec, xl, yl, xu, lam=0.5)
    xa = sd.cat([xl, xu], dim=0)
    by_hand = F.cross_entropy(head(enc(xl)), yl) + 0.5 * F.mse_loss(dec(enc(xa)), xa)
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-6)
    loss.backward()
    g_head, g_enc = head.weight.grad.numpy().copy(), enc.weight.grad.numpy().copy()
    assert np.abs(dec.weight.grad.numpy()).sum() > 0
    for m in (enc, head, dec):
        m.zero_grad()
    F.cross_entropy(head(enc(xl)), yl).backward()
    np.testing.assert_allclose(head.weight.grad.numpy(), g_head, rtol=1e-5, atol=1e-7)  # head: supervised only
    assert np.abs(enc.weight.grad.numpy() - g_enc).max() > 1e-4  # the unlabelled data shape the shared encoder
    assert generative_discriminative_loss(enc, head, dec, xl, yl, xu, lam=0.0).item() == pytest.approx(
        F.cross_entropy(head(enc(xl)), yl).item())
    with pytest.raises(ValueError, match="lam"):
        generative_discriminative_loss(enc, head, dec, xl, yl, xu, lam=-1.0)
