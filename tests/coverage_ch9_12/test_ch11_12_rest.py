"""Remaining rows: W11.5 (log-uniform draws of the book's ranges), 12.26 (LCN as a differentiable layer),
T3.18 (text augmentation)."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu import nn, tune
from shendu.autograd.gradcheck import gradcheck
from shendu.data.preprocessing.contrast import local_contrast_normalize
from shendu.text import interpolate_embeddings, synonym_replace


def test_w11_5_log_lr_uniform_on_minus5_minus1_and_hidden_log_uniform_50_2000():
    stats = pytest.importorskip("scipy.stats")
    study = tune.random_search(lambda p: 0.0, ["lr=loguniform:1e-5:1e-1", "h=int:50:2000:log"], 800, seed=3,
                               storage=":memory:", pruner="none")
    lr = np.array([t.params["lr"] for t in study.trials])
    h = np.array([t.params["h"] for t in study.trials])
    assert lr.min() >= 1e-5 and lr.max() <= 1e-1
    assert stats.kstest(np.log10(lr), stats.uniform(loc=-5, scale=4).cdf).pvalue > 0.01
    assert h.min() >= 50 and h.max() <= 2000
    lo, hi = math.log(49.5), math.log(2000.5)
    jitter = np.random.default_rng(0).uniform(-0.5, 0.5, h.size)
    assert stats.kstest(np.log(h + jitter), stats.uniform(loc=lo, scale=hi - lo).cdf).pvalue > 0.01
    # log-uniform, not uniform: as many draws below 316 (the geometric mid-point) as above
    assert abs((h < math.sqrt(50 * 2000)).mean() - 0.5) < 0.06


@pytest.mark.parametrize("kernel,across", [("gaussian", False), ("box", False), ("gaussian", True)])
def test_12_26_lcn_layer_equals_the_preprocessing_function(kernel, across):
    x = np.random.default_rng(0).normal(size=(2, 3, 10, 11)).astype(np.float32)
    layer = nn.LocalContrastNorm2d(size=5, sigma=1.5, kernel=kernel, eps=1e-2, across_channels=across)
    ref = local_contrast_normalize(x, size=5, sigma=1.5, kernel=kernel, eps=1e-2, across_channels=across)
    np.testing.assert_allclose(layer(sd.tensor(x)).numpy(), ref, rtol=1e-4, atol=1e-5)


def test_12_26_lcn_layer_gradchecks_and_trains_as_a_hidden_layer():
    x = sd.tensor(np.random.default_rng(1).normal(size=(1, 2, 5, 5)), requires_grad=True)
    assert gradcheck(lambda a: nn.LocalContrastNorm2d(3, 1.0, eps=0.1, lam=0.01)(a), [x])
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.LocalContrastNorm2d(3, eps=0.1))
    y = net(sd.tensor(np.random.default_rng(2).normal(size=(2, 1, 6, 6)).astype(np.float32)))
    (y ** 2).mean().backward()
    assert np.abs(net[0].weight.grad.numpy()).sum() > 0
    # a constant region has no contrast: the output is 0 there
    flat = nn.LocalContrastNorm2d(3)(sd.full((1, 1, 6, 6), 7.0))
    np.testing.assert_allclose(flat.numpy(), 0, atol=1e-6)


def test_t3_18_text_augmentation_synonyms_and_embedding_interpolation():
    syn = {"big": ["large", "huge"], "car": ["automobile"]}
    toks = ["the", "big", "red", "car"] * 50
    out = synonym_replace(toks, syn, p=0.5, rng=0)
    assert len(out) == len(toks)
    changed = [(a, b) for a, b in zip(toks, out) if a != b]
    assert all(b in syn[a] for a, b in changed)                   # only words with synonyms, only to a synonym
    assert 0.35 < len(changed) / 100 < 0.65                       # about p of the 100 replaceable tokens
    assert synonym_replace(toks, syn, p=0.0) == toks
    assert synonym_replace(toks, syn, p=0.5, rng=0) == out        # seeded
    ea, eb = sd.tensor(np.ones((2, 3), np.float32)), sd.tensor(np.zeros((2, 3), np.float32))
    np.testing.assert_allclose(interpolate_embeddings(ea, eb, 0.3).numpy(), 0.3)
    with pytest.raises(ValueError, match="interpolate_embeddings"):
        interpolate_embeddings(ea, eb, 1.5)
