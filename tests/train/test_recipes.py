"""Recipe registry and runner, with a small test recipe (independent of nn/optim internals)."""
import numpy as np
import pytest

import shendu as sd
from shendu.recipes import REGISTRY, RecipeError, Setup, evaluate_checkpoint, get, make_config, names, register, run
from tests.train.helpers import MLP, SGD, cross_entropy, digits


@pytest.fixture(scope="module")
def tiny():
    name = "test-tiny-digits"
    if name not in REGISTRY:
        @register(name, description="test recipe", epochs=3, batch_size=32, lr=0.05, threads=1)
        def build(cfg):
            (x, y), (xt, yt) = digits()
            model = MLP(64, 32, 10)
            return Setup(model, cross_entropy, SGD(model.parameters(), lr=cfg["lr"]), (x, y), (xt, yt),
                         val=(xt[:100], yt[:100]), metrics=("accuracy", "f1"))
    return name


def test_builtin_names_and_default():
    from shendu.recipes import DEFAULT

    assert DEFAULT == "digits-mlp"
    assert {"digits-mlp", "xor", "mnist-mlp", "mnist-mlp-dropout"} <= set(names())
    assert get("mnist-mlp-dropout").defaults == {"epochs": 20, "batch_size": 256, "lr": 1e-4, "seed": 0,
                                                 "threads": None}


def test_run_writes_outputs_and_evaluate_reproduces_the_metrics(tiny, tmp_path):
    lines = []
    res = run(tiny, out=tmp_path, verbose=0, print_fn=lines.append, epochs=4)
    assert len(res["history"]) == 4 and res["config"]["epochs"] == 4 and res["test"]["accuracy"] > 0.85
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.safetensors", "history.csv", "history.png"]
    assert lines[0].startswith(f"{tiny}: test loss ") and f"accuracy {res['test']['accuracy']:.4f}" in lines[0]
    assert len((tmp_path / "history.csv").read_text().splitlines()) == 5
    ck = sd.load(tmp_path / "checkpoint.safetensors")
    assert ck["recipe"] == tiny and ck["config"]["lr"] == 0.05 and ck["test"] == res["test"]
    out = []
    again = evaluate_checkpoint(tmp_path / "checkpoint.safetensors", print_fn=out.append)
    assert again == pytest.approx(res["test"]) and "accuracy" in out[0]


def test_runs_are_seeded(tiny, tmp_path):
    a = run(tiny, out=tmp_path / "a", verbose=0, print_fn=lambda s: None, epochs=1, seed=5)
    b = run(tiny, out=tmp_path / "b", verbose=0, print_fn=lambda s: None, epochs=1, seed=5)
    c = run(tiny, out=tmp_path / "c", verbose=0, print_fn=lambda s: None, epochs=1, seed=6)
    np.testing.assert_array_equal(a["model"].w1.numpy(), b["model"].w1.numpy())
    assert not np.array_equal(a["model"].w1.numpy(), c["model"].w1.numpy())


@pytest.mark.parametrize("kw,needle", [(dict(epochs=0), "--epochs"), (dict(batch_size=-1), "--batch-size"),
                                       (dict(lr=0.0), "--lr"), (dict(threads=0), "--threads")])
def test_bad_overrides(tiny, kw, needle):
    with pytest.raises(RecipeError, match=needle):
        make_config(tiny, **kw)


def test_unknown_and_duplicate_recipes(tiny):
    with pytest.raises(RecipeError, match="unknown recipe 'nope'.*digits-mlp"):
        get("nope")
    with pytest.raises(ValueError, match="already registered"):
        register(tiny, description="x", epochs=1, batch_size=1, lr=1.0)(lambda cfg: None)


def test_evaluate_rejects_other_checkpoints(tmp_path):
    sd.save({"w": sd.zeros(2)}, tmp_path / "w.safetensors")
    with pytest.raises(RecipeError, match="not a recipe checkpoint"):
        evaluate_checkpoint(tmp_path / "w.safetensors")


def test_blas_threads_limits_and_restores():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from shendu.recipes.runner import blas_threads

    before = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    with blas_threads(1):
        assert all(i["num_threads"] == 1 for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"] == before


def test_shifted_copies_and_linear_decay():
    from shendu.recipes.mlp import linear_decay, shifted_copies

    x = np.arange(64, dtype=np.float32).reshape(1, 64)
    xa, ya = shifted_copies(x, np.array([7]))
    im = xa.reshape(5, 8, 8)
    assert xa.shape == (5, 64) and list(ya) == [7] * 5
    np.testing.assert_array_equal(im[1, 1:], im[0, :-1])  # shifted down by one row
    assert (im[1, 0] == 0).all() and (im[4, :, -1] == 0).all()
    f = linear_decay(1.0, 10)
    assert f(0, None) == 1.0 and f(5, None) == pytest.approx(0.505) and f(10, None) == pytest.approx(0.01)


def test_recipe_modules_are_discovered_and_broken_ones_skipped(tmp_path, monkeypatch):
    import shendu.recipes as R

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "good_one.py").write_text(
        "from shendu.recipes.registry import register\n"
        "@register('test-discovered', description='d', epochs=1, batch_size=1, lr=1.0)\n"
        "def build(cfg):\n    return None\n")
    (pkg / "broken.py").write_text("raise ImportError('needs something missing')\n")
    monkeypatch.setattr(R, "__path__", [str(pkg)])  # the package now looks for its modules there
    monkeypatch.setattr(R, "_loaded", False)
    import sys

    try:
        with pytest.warns(RuntimeWarning, match="skipping recipe module 'broken'"):
            R._load_builtin()
        assert "test-discovered" in REGISTRY
    finally:
        REGISTRY.pop("test-discovered", None)
        sys.modules.pop("shendu.recipes.good_one", None)
        sys.modules.pop("shendu.recipes.broken", None)
