"""sd.onnx.export: the written file, run in onnxruntime, gives shendu's outputs (atol 1e-5)."""
import io

import numpy as np
import pytest

import shendu as sd
from shendu import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _warm_bn(model, x):
    """A few train-mode passes so BatchNorm running statistics are not the trivial (0, 1)."""
    model.train()
    with sd.no_grad():
        for _ in range(3):
            model(x)
    model.eval()


def _check(model, x_np, tmp_path, atol=1e-5, **kw):
    path = tmp_path / "m.onnx"
    x = sd.tensor(x_np)
    sd.onnx.export(model, x, str(path), **kw)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x_np})
    model.eval()
    with sd.no_grad():
        ref = model(x)
    refs = [ref] if isinstance(ref, sd.Tensor) else [ref[0]] + (list(ref[1]) if isinstance(ref[1], tuple) else [ref[1]])
    assert len(got) == len(refs)
    for a, b in zip(got, refs):
        np.testing.assert_allclose(a, b.numpy(), atol=atol, rtol=1e-5)
    return sess


def test_mlp_with_activations(tmp_path):
    m = nn.Sequential(
        nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 16), nn.Sigmoid(),
        nn.Linear(16, 16), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.SELU(), nn.GELU(), nn.GELU("tanh"), nn.SiLU(),
        nn.Softplus(beta=2.0), nn.Mish(), nn.Hardtanh(-0.5, 0.5), nn.ReLU6(), nn.Hardsigmoid(), nn.Hardswish(),
        nn.LogSigmoid(), nn.Softsign(), nn.PReLU(), nn.Linear(16, 5), nn.LogSoftmax(-1))
    _check(m, _rand(7, 6), tmp_path)
    m2 = nn.Sequential(nn.Linear(6, 4), nn.Dropout(0.5, mode="weight_scaling"), nn.Softmin(-1))
    _check(m2, _rand(3, 6), tmp_path)


def test_dense_and_3d_linear(tmp_path):
    m = nn.Sequential(nn.Dense(5, 8, activation="relu"), nn.Linear(8, 3), nn.Softmax(dim=-1))
    _check(m, _rand(2, 4, 5), tmp_path)  # (B, T, F): MatMul + Add path


def test_conv_pool_bn_layers(tmp_path):
    m = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding="same"), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(3, 2, padding="same"),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, dilation=1, groups=2), nn.PReLU(8),
        nn.Conv2d(8, 6, 2, dilation=2, flip_kernel=True), nn.AvgPool2d(2, ceil_mode=True),
        nn.Conv2d(6, 6, 1), nn.AvgPool2d(3, 1, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4))
    x = _rand(4, 3, 15, 15)
    _warm_bn(m, sd.tensor(x))
    _check(m, x, tmp_path)


def test_conv1d_and_maxpool_ceil(tmp_path):
    m = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.MaxPool1d(2, ceil_mode=True), nn.ReLU(),
                      nn.Conv1d(4, 3, 3, padding="same"), nn.AvgPool1d(2, padding="same"), nn.Flatten(),
                      nn.Linear(3 * 2, 2))
    x = _rand(3, 2, 7)
    _warm_bn(m, sd.tensor(x))
    _check(m, x, tmp_path)


@pytest.mark.parametrize("name", ["LeNet5", "CifarCNN", "VGG", "ResNet"])
def test_model_zoo_round_trip_dynamic_batch(name, tmp_path):
    sd.manual_seed(1)
    model, shape = {
        "LeNet5": (lambda: sd.models.LeNet5(), (3, 1, 28, 28)),
        "CifarCNN": (lambda: sd.models.CifarCNN(channels=8), (3, 3, 24, 24)),
        "VGG": (lambda: sd.models.vgg_small(), (3, 3, 32, 32)),
        "ResNet": (lambda: sd.models.resnet_cifar(8), (3, 3, 16, 16)),
    }[name]
    model = model()
    x = _rand(*shape)
    _warm_bn(model, sd.tensor(x))
    sess = _check(model, x, tmp_path, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    assert sess.get_inputs()[0].shape[0] == "batch"
    x5 = _rand(5, *shape[1:], seed=3)  # another batch size through the same file
    with sd.no_grad():
        ref = model(sd.tensor(x5)).numpy()
    np.testing.assert_allclose(sess.run(None, {"input": x5})[0], ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True, "batch_first": True}])
