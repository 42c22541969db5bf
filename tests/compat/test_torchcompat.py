"""The torch -> shendu import alias: module layout under PyTorch's import paths."""
import importlib
import sys

import pytest

import shendu as sd
from shendu import torchcompat


def test_alias_maps_torch_modules_to_shendu_modules():
    with torchcompat.torch_alias():
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim.lr_scheduler as sched
        from torch.nn.modules.conv import Conv2d
        from torch.utils.data import DataLoader

        assert torch is sd and nn is sd.nn and F is sd.nn.functional and sched is sd.optim.lr_scheduler
        assert Conv2d is sd.nn.Conv2d and DataLoader is sd.data.DataLoader
        assert torch.backends.cudnn.enabled and not torch.backends.mps.is_available()
        assert sd.__spec__.name == "shendu"  # shendu keeps its own spec
        with pytest.raises(ModuleNotFoundError, match="shendu has no module shendu.not_a_module"):
            importlib.import_module("torch.not_a_module")
    assert "torch" not in sys.modules or sys.modules["torch"] is not sd  # alias removed, real torch restored
    assert not hasattr(sd, "backends")


@pytest.mark.parametrize("path, names", [
    ("shendu.utils.data", ["Dataset", "TensorDataset", "DataLoader", "Subset", "random_split", "Sampler",
                           "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler",
                           "WeightedRandomSampler", "default_collate", "get_worker_info", "IterableDataset"]),
    ("shendu.utils.data.dataset", ["Dataset", "TensorDataset", "Subset"]),
    ("shendu.utils.data.dataloader", ["DataLoader", "default_collate"]),
    ("shendu.utils.data.sampler", ["RandomSampler", "BatchSampler"]),
    ("shendu.nn.utils", ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]),
    ("shendu.nn.utils.rnn", ["pad_sequence", "pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
                             "PackedSequence"]),
    ("shendu.nn.modules.linear", ["Linear", "Bilinear", "Identity", "LazyLinear"]),
    ("shendu.nn.modules.conv", ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "LazyConv1d", "LazyConv2d"]),
    ("shendu.nn.modules.activation", ["ReLU", "Tanh", "Sigmoid", "Softmax", "LeakyReLU", "GELU"]),
    ("shendu.nn.modules.loss", ["MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]),
    ("shendu.nn.modules.rnn", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]),
    ("shendu.nn.modules.pooling", ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]),
    ("shendu.nn.modules.batchnorm", ["BatchNorm1d", "BatchNorm2d"]),
    ("shendu.nn.modules.dropout", ["Dropout", "Dropout2d"]),
    ("shendu.nn.modules.container", ["Sequential", "ModuleList", "ModuleDict"]),
    ("shendu.nn.modules.sparse", ["Embedding"]),
    ("shendu.nn.modules.module", ["Module"]),
    ("shendu.accelerator", ["is_available", "current_accelerator", "device_count"]),
    ("shendu.serialization", ["safe_globals", "add_safe_globals"]),
    ("shendu.onnx", ["export"]),
])
def test_torch_module_paths_exist_with_torch_names(path, names):
    torch = pytest.importorskip("torch")
    mod = importlib.import_module(path)
    tmod = importlib.import_module("torch" + path[len("shendu"):])
    for n in names:
        assert hasattr(tmod, n), f"{n} is not a torch name"
        assert hasattr(mod, n), f"{path}.{n} missing"
    assert torch is not None


def test_nn_modules_classes_are_the_nn_classes():
    from shendu.nn.modules.conv import Conv2d
    from shendu.nn.modules.rnn import LSTM

    assert Conv2d is sd.nn.Conv2d and LSTM is sd.nn.LSTM and sd.nn.modules.Linear is sd.nn.Linear


def test_accelerator_agrees_with_cuda():
    assert sd.accelerator.is_available() == sd.cuda.is_available()
    assert sd.accelerator.device_count() == sd.cuda.device_count()
    acc = sd.accelerator.current_accelerator()
    assert (acc is None) == (not sd.cuda.is_available())
    if acc is not None:
        assert acc.type == "cuda"


def test_onnx_export_writes_a_file(tmp_path):
    """torch.onnx.export's call form works (issue 21; round trips in tests/interop/test_onnx.py)."""
    pytest.importorskip("onnx")
    sd.onnx.export(sd.nn.Linear(2, 2), sd.zeros(1, 2), str(tmp_path / "m.onnx"))
    assert (tmp_path / "m.onnx").stat().st_size > 0


def test_safe_globals_is_a_harmless_context_manager(tmp_path):
    path = str(tmp_path / "w.safetensors")
    sd.save({"w": sd.ones(2)}, path)
    with sd.serialization.safe_globals([dict]):
        out = sd.load(path)
    assert out["w"].tolist() == [1.0, 1.0]


def test_torch_compile_runs_a_program_under_the_alias():
    """``model = torch.compile(model)`` (PyTorch 2 tutorials): sd.compile, replayed after two calls, learning as the
    same program without it."""
    runs = []
    for use_compile in (False, True):
        with torchcompat.torch_alias():
            import torch
            import torch.nn.functional as F

            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
            if use_compile:
                model = torch.compile(model)
            opt = torch.optim.SGD(model.parameters(), lr=0.5)
            x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
            losses = []
            for _ in range(20):
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
        runs.append(losses)
    assert type(model).__name__ == "OptimizedModule"
    assert type(model(x).grad_fn).__name__ == "_Replayed"
    assert runs[1] == pytest.approx(runs[0], rel=1e-6)
    assert runs[1][-1] < runs[1][0]
