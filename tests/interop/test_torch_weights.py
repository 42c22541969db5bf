"""sd.interop.load_torch_state_dict: torch weights (safetensors or .pt) give the same outputs in shendu."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.interop import StateDictMismatch, load_torch_state_dict

torch = pytest.importorskip("torch")
tnn = torch.nn


def _torch_cnn():
    torch.manual_seed(0)
    m = tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.ReLU(), tnn.MaxPool2d(2),
                       tnn.Flatten(), tnn.Linear(4 * 4 * 4, 5))
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.randn(8, 1, 8, 8) * 2 + 1)  # non-trivial running stats, num_batches_tracked = 3
    return m.eval()


def _sd_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 5)).eval()


@pytest.mark.parametrize("fmt", ["safetensors", "pt", "dict"])
def test_cnn_weights_give_same_outputs(fmt, tmp_path):
    tm = _torch_cnn()
    if fmt == "safetensors":
        from safetensors.torch import save_file
        src = tmp_path / "w.safetensors"
        save_file(tm.state_dict(), str(src))
    elif fmt == "pt":
        src = tmp_path / "w.pt"
        torch.save({"state_dict": tm.state_dict(), "epoch": 3}, str(src))  # a training checkpoint
    else:
        src = tm.state_dict()
    m = _sd_cnn()
    missing, unexpected = load_torch_state_dict(m, src)
    assert missing == [] and unexpected == []
    assert int(m[1].num_batches_tracked.numpy()) == 3
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        ref = tm(torch.from_numpy(x)).numpy()
    with sd.no_grad():
        got = m(sd.tensor(x)).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_weights_and_prefix_stripping(kind, tmp_path):
    torch.manual_seed(1)
    tm = getattr(tnn, kind)(3, 6, num_layers=2, bidirectional=True, batch_first=True)
    state = {"module." + k: v for k, v in tm.state_dict().items()}  # as saved from DataParallel
    from safetensors.torch import save_file
    save_file(state, str(tmp_path / "r.safetensors"))
    m = getattr(nn, kind)(3, 6, num_layers=2, bidirectional=True, batch_first=True)
    load_torch_state_dict(m, tmp_path / "r.safetensors")
    x = np.random.default_rng(1).standard_normal((2, 5, 3)).astype(np.float32)
    with torch.no_grad():
        ty, _ = tm(torch.from_numpy(x))
    with sd.no_grad():
        y, _ = m(sd.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-5, rtol=1e-5)


def test_mismatch_error_lists_every_key():
    tm = tnn.Sequential(tnn.Linear(3, 4), tnn.ReLU(), tnn.Linear(4, 2))
    state = dict(tm.state_dict())
    state["2.extra"] = torch.zeros(1)
    del state["2.bias"]
    m = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(StateDictMismatch) as e:
        load_torch_state_dict(m, state)
    msg = str(e.value)
    assert "missing keys (1): ['2.bias']" in msg and "unexpected keys (1): ['2.extra']" in msg
    assert "0.weight: file (4, 3) vs module (5, 3)" in msg and "2.weight: file (2, 4) vs module (2, 5)" in msg
    m2 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    missing, unexpected = load_torch_state_dict(m2, state, strict=False)
    assert missing == ["2.bias"] and unexpected == ["2.extra"]
    np.testing.assert_array_equal(m2[0].weight.numpy(), tm[0].weight.detach().numpy())


def test_key_map_and_bad_file(tmp_path):
    tm = tnn.Linear(2, 3)
    state = {"fc." + k: v for k, v in tm.state_dict().items()}
    m = nn.Linear(2, 3)
    load_torch_state_dict(m, state, key_map=lambda k: k.removeprefix("fc."))
    np.testing.assert_array_equal(m.bias.numpy(), tm.bias.detach().numpy())
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="could not read"):
        load_torch_state_dict(m, bad)
    with pytest.raises(FileNotFoundError):
        load_torch_state_dict(m, tmp_path / "none.safetensors")
