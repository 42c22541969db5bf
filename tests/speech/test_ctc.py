"""CTC loss: brute force over alignments, torch oracle (forward + backward), gradcheck, reductions, errors."""
import itertools

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.autograd import gradcheck
from shendu.nn import functional as F
from shendu.nn.functional.ctc import ctc_alignment_posteriors
from shendu.speech import ctc_collapse


def _lp(T, N, C, seed=0):
    x = np.random.default_rng(seed).standard_normal((T, N, C))
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _brute_nll(lp, target, blank=0):
    """-log sum over every frame path pi with B(pi) = target of prod_t y_t(pi_t)."""
    T, C = lp.shape
    tot = 0.0
    for path in itertools.product(range(C), repeat=T):
        if ctc_collapse(path, blank) == list(target):
            tot += np.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return -np.log(tot)


@pytest.mark.parametrize("target", [[1], [1, 2], [1, 1], [2, 1, 2], []])
def test_ctc_equals_brute_force_over_alignments(target):
    lp = _lp(5, 1, 3, seed=len(target))[:, 0]
    got = F.ctc_loss(sd.tensor(lp), np.array([target + [0] * (3 - len(target))]), [5], [len(target)],
                     reduction="none").numpy()
    assert got.shape == ()  # unbatched (T, C) input: one loss, as torch
    np.testing.assert_allclose(got, _brute_nll(lp, target), rtol=1e-10)


def test_unbatched_and_impossible_alignment_and_zero_infinity():
    lp = _lp(3, 1, 4)[:, 0]
    np.testing.assert_allclose(F.ctc_loss(sd.tensor(lp), [1, 2], 3, 2, reduction="none").numpy(),
                               _brute_nll(lp, [1, 2]), rtol=1e-10)
    # [1, 1] needs 3 frames (a blank between the repeats); 2 frames cannot emit it
    x = sd.tensor(lp[:2], requires_grad=True)
    assert np.isinf(F.ctc_loss(x, [1, 1], 2, 2, reduction="sum").numpy())
    loss = F.ctc_loss(x, [1, 1], 2, 2, reduction="sum", zero_infinity=True)
    loss.backward()
    assert loss.numpy() == 0 and np.all(x.grad.numpy() == 0)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("concat", [False, True])
def test_matches_torch_forward_and_backward(reduction, concat):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    T, N, C = 8, 4, 6
    x = rng.standard_normal((T, N, C))
    tg = np.array([[1, 2, 2, 5], [3, 0, 0, 0], [1, 4, 1, 0], [5, 5, 5, 0]])
    tl, il = np.array([4, 1, 3, 3]), np.array([8, 5, 6, 7])
    targets = np.concatenate([tg[n, :tl[n]] for n in range(N)]) if concat else tg
    for blank in (0,):
        xs = sd.tensor(x, requires_grad=True)
        loss = F.ctc_loss(xs.log_softmax(-1), targets, il, tl, blank=blank, reduction=reduction)
        loss.sum().backward()
        xt = torch.tensor(x, requires_grad=True)
        lt = torch.nn.functional.ctc_loss(xt.log_softmax(-1), torch.tensor(targets), torch.tensor(il),
                                          torch.tensor(tl), blank=blank, reduction=reduction)
        lt.sum().backward()
        np.testing.assert_allclose(loss.numpy(), lt.detach().numpy(), rtol=1e-10)
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=1e-10)
        assert np.all(xs.grad.numpy()[6:, 1] == 0)  # frames past the input length get no gradient


def test_non_zero_blank_and_module_float32_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((6, 2, 4)).astype(np.float32)
    tg, il, tl = np.array([[0, 1], [2, 2]]), np.array([6, 6]), np.array([2, 2])
    xs = sd.tensor(x, requires_grad=True)
    loss = nn.CTCLoss(blank=3)(xs.log_softmax(-1), tg, il, tl)
    loss.backward()
    assert loss.dtype == np.float32 and xs.grad.dtype == np.float32
    xt = torch.tensor(x, requires_grad=True)
    lt = torch.nn.CTCLoss(blank=3)(xt.log_softmax(-1), torch.tensor(tg), torch.tensor(il), torch.tensor(tl))
    lt.backward()
    np.testing.assert_allclose(loss.numpy(), lt.item(), rtol=1e-5)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=1e-6)


def test_gradcheck_float64():
    lp = sd.tensor(_lp(5, 2, 4), requires_grad=True)
    tg, il, tl = np.array([[1, 2], [3, 3]]), [5, 4], [2, 2]
    assert gradcheck(lambda a: F.ctc_loss(a, tg, il, tl, reduction="none"), (lp,))
    # through a log_softmax as in use, on raw scores
    z = sd.tensor(np.random.default_rng(3).standard_normal((5, 2, 4)), requires_grad=True)
    assert gradcheck(lambda a: F.ctc_loss(a.log_softmax(-1), tg, il, tl), (z,))


def test_double_backward_is_refused():
    lp = sd.tensor(_lp(4, 1, 3), requires_grad=True)
    loss = F.ctc_loss(lp, [[1]], [4], [1])
    (g,) = sd.autograd.grad(loss, [lp], create_graph=True)
    with pytest.raises(NotImplementedError, match="double backward"):
        g.sum().backward()


def test_posteriors_sum_to_one_per_frame():
    lp = _lp(6, 2, 4, seed=5)
    post = ctc_alignment_posteriors(lp, np.array([[1, 2], [3, 0]]), [6, 4], [2, 1])
    np.testing.assert_allclose(post[:6, 0].sum(-1), 1, atol=1e-12)
    np.testing.assert_allclose(post[:4, 1].sum(-1), 1, atol=1e-12)
    assert np.all(post[4:, 1] == 0)


def test_bad_inputs():
    lp = sd.tensor(_lp(4, 2, 3))
    with pytest.raises(ValueError, match="differ from blank"):
        F.ctc_loss(lp, [[1, 0], [1, 2]], [4, 4], [2, 2])
    with pytest.raises(ValueError, match=r"input_lengths must lie in \[0, 4\]"):
        F.ctc_loss(lp, [[1], [2]], [5, 4], [1, 1])
    with pytest.raises(ValueError, match="sum\\(target_lengths\\)"):
        F.ctc_loss(lp, [1, 2, 2], [4, 4], [1, 1])
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(lp, [[1], [2]], [4, 4], [1, 1], reduction="avg")
