"""Issue 22 split large nn/keras files by concept: every public name of the old modules is still importable from
its old path (and is the same object as the one in the new home), and no file of the split exceeds ~300 lines."""
import importlib
from pathlib import Path

import pytest

import shendu as sd

OLD = {  # the public names each module had before the split
    "shendu.nn.functional.loss": [
        "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "gaussian_nll_loss",
        "gaussian_nll_precision", "hinge_embedding_loss", "hinge_loss", "huber_loss", "kl_div", "l1_loss", "lp_loss",
        "margin_ranking_loss", "mdn_nll", "mse_loss", "multi_margin_loss", "multilabel_soft_margin_loss", "nll_loss",
        "quadratic_cost", "sigmoid_cross_entropy", "smooth_l1_loss", "soft_margin_loss",
        "_reduce", "_as_target", "_CrossEntropyIdx"],  # private names nn.functional.distance and tests use
    "shendu.nn.layers.extra": [
        "ConstantPad1d", "ConstantPad2d", "CosineEmbeddingLoss", "CosineSimilarity", "Fold", "GLU", "GroupNorm",
        "Hardshrink", "PairwiseDistance", "ParameterDict", "ParameterList", "PixelShuffle", "PixelUnshuffle",
        "Softmax2d", "Softshrink", "Tanhshrink", "Threshold", "TripletMarginLoss", "Unfold", "Upsample", "ZeroPad1d",
        "ZeroPad2d", "group_norm", "interpolate", "pixel_shuffle", "pixel_unshuffle", "threshold"],
    "shendu.keras.layers": ["Activation", "BatchNormalization", "Dense", "Dropout", "Flatten", "Input", "KerasTensor",
                            "Layer", "_shape_str"],
    "shendu.nn.distributions": ["Bernoulli", "Categorical", "Distribution", "DistributionHead", "MultivariateNormal",
                                "Normal", "ReferenceClassLinear", "kl_divergence", "reference_class_logits"],
    "shendu.nn.layers.moe": ["Cascade", "ConditionalBlockDropout", "MixtureOfExperts", "recall_threshold"],
    "shendu.nn.layers.transformer": ["MultiheadAttention", "Transformer", "TransformerDecoder",
                                     "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer"],
    "shendu.nn.module": ["Module"],
}


@pytest.mark.parametrize("module", sorted(OLD))
def test_old_import_paths_keep_every_name(module):
    mod = importlib.import_module(module)
    missing = [n for n in OLD[module] if not hasattr(mod, n)]
    assert not missing, f"{module} lost {missing}"


def test_old_and_new_paths_give_the_same_objects():
    from shendu.nn.functional import loss
    from shendu.nn.functional.loss import categorical, regression
    from shendu.nn.layers import moe, transformer

    assert loss.cross_entropy is categorical.cross_entropy is sd.nn.functional.cross_entropy
    assert callable(loss.cross_entropy) and loss.mse_loss is regression.mse_loss
    assert moe.Cascade is sd.nn.Cascade and transformer.MultiheadAttention is sd.nn.MultiheadAttention
    assert sd.keras.layers.Dense is sd.keras.Dense and sd.nn.distributions.Normal.__module__.startswith(
        "shendu.nn.distributions")


def test_module_is_one_class_with_state_and_device_methods():
    m = sd.nn.Linear(2, 3)
    assert isinstance(m, sd.nn.Module)
    for name in ("state_dict", "load_state_dict", "to", "cpu", "cuda", "double", "float", "half", "bfloat16",
                 "parameters", "named_modules", "register_forward_hook", "train", "eval", "zero_grad"):
        assert callable(getattr(m, name)), name
    sd_ = m.state_dict()
    assert list(sd_) == ["weight", "bias"]
    m.double()
    assert m.weight.dtype == sd.float64
    m.load_state_dict(sd_)  # float32 values copied into the float64 parameters
    assert m.weight.dtype == sd.float64


SPLIT = ["nn/functional/loss", "nn/functional/group_norm.py", "nn/functional/resample.py", "nn/functional/shrink.py",
         "nn/layers/extra.py", "nn/layers/param_containers.py", "nn/layers/group_norm.py", "nn/layers/distance.py",
         "nn/layers/shrink.py", "nn/layers/resample.py", "keras/layers", "nn/module.py", "nn/_module_state.py",
         "nn/_module_device.py", "nn/distributions", "nn/layers/moe.py", "nn/layers/cascade.py",
         "nn/layers/conditional.py", "nn/layers/transformer.py", "nn/layers/multihead_attention.py"]


def test_split_files_are_short_and_documented():
    root = Path(sd.__file__).parent
    for rel in SPLIT:
        path = root / rel
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            text = f.read_text()
            assert len(text.splitlines()) <= 300, f"{f} has {len(text.splitlines())} lines"
            assert text.startswith('"""'), f"{f} has no module docstring"
