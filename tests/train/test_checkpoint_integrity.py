"""Checkpoint integrity (issue 13): the SHA-256 covers the whole header, the header is checked against a schema,
saves that could not be loaded back are refused, stale temp files are removed, bad state gives named errors,
resume is bit-exact with random transforms, and `sd.save`/`sd.load` take binary file objects."""
import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import shendu as sd
from shendu.backend import device_of, to_host
from shendu.serialization import CheckpointError, load, save
from shendu.train import ModelCheckpoint, fit
from tests.train.helpers import MLP, SGD, cross_entropy, digits

V1_FILE = Path(__file__).parent / "fixtures" / "checkpoint_v1.safetensors"  # written by shendu before format 2


def _small():
    sd.manual_seed(0)
    return {"kind": "shendu-training-state", "model": {"w": sd.randn(2, 3), "b": sd.zeros(3)}, "epoch": 1,
            "global_step": 7, "optimizer": {"state": {0: {"buf": np.arange(3, dtype=np.float64)}},
                                            "param_groups": [{"lr": 1e-05, "betas": (0.9, 0.999)}]},
            "best": float("inf"), "note": "run-1"}


def _same(a, b):
    """Equal values, types, dtypes and key order (bitwise for arrays)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, sd.Tensor):
        a, b = to_host(a._data), to_host(b._data)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    return a == b


def _bytes(obj):
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def test_every_single_bit_flip_in_the_header_loads_identical_data_or_raises_checkpoint_error():
    """Each of the 8 bits of each of the 848 header bytes (length field included) of a small training-state file.

    With format 1 (SHA-256 of the tensor bytes only), on this tree: of 6784 flips 1237 loaded different data
    silently, 265 raised a bare KeyError, 18 another ValueError, 131 loaded identical data, 5133 raised
    CheckpointError. Now: 6783 raise CheckpointError and 1 loads identical data ('1e-05' read as '1E-05')."""
    blob = _bytes(_small())
    ref = load(io.BytesIO(blob))
    (n,) = struct.unpack("<Q", blob[:8])
    outcomes = {"identical": 0, "CheckpointError": 0}
    for i in range(8 + n):
        for bit in range(8):
            bad = bytearray(blob)
            bad[i] ^= 1 << bit
            try:
                got = load(io.BytesIO(bytes(bad)))
            except CheckpointError:
                outcomes["CheckpointError"] += 1
                continue
            assert _same(got, ref), f"byte {i} bit {bit} loaded different data"
            outcomes["identical"] += 1
    assert outcomes["identical"] + outcomes["CheckpointError"] == 8 * (8 + n) and outcomes["identical"] <= 8, outcomes


def test_truncated_at_every_length_is_a_checkpoint_error(tmp_path):
    blob = _bytes(_small())
    for cut in range(len(blob)):
        with pytest.raises(CheckpointError, match="truncated|corrupted|header"):
            load(io.BytesIO(blob[:cut]))
    p = tmp_path / "c.safetensors"
    p.write_bytes(blob[:-1])
    with pytest.raises(CheckpointError, match=f"{p.name}.*truncated"):
        load(p)


def test_previous_format_still_loads():
    back = load(V1_FILE)
    assert back["epoch"] == 3 and back["best"] == float("inf") and back["note"] == "v1"
    np.testing.assert_array_equal(back["model"]["fc.weight"].numpy(), np.arange(12, dtype=np.float32).reshape(3, 4) / 8)
    assert back["model"]["count"].dtype == np.int64 and back["model"]["count"].item() == 7
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(back["optimizer"]["state"][0]["m"], np.arange(6.0).reshape(2, 3))
    data = bytearray(V1_FILE.read_bytes())
    data[-1] ^= 1  # tensor bytes of the old format stay covered
    with pytest.raises(CheckpointError, match="SHA-256"):
        load(io.BytesIO(bytes(data)))


# ----------------------------------------------------------------------------- malformed headers
def _raw(header, data=b""):
    hb = json.dumps(header).encode()
    return struct.pack("<Q", len(hb)) + hb + data


def _entry(dtype="F32", shape=(2,), offs=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offs)}


def _v1(tree, arrays):
    """A file in the previous format (metadata not covered by the SHA-256), for checks of the tree schema."""
    import hashlib

    from safetensors.numpy import save as st_save

    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode() + arrays[name].tobytes())
    meta = {"format": "shendu-checkpoint", "version": 1, "tree": tree, "sha256": h.hexdigest()}
    return st_save(arrays, metadata={"shendu": json.dumps(meta)})


def _deep(n):
    node = 1
    for _ in range(n):
        node = [node]
    return node


MALFORMED = {
    "not a JSON object": (_raw([1, 2]), "not a JSON object"),
    "invalid UTF-8": (struct.pack("<Q", 2) + b"\xff\xfe", "corrupted header"),
    "huge header length": (struct.pack("<Q", 2**62) + b"{}", "header length"),
    "unknown dtype": (_raw({"x": _entry(dtype="F8")}, bytes(8)), "unknown dtype 'F8'"),
    "dtype not a string": (_raw({"x": _entry(dtype=3)}, bytes(8)), "unknown dtype 3"),
    "negative dim": (_raw({"x": _entry(shape=(-2,))}, bytes(8)), "shape"),
    "bool dim": (_raw({"x": _entry(shape=(True,), offs=(0, 4))}, bytes(4)), "shape"),
    "shape not a list": (_raw({"x": {**_entry(), "shape": "2"}}, bytes(8)), "shape"),
    "too many dims": (_raw({"x": _entry(shape=(1,) * 65, offs=(0, 4))}, bytes(4)), "at most 64"),
    "shape vs bytes": (_raw({"x": _entry(shape=(3,))}, bytes(8)), "needs 12 bytes"),
    "float offsets": (_raw({"x": _entry(offs=(0.0, 8.0))}, bytes(8)), "data_offsets"),
    "reversed offsets": (_raw({"x": _entry(offs=(8, 0))}, bytes(8)), "data_offsets"),
    "three offsets": (_raw({"x": _entry(offs=(0, 4, 8))}, bytes(8)), "data_offsets"),
    "overlap": (_raw({"x": _entry(), "y": _entry(offs=(4, 12))}, bytes(12)), "overlap or leave a gap"),
    "offsets past the end": (_raw({"x": _entry(offs=(0, 8))}, bytes(4)), "truncated"),
    "trailing bytes": (_raw({"x": _entry()}, bytes(12)), "4 bytes after"),
    "missing field": (_raw({"x": {"dtype": "F32", "shape": [2]}}, bytes(8)), "exactly"),
    "extra field": (_raw({"x": {**_entry(), "code": "import os"}}, bytes(8)), "exactly"),
    "entry not a dict": (_raw({"x": [1]}), "exactly"),
    "metadata not str->str": (_raw({"__metadata__": {"shendu": 1}}), "strings to strings"),
    "damaged metadata key": (_raw({"__metadata__": {"shendU": '{"format": "shendu-checkpoint"}'}}),
                             "expected 'shendu'"),
    "metadata not JSON": (_raw({"__metadata__": {"shendu": "{"}}), "corrupted metadata"),
    "unknown format": (_raw({"__metadata__": {"shendu": '{"format": "other"}'}}), "unknown metadata"),
    "newer version": (_raw({"__metadata__": {"shendu": '{"format": "shendu-checkpoint", "version": 9}'}}),
                      "newer shendu"),
    "bool version": (_raw({"__metadata__": {"shendu": '{"format": "shendu-checkpoint", "version": true}'}}),
                     "version True"),
    "no sha256": (_raw({"__metadata__": {"shendu": '{"format": "shendu-checkpoint", "version": 2, "tree": 1}'}}),
                  "sha256"),
    "wrong sha256": (_raw({"__metadata__": {"shendu": json.dumps(
        {"format": "shendu-checkpoint", "version": 2, "tree": 1, "sha256": "0" * 64})}}), "SHA-256"),
    "header nested 100000 deep": (_raw({"__metadata__": {"shendu": "[" * 100000 + "]" * 100000}}), "nested"),
    "tree nested 300 deep": (_v1(_deep(300), {}), "nested deeper than 100"),
    "missing tensor": (_v1({"__array__": "nope", "kind": "tensor"}, {}), "'nope', which the file does not hold"),
    "bad array kind": (_v1({"__array__": "a", "kind": "pickle"}, {"a": np.ones(1)}), "kind"),
    "bad __float__": (_v1({"__float__": "1e999999"}, {}), "__float__"),
    "bad __dict__ item": (_v1({"__dict__": [[[1], 2]]}, {}), "key, value"),
    "bad __tuple__": (_v1({"__tuple__": 3}, {}), "__tuple__"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_each_malformed_header_is_a_checkpoint_error_naming_file_and_fault(tmp_path, case):
    blob, fault = MALFORMED[case]
    p = tmp_path / "bad.safetensors"
    p.write_bytes(blob)
    with pytest.raises(CheckpointError) as e:
        load(p)
    assert str(p) in str(e.value) and fault in str(e.value), str(e.value)


def test_bfloat16_from_other_tools_loads_as_bfloat16():
    x = np.array([1.5, -2.0, 3.25], np.float32)
    bf16 = (x.view(np.uint32) >> 16).astype("<u2").tobytes()  # the top half of each float32 (exact here)
    back = load(io.BytesIO(_raw({"x": _entry("BF16", (3,), (0, 6))}, bf16)))
    assert back["x"].dtype == sd.bfloat16
    np.testing.assert_array_equal(back["x"].numpy().astype(np.float32), x)


def test_bfloat16_tensors_and_models_round_trip(tmp_path):
    """A bfloat16 model saves as safetensors BF16 and loads back bit for bit; a float32 model takes its weights."""
    from shendu import nn

    m = nn.Linear(3, 2).bfloat16()
    save(m.state_dict(), tmp_path / "bf16.safetensors")
    back = load(tmp_path / "bf16.safetensors")
    for k, v in m.state_dict().items():
        assert back[k].dtype == sd.bfloat16
        np.testing.assert_array_equal(back[k].numpy().view(np.uint16), v.numpy().view(np.uint16))
    f32 = nn.Linear(3, 2)
    f32.load_state_dict(back)
    assert f32.weight.dtype == np.float32
    np.testing.assert_array_equal(f32.weight.numpy(), m.weight.numpy().astype(np.float32))


# ----------------------------------------------------------------------------- save-time refusals
def test_big_endian_arrays_are_stored_little_endian_and_load_back(tmp_path):
    be = np.arange(6, dtype=">f4").reshape(2, 3)
    save({"a": be, "b": np.array([1, -2], ">i8")}, tmp_path / "c.safetensors")
    back = load(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(back["a"], be)
    assert back["a"].dtype == np.float32 and back["b"].tolist() == [1, -2]


@pytest.mark.parametrize("bad, err, match", [
    ({"__metadata__": np.ones(2)}, ValueError, "'__metadata__'"),
    ({"t": np.array(["2020-01-01"], "datetime64[D]")}, TypeError, "datetime64.*int64"),
    ({"t": np.array([1], "timedelta64[s]")}, TypeError, "timedelta64"),
    ({"t": np.array([{}], object)}, TypeError, "object.*pickle"),
    ({"t": np.ones(2, np.complex128)}, TypeError, "complex128"),
    ({"t": np.ones(2, np.longdouble)}, TypeError, "cannot store"),
    ({float("nan"): 1}, ValueError, "not finite"),
    ({"deep": _deep(100)}, ValueError, "deeper than 100"),
])
def test_saves_that_could_not_be_loaded_back_are_refused(tmp_path, bad, err, match):
    if bad.get("t") is not None and bad["t"].dtype == np.float64:
        pytest.skip("longdouble is float64 here")
    with pytest.raises(err, match=match):
        save(bad, tmp_path / "c.safetensors")
    assert not os.listdir(tmp_path)
    save({"deep": _deep(99), "__metadata__": 1}, tmp_path / "ok.safetensors")  # the limits themselves load
    assert load(tmp_path / "ok.safetensors") == {"deep": _deep(99), "__metadata__": 1}


# ----------------------------------------------------------------------------- stale temporaries
def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_next_save_removes_temps_of_killed_saves_of_the_same_target(tmp_path):
    target = tmp_path / "c.safetensors"
    stale = [f".c.safetensors.{_dead_pid()}-abcd_123.tmp", ".c.safetensors.x7k2m9qz.tmp"]  # new and old naming
    kept = [".c.safetensors.1-abcdefgh.tmp",  # pid 1 is alive: maybe a save in progress
            ".d.safetensors.x7k2m9qz.tmp", ".c.safetensors.v2.x7k2m9qz.tmp", "c.safetensors.tmp"]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"partial")
    save({"w": np.zeros(3)}, target)
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["c.safetensors"])


def test_temp_left_by_a_save_killed_in_a_child_process_is_removed_by_the_next_save(tmp_path):
    p = tmp_path / "c.safetensors"
    save({"w": np.zeros(100, np.float32)}, p)
    code = (f"import os, numpy as np, shendu.serialization as s\nos.replace = lambda *a: os._exit(9)\n"
            f"s.save({{'w': np.ones(100, np.float32)}}, {str(p)!r})\n")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    assert len(os.listdir(tmp_path)) == 2  # the killed save's temp file
    save({"w": np.full(100, 2, np.float32)}, p)
    assert os.listdir(tmp_path) == ["c.safetensors"]
    np.testing.assert_array_equal(load(p)["w"], np.full(100, 2))


# ----------------------------------------------------------------------------- named errors
def test_module_load_state_dict_of_none_or_non_arrays_names_the_problem():
    m = MLP(2, 3, 2)
    with pytest.raises(TypeError, match="MLP.load_state_dict: expected a dict .* got NoneType"):
        m.load_state_dict(None)
    bad = dict(m.state_dict(), b1=None)
    with pytest.raises(TypeError, match="'b1' must be a Tensor or numeric array, got NoneType"):
        m.load_state_dict(bad)


def _adam():
    p = sd.nn.Parameter(sd.ones(3))
    opt = sd.optim.Adam([p], lr=0.1)
    p.grad = sd.ones(3)
    opt.step()
    return opt


@pytest.mark.parametrize("mutate, err, match", [
    (lambda s: None, TypeError, "expected a dict with 'state' and 'param_groups'.*NoneType"),
    (lambda s: {"state": s["state"]}, ValueError, "no 'param_groups' entry"),
    (lambda s: dict(s, param_groups=[1]), TypeError, r"\['param_groups'\] must be a list of dicts"),
    (lambda s: dict(s, param_groups=[dict(s["param_groups"][0], params=None)]), TypeError,
     r"\['params'\] must be a list of parameter indices"),
    (lambda s: dict(s, param_groups=[dict(s["param_groups"][0], lr="0.1")]), TypeError, r"\['lr'\] is '0.1'"),
    (lambda s: dict(s, param_groups=[dict(s["param_groups"][0], betas=(0.9,))]), TypeError, r"\['betas'\]"),
    (lambda s: dict(s, state=[]), TypeError, r"\['state'\] must be a dict"),
    (lambda s: dict(s, state={5: s["state"][0]}), ValueError, "parameter 5; expected indices 0..0"),
    (lambda s: dict(s, state={0: 3}), TypeError, r"\['state'\]\[0\] must be a dict"),
])
def test_malformed_optimizer_state_dict_is_a_named_error_and_changes_nothing(mutate, err, match):
    opt = _adam()
    before = opt.state_dict()
    with pytest.raises(err, match=match) as e:
        opt.load_state_dict(mutate(opt.state_dict()))
    assert str(e.value).startswith("Adam.load_state_dict: ")
    assert _same(opt.state_dict(), before)


@pytest.fixture(scope="module")
def data():
    (x, y), (xv, yv) = digits()
    return (x[:160], y[:160]), (xv[:64], yv[:64])


def test_model_checkpoint_with_val_field_but_no_val_data_fails_before_training(data, tmp_path):
    m = MLP(64, 8, 10)
    cb = ModelCheckpoint(str(tmp_path / "{val_loss:.3f}.safetensors"))
    with pytest.raises(ValueError, match="ModelCheckpoint: 'val_loss'.*needs validation data"):
        fit(m, data[0], loss=cross_entropy, optimizer=SGD(m.parameters()), epochs=1, callbacks=[cb], verbose=0)
    assert not os.listdir(tmp_path)
    cb = ModelCheckpoint(str(tmp_path / "{acc}.safetensors"))
    with pytest.raises(ValueError, match=r"uses 'acc', which is not in the epoch logs \['loss', 'lr'\]"):
        fit(m, data[0], loss=cross_entropy, optimizer=SGD(m.parameters()), epochs=1, callbacks=[cb], verbose=0)
    with pytest.raises(ValueError, match="not a valid format string"):
        ModelCheckpoint("ckpt-{epoch")


def _train(data, tmp_path, epochs, resume_from=None, sampler=False):
    sd.manual_seed(0)
    model = MLP(64, 16, 10)
    from shendu.data import DataLoader, TensorDataset
    from shendu.data.transforms import Compose, GaussianNoise, RandomCrop, RandomHorizontalFlip

    x, y = data[0]
    flat = Compose([RandomHorizontalFlip(rng=1), RandomCrop(8, padding=1, rng=2), GaussianNoise(0.3, rng=3),
                    _flatten])
    ds = TensorDataset(x.reshape(-1, 1, 8, 8), y)
    if sampler:
        from shendu.utils.data import RandomSampler

        loader = DataLoader(ds, batch_size=32, sampler=RandomSampler(ds, generator=5), transform=flat)
    else:
        loader = DataLoader(ds, batch_size=32, shuffle=True, seed=4, transform=flat)
    fit(model, loader, loss=cross_entropy, optimizer=SGD(model.parameters(), lr=0.05), epochs=epochs, verbose=0,
        callbacks=[ModelCheckpoint(str(tmp_path / "ckpt-{epoch}.safetensors"))], resume_from=resume_from)
    return model


def _flatten(x):
    return x.reshape(len(x), -1)


@pytest.mark.parametrize("sampler", [False, True])
def test_resume_with_random_transforms_and_sampler_is_bit_exact(data, tmp_path, sampler):
    full = _train(data, tmp_path / "a", epochs=4, sampler=sampler)
    resumed = _train(data, tmp_path / "b", epochs=4, resume_from=tmp_path / "a" / "ckpt-2.safetensors",
                     sampler=sampler)
    for k, v in full.state_dict().items():
        assert to_host(resumed.state_dict()[k]._data).tobytes() == to_host(v._data).tobytes(), k
    # the loader's shuffle, the sampler's generator (when there is one) and the 3 random transforms
    assert len(load(tmp_path / "a" / "ckpt-2.safetensors")["data_rng"]) == 4 + sampler


@pytest.mark.parametrize("key, value, match", [
    ("epoch", "1", "'epoch' must be an int >= 0 .*got str"),
    ("epoch", True, "'epoch' must be an int"),
    ("global_step", -1, "'global_step' must be an int >= 0"),
    ("global_rng", {"bit_generator": "MT19937"}, "'global_rng' must be a PCG64 state"),
    ("global_rng", [1, 2], "'global_rng' must be a dict"),
    ("rng", {"cpu": 3}, "'rng' must be a dict device name -> generator state"),
    ("data_rng", [{"bit_generator": "PCG64"}], "'data_rng' must be the data's generator states"),
    ("data_rng", 5, "'data_rng' must be a list"),
    ("model", None, "'model' must be a dict"),
    ("history", {"epoch": 1}, "'history' must be a dict {'epoch'"),
    ("callbacks", {"ModelCheckpoint#0": 1}, "'callbacks' must be a dict callback name -> state"),
])
def test_resume_checkpoint_with_wrong_typed_entry_names_file_and_key(data, tmp_path, key, value, match):
    model = _train(data, tmp_path, epochs=1)
    state = load(tmp_path / "ckpt-1.safetensors")
    state[key] = value
    bad = tmp_path / "bad.safetensors"
    save(state, bad)
    with pytest.raises(CheckpointError, match=f"resume_from: {bad}: key {match}"):
        _train(data, tmp_path / "x", epochs=2, resume_from=bad)
    del state[key]
    save(state, bad)
    if key in ("epoch", "global_rng", "model"):
        with pytest.raises(CheckpointError, match=f"resume_from: {bad}: key '{key}' is missing; expected"):
            _train(data, tmp_path / "x", epochs=2, resume_from=bad)
    assert model is not None


# ----------------------------------------------------------------------------- file objects
def test_save_and_load_with_binary_file_objects(tmp_path):
    tree = _small()
    buf = io.BytesIO()
    save(tree, buf)
    buf.seek(0)
    assert _same(sd.load(buf), tree)
    p = tmp_path / "f.safetensors"
    with open(p, "wb") as f:
        sd.save(tree, f)
    with open(p, "rb") as f:
        assert _same(sd.load(f), tree)
    with pytest.raises(TypeError, match="save its state_dict"):
        sd.save(MLP(2, 2, 2), io.BytesIO())
    with open(tmp_path / "t.txt", "w") as f, pytest.raises(TypeError, match="binary mode"):
        sd.save(tree, f)
    with open(p, "r") as f, pytest.raises(TypeError, match="binary mode"):
        sd.load(f)
    with pytest.raises(CheckpointError, match="<BytesIO> is truncated"):
        sd.load(io.BytesIO(b"abc"))
    with pytest.raises(TypeError, match="path or a binary file object"):
        sd.save(tree, 3)


def test_file_object_round_trip_on_device(device):
    t = sd.randn(3, 4, device=device)
    buf = io.BytesIO()
    sd.save({"t": t, "n": [1, (2.5, None)]}, buf)
    buf.seek(0)
    back = sd.load(buf, map_location=device)
    assert str(device_of(back["t"]._data)).startswith(device) and back["n"] == [1, (2.5, None)]
    assert to_host(back["t"]._data).tobytes() == to_host(t._data).tobytes()


def test_load_accepts_pytorch_keywords(tmp_path):
    """torch.load(path, weights_only=True) from tutorials runs unchanged (shendu never unpickles anyway)."""
    path = tmp_path / "w.safetensors"
    sd.save({"w": sd.tensor([1.0, 2.0])}, path)
    for kw in ({"weights_only": True}, {"weights_only": False}, {"mmap": True}):
        assert sd.load(path, **kw)["w"].tolist() == [1.0, 2.0]
