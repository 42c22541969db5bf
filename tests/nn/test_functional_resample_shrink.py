"""nn.functional's group_norm, resample (interpolate, pixel_(un)shuffle) and shrink (threshold, hard/soft/tanh
shrink, glu) families: float64 gradchecks, torch as oracle, bad input, and the layering rule (issue 22): no
module of nn.functional imports nn.layers."""
import ast
from pathlib import Path

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.autograd.gradcheck import gradcheck

RNG = np.random.default_rng(22)
X4 = RNG.standard_normal((2, 8, 2, 3))  # (N, C, H, W) float64


def _t(a):
    return sd.tensor(np.array(a), requires_grad=True)


CASES = {
    "group_norm": (lambda x, w, b: F.group_norm(x, 4, w, b), [X4, RNG.standard_normal(8), RNG.standard_normal(8)]),
    "interpolate_scale": (lambda x: F.interpolate(x, scale_factor=(2, 3)), [X4]),
    "interpolate_size": (lambda x: F.interpolate(x, size=(4, 3)), [X4]),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), [X4]),
    "pixel_unshuffle": (lambda x: F.pixel_unshuffle(x, 2), [RNG.standard_normal((1, 2, 4, 6))]),
    "threshold": (lambda x: F.threshold(x, 0.3, -1.0), [X4]),
    "hardshrink": (lambda x: F.hardshrink(x, 0.5), [X4]),
    "softshrink": (lambda x: F.softshrink(x, 0.5), [X4]),
    "tanhshrink": (F.tanhshrink, [X4]),
    "glu": (lambda x: F.glu(x, 1), [X4]),
    "normalize": (lambda x: F.normalize(x, dim=1), [X4]),
}


def _away_from_kinks(arrs, name):
    """Keep inputs at least 1e-3 from the kinks of threshold/shrink so central differences are exact."""
    if name in ("threshold", "hardshrink", "softshrink"):
        a = arrs[0]
        for k in (0.3, 0.5, -0.5):
            a = np.where(np.abs(a - k) < 1e-3, a + 1e-2, a)
        arrs = [a] + arrs[1:]
    return arrs


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_float64(name):
    fn, arrs = CASES[name]
    xs = [_t(a) for a in _away_from_kinks(arrs, name)]
    assert gradcheck(fn, xs, eps=1e-6, atol=1e-6, rtol=1e-5)


TORCH = {  # name: (shendu call, torch call) on the same (2, 8, 2, 3) float32 input
    "group_norm": (lambda x: F.group_norm(x, 2), lambda tf, x: tf.group_norm(x, 2)),
    "interpolate": (lambda x: F.interpolate(x, scale_factor=2), lambda tf, x: tf.interpolate(x, scale_factor=2)),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x, 2), lambda tf, x: tf.pixel_shuffle(x, 2)),
    "pixel_unshuffle": (lambda x: F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2),
                        lambda tf, x: tf.pixel_unshuffle(tf.pixel_shuffle(x, 2), 2)),
    "threshold": (lambda x: F.threshold(x, 0.1, 2.0), lambda tf, x: tf.threshold(x, 0.1, 2.0)),
    "hardshrink": (lambda x: F.hardshrink(x, 0.7), lambda tf, x: tf.hardshrink(x, 0.7)),
    "softshrink": (lambda x: F.softshrink(x, 0.7), lambda tf, x: tf.softshrink(x, 0.7)),
    "tanhshrink": (F.tanhshrink, lambda tf, x: tf.tanhshrink(x)),
    "glu": (lambda x: F.glu(x, 1), lambda tf, x: tf.glu(x, 1)),
    "normalize": (lambda x: F.normalize(x, p=3.0, dim=1), lambda tf, x: tf.normalize(x, p=3.0, dim=1)),
}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_forward_and_backward_match_torch(name):
    torch = pytest.importorskip("torch")
    ours, theirs = TORCH[name]
    a = X4.astype(np.float32)
    xs, xt = sd.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ys, yt = ours(xs), theirs(torch.nn.functional, xt)
    assert ys.dtype == sd.float32
    np.testing.assert_allclose(ys.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    w = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    (ys * sd.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_layers_use_the_functional_forms():
    x = sd.tensor(X4.astype(np.float32))
    pairs = [(sd.nn.GroupNorm(4, 8), lambda x: F.group_norm(x, 4)), (sd.nn.Upsample(scale_factor=2),
             lambda x: F.interpolate(x, scale_factor=2)), (sd.nn.PixelShuffle(2), lambda x: F.pixel_shuffle(x, 2)),
             (sd.nn.Threshold(0.2, 5.0), lambda x: F.threshold(x, 0.2, 5.0)),
             (sd.nn.Softshrink(0.4), lambda x: F.softshrink(x, 0.4)), (sd.nn.GLU(1), lambda x: F.glu(x, 1))]
    for layer, fn in pairs:
        np.testing.assert_array_equal(layer(x).numpy(), fn(x).numpy())


def test_bad_input_names_the_function():
    x = sd.ones(1, 3, 2, 2)
    with pytest.raises(ValueError, match="group_norm: num_channels=3 is not divisible by num_groups=2"):
        F.group_norm(x, 2)
    with pytest.raises(ValueError, match="pixel_shuffle: .*upscale_factor\\^2 = 4"):
        F.pixel_shuffle(x, 2)
    with pytest.raises(ValueError, match="pixel_unshuffle"):
        F.pixel_unshuffle(sd.ones(1, 1, 4, 3), 2)
    with pytest.raises(ValueError, match="glu: .*even"):
        F.glu(x, 1)
    with pytest.raises(ValueError, match="interpolate: size"):
        F.interpolate(x, size=(3, 4))


def test_old_import_paths_still_work():
    from shendu.nn.layers import extra

    assert extra.group_norm is F.group_norm and extra.interpolate is F.interpolate
    assert extra.GroupNorm is sd.nn.GroupNorm and extra.Upsample is sd.nn.Upsample
    assert extra.ParameterList is sd.nn.ParameterList and extra.TripletMarginLoss is sd.nn.TripletMarginLoss


def test_nn_functional_does_not_import_nn_layers():
    """DESIGN.md layering: nn.functional sits below nn.layers (issue 22 removed the inverted lazy imports)."""
    root = Path(F.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        nn_level = len(path.relative_to(root).parts) + 1  # "from .." in functional/x.py, "from ..." one deeper
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if (node.level == nn_level and mod.split(".")[0] in ("layers", "losses", "containers")) \
                        or "nn.layers" in mod:
                    offenders.append(f"{path.relative_to(root)}: from {'.' * node.level}{mod}")
    assert not offenders, offenders
