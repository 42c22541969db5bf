"""sd.save / sd.load: round trips, plain safetensors compatibility, atomic writes, corrupted files."""
import os
import subprocess
import sys

import numpy as np
import pytest

import shendu as sd
from shendu.serialization import CheckpointError, load, save


def _tree():
    return {
        "model": {"fc.weight": sd.randn(3, 4), "fc.bias": sd.zeros(4), "bn.count": sd.tensor(np.int64(7))},
        "optimizer": {"state": {0: {"m": np.arange(6, dtype=np.float64).reshape(2, 3), "step": 5}},
                      "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "nesterov": False, "name": None}]},
        "epoch": 3, "best": float("inf"), "nan": float("nan"),
        "mask": np.array([True, False]), "half": np.ones(2, np.float16), "empty": np.zeros((0, 3), np.float32),
        "rng": np.random.default_rng(1).bit_generator.state,
    }


def test_round_trip_keeps_structure_types_and_values(tmp_path):
    tree = _tree()
    save(tree, tmp_path / "c.safetensors")
    back = load(tmp_path / "c.safetensors")
    assert isinstance(back["model"]["fc.weight"], sd.Tensor)
    np.testing.assert_array_equal(back["model"]["fc.weight"].numpy(), tree["model"]["fc.weight"].numpy())
    assert back["model"]["fc.weight"].dtype == np.float32 and back["model"]["bn.count"].dtype == np.int64
    assert back["model"]["bn.count"].shape == ()
    m = back["optimizer"]["state"][0]["m"]
    assert isinstance(m, np.ndarray) and m.dtype == np.float64
    np.testing.assert_array_equal(m, tree["optimizer"]["state"][0]["m"])
    assert back["optimizer"]["state"][0]["step"] == 5
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["optimizer"]["param_groups"][0]["name"] is None
    assert back["epoch"] == 3 and back["best"] == float("inf") and np.isnan(back["nan"])
    assert back["mask"].dtype == np.bool_ and back["half"].dtype == np.float16 and back["empty"].shape == (0, 3)
    g = np.random.default_rng()
    g.bit_generator.state = back["rng"]
    assert g.random() == np.random.default_rng(1).random()


def test_tensor_holding_a_numpy_scalar(tmp_path):
    t = sd.tensor(0)
    t._data = np.int64(5)  # what `t._data += 1` on a 0-d buffer can leave behind
    save({"n": t}, tmp_path / "n.safetensors")
    back = load(tmp_path / "n.safetensors")["n"]
    assert back.shape == () and back.dtype == np.int64 and back.item() == 5


def test_state_dict_file_is_plain_safetensors_with_own_names(tmp_path):
    from safetensors.numpy import load_file

    sd.manual_seed(0)
    state = {"layer.weight": sd.randn(2, 2), "layer.bias": sd.randn(2)}
    save(state, tmp_path / "w.safetensors")
    raw = load_file(str(tmp_path / "w.safetensors"))
    assert set(raw) == {"layer.weight", "layer.bias"}
    np.testing.assert_array_equal(raw["layer.bias"], state["layer.bias"].numpy())


def test_loads_foreign_safetensors_state_dict(tmp_path):
    from safetensors.numpy import save_file

    save_file({"a": np.ones((2, 2), np.float32), "b": np.arange(3)}, str(tmp_path / "f.safetensors"))
    back = load(tmp_path / "f.safetensors")
    assert set(back) == {"a", "b"} and isinstance(back["a"], sd.Tensor)
    np.testing.assert_array_equal(back["b"].numpy(), np.arange(3))


def test_module_state_dict_round_trip_into_module(tmp_path):
    from tests.train.helpers import MLP

    sd.manual_seed(0)
    a, b = MLP(4, 5, 3), MLP(4, 5, 3)
    save(a.state_dict(), tmp_path / "m.safetensors")
    b.load_state_dict(load(tmp_path / "m.safetensors"))
    for (ka, pa), (kb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())


@pytest.mark.parametrize("bad", [lambda: 0, object(), {1.5j: 1}, {(1, 2): 3}, np.array(["a"])])
def test_refuses_objects_that_would_need_pickle(tmp_path, bad):
    with pytest.raises(TypeError, match="sd.save"):
        save({"x": bad}, tmp_path / "x.safetensors")
    assert not os.listdir(tmp_path)


def test_refuses_module_itself(tmp_path):
    from tests.train.helpers import MLP

    with pytest.raises(TypeError, match="state_dict"):
        save(MLP(2, 2, 2), tmp_path / "m.safetensors")


def test_truncated_file_gives_clear_error(tmp_path):
    p = tmp_path / "c.safetensors"
    save(_tree(), p)
    data = p.read_bytes()
    for cut in (4, 20, len(data) // 2, len(data) - 1):
        p.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated|corrupted"):
            load(p)


def test_flipped_data_byte_is_detected(tmp_path):
    p = tmp_path / "c.safetensors"
    save({"w": np.arange(100, dtype=np.float32)}, p)
    data = bytearray(p.read_bytes())
    data[-10] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load(p)


def test_garbage_pickle_and_missing_files(tmp_path):
    import pickle

    p = tmp_path / "evil.pkl"
    p.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError):
        load(p)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="map_location"):
        load(p, map_location="tpu")
    with pytest.raises(ValueError, match="map_location"):
        load(p, map_location=lambda storage, loc: storage)  # no callables: nothing in a file picks code to run


def test_failed_save_keeps_previous_file_and_leaves_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "c.safetensors"
    save({"w": np.zeros(3, np.float32)}, p)

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        save({"w": np.ones(3, np.float32)}, p)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["c.safetensors"]
    np.testing.assert_array_equal(load(p)["w"], np.zeros(3))


def test_crash_mid_save_in_a_child_process_keeps_previous_checkpoint(tmp_path):
    """The child dies (os._exit, no cleanup) after writing the temp file, before the rename."""
    p = tmp_path / "c.safetensors"
    save({"w": np.zeros(1000, np.float32)}, p)
    code = f"""
import os, numpy as np
import shendu.serialization as s
os.replace = lambda *a: os._exit(9)
s.save({{"w": np.ones(1000, np.float32)}}, {str(p)!r})
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert r.returncode == 9
    np.testing.assert_array_equal(load(p)["w"], np.zeros(1000))


def test_single_tensor_and_list_roots(tmp_path):
    t = sd.arange(6).reshape(2, 3)
    save(t, str(tmp_path / "t.safetensors"))
    back = load(str(tmp_path / "t.safetensors"))
    assert isinstance(back, sd.Tensor) and back.shape == (2, 3) and back.numpy().tolist() == [[0, 1, 2], [3, 4, 5]]
    save([t, {"a": 1}], tmp_path / "l.safetensors")
    lst = load(tmp_path / "l.safetensors")
    assert isinstance(lst, list) and lst[1] == {"a": 1} and lst[0].shape == (2, 3)
