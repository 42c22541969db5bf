"""The `shendu` command, run as a subprocess (`python -m shendu`) like a user would."""
import os
import re
import subprocess
import sys

import pytest

import shendu as sd

needs_layers = pytest.mark.skipif(not (hasattr(sd.nn, "Linear") and hasattr(sd, "optim")),
                                  reason="needs nn.Linear and optim.Adam")


def shendu(*args, cwd=None, env=None):
    e = dict(os.environ, **(env or {}))
    e.pop("SHENDU_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "shendu", *args], capture_output=True, text=True, cwd=cwd, env=e,
                          timeout=120)


def _one_line_error(r):
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in r.stderr
    return lines[0]


def test_help_and_list():
    r = shendu("--help")
    assert r.returncode == 0 and all(c in r.stdout for c in ("train", "evaluate", "list", "info"))
    r = shendu("train", "--help")
    assert r.returncode == 0 and "--batch-size" in r.stdout and "--out" in r.stdout
    r = shendu("list")
    names = [ln.split()[0] for ln in r.stdout.splitlines()]
    assert r.returncode == 0 and {"digits-mlp", "xor", "mnist-mlp", "mnist-mlp-dropout"} <= set(names)
    assert "(default)" in next(ln for ln in r.stdout.splitlines() if ln.startswith("digits-mlp"))


def test_info():
    r = shendu("info")
    assert r.returncode == 0 and "numpy" in r.stdout.lower()


@pytest.mark.parametrize("args,needle", [
    (("train", "--epochs", "x"), "invalid int"),
    (("train", "no-such-recipe"), "unknown recipe 'no-such-recipe'"),
    (("train", "xor", "--epochs", "0"), "--epochs must be"),
    (("train", "xor", "--lr", "-1"), "--lr must be"),
    (("frobnicate",), "invalid choice"),
    (("evaluate", "missing.safetensors"), "no checkpoint"),
])
def test_bad_arguments_give_one_line_errors(args, needle, tmp_path):
    assert needle in _one_line_error(shendu(*args, cwd=tmp_path))


@needs_layers
def test_missing_mnist_gives_one_line_error(tmp_path):
    line = _one_line_error(shendu("train", "mnist-mlp", "--no-download", "--data-dir", str(tmp_path),
                                  "--out", str(tmp_path / "out")))
    assert "data set 'mnist': missing train-images-idx3-ubyte.gz" in line and str(tmp_path) in line
    assert "--data-dir" in line


def test_corrupted_checkpoint_gives_one_line_error(tmp_path):
    p = tmp_path / "c.safetensors"
    sd.save({"kind": "shendu-recipe", "w": sd.zeros(10)}, p)
    p.write_bytes(p.read_bytes()[:-7])
    assert "truncated" in _one_line_error(shendu("evaluate", str(p)))


@needs_layers
def test_default_recipe_trains_digits_to_97_percent_and_evaluate_agrees(tmp_path):
    r = shendu("train", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = re.search(r"digits-mlp: test loss ([\d.]+), accuracy ([\d.]+)", r.stdout)
    assert m, r.stdout
    assert float(m.group(2)) >= 0.97
    assert sorted(os.listdir(tmp_path / "run")) == ["checkpoint.safetensors", "history.csv", "history.png"]
    e = shendu("evaluate", str(tmp_path / "run" / "checkpoint.safetensors"))
    assert e.returncode == 0, e.stderr
    assert f"accuracy {m.group(2)}" in e.stdout


@needs_layers
def test_xor_recipe_with_overrides(tmp_path):
    r = shendu("train", "xor", "--epochs", "400", "--lr", "0.05", "--seed", "3", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "xor: test loss" in r.stdout and "accuracy 1.0000" in r.stdout
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert len(rows) == 401 and rows[0].startswith("epoch,loss,accuracy")



def _recipes():
    """Every built-in recipe but chatbot (tested as a subprocess below); the slowest marked slow."""
    from shendu.recipes import names

    return [pytest.param(n, marks=pytest.mark.slow) if n == "cifar10-cnn" else n
            for n in names() if n != "chatbot" and not n.startswith("test-")]


RECIPES = _recipes()
NEEDS_FILES = {"mnist-mlp": "mnist", "mnist-mlp-dropout": "mnist", "lenet-mnist": "mnist", "cifar10-cnn": "cifar10"}


@needs_layers
@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_quick_runs_offline(recipe, tmp_path, monkeypatch, capsys):
    """`shendu train RECIPE --quick` with no data files and no network: generated real-format files, said so
    (in-process to save the start-up time; the chatbot test below runs the command as a subprocess)."""
    import urllib.request

    from shendu.cli import main

    def offline(*a, **k):
        raise AssertionError("--quick must not download")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("SHENDU_DATA", str(tmp_path / "also-empty"))
    assert main(["train", recipe, "--quick", "--data-dir", str(tmp_path / "empty"),
                 "--out", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    assert f"{recipe}: test loss" in out and "after 1 epochs" in out
    assert "Epoch 1/1 - loss: " in err  # progress off a terminal: one line per epoch
    if recipe in NEEDS_FILES:
        assert f"--quick: no {NEEDS_FILES[recipe]} files in {tmp_path / 'empty'}" in out
        assert "not the real data set" in out
    assert not (tmp_path / "empty").exists()  # nothing generated into the user's data folder


@needs_layers
def test_chatbot_quick_prints_replies_offline(tmp_path):
    dead = "http://127.0.0.1:9"  # any download attempt would fail here
    r = shendu("train", "chatbot", "--quick", "--data-dir", str(tmp_path / "empty"), "--out", str(tmp_path / "run"),
               env={"http_proxy": dead, "https_proxy": dead})
    assert r.returncode == 0, r.stderr
    assert "chatbot: test loss" in r.stdout and "> hello there ." in r.stdout and "> how are you ?" in r.stdout
    replies = [ln for ln in r.stdout.splitlines() if ln.startswith("  ")]
    assert len(replies) == 5 and all(ln.strip() for ln in replies)
