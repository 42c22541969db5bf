"""Layer parts shared after issue 22: weight/bias creation of the affine and convolution layers, the
Transformer layers' common sublayers (PyTorch's names and order), the pooling layers' repr, the losses'
``weight``."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn

LAYERS = {
    "Linear": (lambda bias, dt: nn.Linear(4, 3, bias=bias, dtype=dt), (3, 4), (3,)),
    "Bilinear": (lambda bias, dt: nn.Bilinear(4, 2, 3, bias=bias, dtype=dt), (3, 4, 2), (3,)),
    "Conv2d": (lambda bias, dt: nn.Conv2d(4, 6, 3, groups=2, bias=bias, dtype=dt), (6, 2, 3, 3), (6,)),
    "ConvTranspose2d": (lambda bias, dt: nn.ConvTranspose2d(4, 6, 3, groups=2, bias=bias, dtype=dt), (4, 3, 3, 3),
                        (6,)),
    "LocallyConnected2d": (lambda bias, dt: nn.LocallyConnected2d(2, 3, (5, 5), 3, bias=bias, dtype=dt),
                           (3, 3, 3, 2, 3, 3), (3, 3, 3)),
    "TiledConv2d": (lambda bias, dt: nn.TiledConv2d(2, 3, (5, 5), 3, tile_size=2, bias=bias, dtype=dt),
                    (3, 2, 2, 2, 3, 3), (3,)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_weight_and_bias_shapes_dtype_init_and_no_bias(name):
    make, w_shape, b_shape = LAYERS[name]
    sd.manual_seed(0)
    m = make(True, sd.float64)
    assert tuple(m.weight.shape) == w_shape and tuple(m.bias.shape) == b_shape
    assert m.weight.numpy().dtype == np.float64 and m.bias.numpy().dtype == np.float64
    assert [k for k, _ in m.named_parameters()] == ["weight", "bias"]
    w, b = m.weight.numpy(), m.bias.numpy()
    assert np.all(np.isfinite(w)) and np.abs(w).max() > 0 and np.abs(b).max() > 0  # initialized, not empty
    m = make(False, None)
    assert m.bias is None and m.weight.numpy().dtype == np.float32
    assert list(m.state_dict()) == ["weight"]


def test_transformer_layers_register_pytorchs_sublayers_in_order():
    enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    dec = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
    assert [n for n, _ in enc.named_children()] == ["self_attn", "linear1", "dropout", "linear2", "norm1", "norm2",
                                                    "dropout1", "dropout2"]
    assert [n for n, _ in dec.named_children()] == ["self_attn", "multihead_attn", "linear1", "dropout", "linear2",
                                                    "norm1", "norm2", "norm3", "dropout1", "dropout2", "dropout3"]
    torch = pytest.importorskip("torch")
    te = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    td = torch.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
    assert list(enc.state_dict()) == list(te.state_dict())
    assert list(dec.state_dict()) == list(td.state_dict())
    with pytest.raises(RuntimeError, match="TransformerDecoderLayer: activation should be relu/gelu"):
        nn.TransformerDecoderLayer(8, 2, activation="tanh")


def test_pool_layers_repr_and_loss_weight():
    assert repr(nn.MaxPool2d(2, 1, 1)) == "MaxPool2d(kernel_size=2, stride=1, padding=1)"
    assert repr(nn.AvgPool1d(3, padding="same")) == "AvgPool1d(kernel_size=3, stride=None, padding='same')"
    w = sd.tensor([1.0, 2.0, 3.0])
    for loss in (nn.CrossEntropyLoss(w), nn.NLLLoss(w), nn.BCELoss(w), nn.BCEWithLogitsLoss(w),
                 nn.MultiLabelSoftMarginLoss(w), nn.MultiMarginLoss(weight=w)):
        assert loss.weight is w and loss.reduction == "mean"
    x = sd.tensor([[0.2, 1.0, -0.5], [1.5, 0.1, 0.3]])
    y = sd.tensor([2, 0])
    # weighted mean: sum_i w_{y_i} l_i / sum_i w_{y_i}
    logp = x.numpy() - np.log(np.exp(x.numpy()).sum(1, keepdims=True))
    want = -(3.0 * logp[0, 2] + 1.0 * logp[1, 0]) / 4.0
    np.testing.assert_allclose(nn.CrossEntropyLoss(w)(x, y).numpy(), want, rtol=1e-6)
    with pytest.raises(ValueError, match="BCELoss: reduction must be"):
        nn.BCELoss(w, reduction="avg")