def test_recurrent_layers(mode, kw, tmp_path):
    m = getattr(nn, mode)(3, 5, **kw)
    sess = _check(m, _rand(4, 2, 3), tmp_path, output_names=["y", "h_n"] + (["c_n"] if mode == "LSTM" else []))
    assert [o.name for o in sess.get_outputs()][:2] == ["y", "h_n"]


def test_rnn_relu_and_gru_reset_before(tmp_path):
    _check(nn.RNN(3, 4, nonlinearity="relu"), _rand(5, 2, 3), tmp_path)
    _check(nn.GRU(3, 4, reset_after=False, bias=False), _rand(5, 2, 3), tmp_path)
    _check(nn.GRU(3, 4, reset_after=False), _rand(5, 2, 3), tmp_path)  # the book's GRU = linear_before_reset=0
    with pytest.raises(ValueError, match="peepholes"):
        sd.onnx.export(nn.LSTM(3, 4, peephole=True), sd.tensor(_rand(5, 2, 3)), tmp_path / "p.onnx")


def test_embedding_int64_input(tmp_path):
    m = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    ids = np.array([[1, 2, 9], [0, 0, 5]], dtype=np.int64)
    path = tmp_path / "e.onnx"
    sd.onnx.export(m, sd.tensor(ids), path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with sd.no_grad():
        ref = m(sd.tensor(ids)).numpy()
    np.testing.assert_allclose(sess.run(None, {"input": ids})[0], ref, atol=1e-5)


def test_file_object_eval_mode_and_names(tmp_path):
    m = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3), nn.Dropout(0.9))
    m.train()
    buf = io.BytesIO()
    proto = sd.onnx.export(m, sd.tensor(_rand(4, 3)), buf, input_names=["x"], output_names=["y"])
    assert m.training and all(c.training for c in m.children())  # the mode is restored
    loaded = onnx.load_from_string(buf.getvalue())
    assert loaded.graph.input[0].name == "x" and loaded.graph.output[0].name == "y"
    assert [o.domain for o in proto.opset_import] == [""] and proto.opset_import[0].version == 17
    ops = [n.op_type for n in loaded.graph.node]
    assert "Gemm" in ops and "BatchNormalization" in ops and "Dropout" not in ops


def test_unsupported_module_error(tmp_path):
    class Odd(nn.Module):
        def forward(self, x):
            return x * 2

    with pytest.raises(ValueError, match=r"no ONNX converter for Odd at 1"):
        sd.onnx.export(nn.Sequential(nn.Linear(2, 2), Odd()), sd.tensor(_rand(1, 2)), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
    with pytest.raises(ValueError, match="return_indices"):
        sd.onnx.export(nn.MaxPool2d(2, return_indices=True), sd.tensor(_rand(1, 1, 4, 4)), tmp_path / "x.onnx")
    with pytest.raises(TypeError, match="example input"):
        sd.onnx.export(nn.Linear(2, 2), None, tmp_path / "x.onnx")


class _Double(nn.Module):
    def forward(self, x):
        return x * 2


def _double_converter(g, m, name, x):
    return g.node("Mul", [name, g.const("two", np.asarray(2.0, np.float32))]), m(x)


def test_register_converter(tmp_path):
    sd.onnx.register_converter(_Double)(_double_converter)
    _check(nn.Sequential(nn.Linear(2, 3), _Double()), _rand(2, 2), tmp_path)


def test_register_converter_before_the_first_export_keeps_the_builtins(tmp_path):
    """With an empty registry (a fresh process), registering one's own converter first still leaves the
    built-in layers exportable (the registry used to be found non-empty and the built-ins never installed)."""
    from shendu.onnx import exporter, graph

    saved, installed = dict(graph._CONVERTERS), exporter._INSTALLED[0]
    graph._CONVERTERS.clear()
    exporter._INSTALLED[0] = False
    try:
        sd.onnx.register_converter(_Double)(_double_converter)
        _check(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), _Double()), _rand(2, 2), tmp_path)
    finally:
        graph._CONVERTERS.clear()
        graph._CONVERTERS.update(saved)
        exporter._INSTALLED[0] = installed
