"""Pieces the optimizers share (issue 22): the adaptive methods' rescaled gradient (textbook 8.5) and the
full-batch base (textbook 8.6: one parameter group as a flat vector, the closure checked and evaluated)."""
import re

import numpy as np
import pytest

import shendu as sd
from shendu import optim
from shendu.backend import namespace_of, to_host
from shendu.optim._flat import FullBatchOptimizer
from shendu.optim._rescale import rescaled_


@pytest.mark.parametrize("inside", [False, True])
@pytest.mark.parametrize("alias", [False, True])
def test_rescaled_gradient_both_placements_of_delta(inside, alias):
    rng = np.random.default_rng(0)
    g_np = rng.standard_normal(50).astype(np.float32)
    r_np = rng.random(50).astype(np.float32) * 1e-3  # small r: eps inside vs outside differ visibly
    eps = 1e-4
    g, r = sd.tensor(g_np)._data, sd.tensor(r_np)._data
    xp = namespace_of(g)
    t = r if alias else xp.empty_like(g)
    out = rescaled_(xp, g, r, eps, inside, t)
    assert out is t
    want = g_np / np.sqrt(r_np + np.float32(eps)) if inside else g_np / (np.sqrt(r_np) + np.float32(eps))
    np.testing.assert_allclose(to_host(out), want, rtol=1e-6)
    other = g_np / (np.sqrt(r_np) + np.float32(eps)) if inside else g_np / np.sqrt(r_np + np.float32(eps))
    assert np.abs(to_host(out) - other).max() > 1e-3  # the two placements are told apart


FULL_BATCH = [(optim.BFGS, "recomputes the loss and its gradients", "parameter groups"),
              (optim.NonlinearCG, "recomputes the loss and its gradients", "parameter groups"),
              (optim.LBFGS, "recomputes the loss and its gradients", "per-parameter options (parameter groups)"),
              (optim.ScaledConjugateGradient, "computes the loss and calls backward", "parameter groups"),
              (optim.Newton, "returns the loss (without calling backward)", "parameter groups"),
              (optim.SaddleFreeNewton, "returns the loss (without calling backward)", "parameter groups")]


@pytest.mark.parametrize("cls, closure_does, groups_word", FULL_BATCH, ids=[c[0].__name__ for c in FULL_BATCH])
def test_full_batch_methods_share_checks_state_and_flat_view(cls, closure_does, groups_word):
    assert issubclass(cls, FullBatchOptimizer)
    a = sd.nn.Parameter(sd.tensor([1.0, 2.0], dtype=sd.float64))
    b = sd.nn.Parameter(sd.tensor([[3.0]], dtype=sd.float64))
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__} doesn't support {groups_word}")):
        cls([{"params": [a]}, {"params": [b]}])
    opt = cls([a, b])
    assert opt._flat.n == 3 and opt._flat.params == [a, b]
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__}.step needs a closure that {closure_does}")):
        opt.step(None)
    fp, group, st = opt._start(lambda: None)
    assert fp is opt._flat and group is opt.param_groups[0] and opt.state[a] is st


def test_full_batch_loss_and_grad_flattens_in_parameter_order():
    a = sd.nn.Parameter(sd.tensor([1.0, 2.0], dtype=sd.float64))
    b = sd.nn.Parameter(sd.tensor([[3.0]], dtype=sd.float64))
    opt = optim.BFGS([a, b])

    def closure():
        opt.zero_grad()
        loss = (a * a).sum() + 5.0 * b.sum()
        loss.backward()
        return loss

    orig, loss, g = opt._loss_and_grad(closure)
    assert isinstance(orig, sd.Tensor) and loss == pytest.approx(20.0)
    np.testing.assert_allclose(to_host(g), [2.0, 4.0, 5.0])
