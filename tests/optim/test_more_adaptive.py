"""Adadelta, NAdam, Adamax: 50-step trajectories equal torch.optim's (float64, 1e-6)."""
import pytest

from shendu import optim

from ._oracle import assert_same

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.5, rho=0.8, weight_decay=0.1)])
def test_adadelta_matches_torch(kw):
    assert_same(lambda p: optim.Adadelta(p, **kw), lambda p: torch.optim.Adadelta(p, **kw))


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1),
                                dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
                                dict(lr=0.02, betas=(0.8, 0.99), momentum_decay=0.01)])
def test_nadam_matches_torch(kw):
    assert_same(lambda p: optim.NAdam(p, **kw), lambda p: torch.optim.NAdam(p, **kw))


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.02, weight_decay=0.05, betas=(0.8, 0.9))])
def test_adamax_matches_torch(kw):
    assert_same(lambda p: optim.Adamax(p, **kw), lambda p: torch.optim.Adamax(p, **kw))
