"""What a new user sees (issue 23 items 3 and 7): progress off a terminal, evaluate's line, epoch numbering and
validation columns of the CSV log and plot, checkpoint file modes, summary printed once, `shendu info`'s BLAS
line, the chatbot recipe's replies, BLAS threads of every recipe, the README's links."""
import csv
import io
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.train import CSVLogger, ProgressBar, fit
from tests.train.helpers import MLP, SGD, cross_entropy, digits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data():
    return digits()


def _model():
    sd.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


# ---------------------------------------------------------------- item 3: progress off a terminal
def test_fit_verbose1_prints_one_line_per_epoch_when_stderr_is_not_a_terminal(data, capsys):
    (x, y), (xt, yt) = data
    model = _model().compile(loss="cross_entropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x[:64], y[:64], epochs=3, batch_size=32, validation_data=(xt[:32], yt[:32]), verbose=1)
    err = capsys.readouterr().err  # pytest's capture is no terminal, as a pipe, a log file or CI
    lines = err.strip().splitlines()
    assert len(lines) == 3, err
    pat = (r"^Epoch (\d)/3 - loss: [\d.]+ - accuracy: [\d.]+ - val_loss: [\d.]+ - val_accuracy: [\d.]+ - lr: .* "
           r"- [\d.]+s$")
    assert [int(re.match(pat, ln).group(1)) for ln in lines] == [1, 2, 3], lines
    model.fit(x[:64], y[:64], epochs=2, batch_size=32, verbose=0)
    assert capsys.readouterr().err == ""


def test_evaluate_verbose1_prints_one_result_line(data, capsys):
    (x, y), _ = data
    model = _model().compile(loss="cross_entropy", optimizer="adam", metrics=["accuracy"])
    res = model.evaluate(x[:50], y[:50], verbose=1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f"loss: {res['loss']:.4f} - accuracy: {res['accuracy']:.4f}" in lines[0]
    model.evaluate(x[:50], y[:50], verbose=0)
    assert capsys.readouterr().err == ""


def test_verbose2_prints_lines_even_on_a_terminal(data):
    class FakeTTY(io.StringIO):
        def isatty(self):
            return True

    (x, y), _ = data
    buf = FakeTTY()
    model = MLP(64, 8, 10)
    fit(model, (x[:40], y[:40]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=2, batch_size=20,
        callbacks=[ProgressBar(verbose=2, file=buf)])
    lines = buf.getvalue().splitlines()
    assert [ln.split(" - ")[0] for ln in lines] == ["Epoch 1/2", "Epoch 2/2"]


# ---------------------------------------------------------------- item 7: CSV and plot
def test_csv_and_plot_number_epochs_from_1_and_show_validation(data, tmp_path):
    (x, y), (xt, yt) = data
    model = MLP(64, 8, 10)
    h = fit(model, (x[:60], y[:60]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=3,
            batch_size=20, val_data=(xt[:30], yt[:30]), metrics=["accuracy"],
            callbacks=[CSVLogger(tmp_path / "log.csv")], verbose=0)
    rows = list(csv.reader(open(tmp_path / "log.csv")))
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert "val_loss" in rows[0] and "val_accuracy" in rows[0]
    fig = h.plot(tmp_path / "h.png")
    loss_lines = {ln.get_label(): list(ln.get_xdata()) for ln in fig.axes[0].lines}
    assert loss_lines["val_loss"] == loss_lines["loss"] == [1, 2, 3]
    assert {ln.get_label() for ln in fig.axes[1].lines} == {"accuracy", "val_accuracy"}


def test_csv_keeps_keys_that_first_appear_in_a_later_epoch(tmp_path):
    from shendu.train import Callback

    log = CSVLogger(tmp_path / "log.csv")
    log.on_train_begin()
    log.on_epoch_end(0, {"loss": 1.0})
    log.on_epoch_end(1, {"loss": 0.5, "val_loss": 0.7})
    log.on_train_end()
    rows = list(csv.reader(open(tmp_path / "log.csv")))
    assert rows == [["epoch", "loss", "val_loss"], ["1", "1.0", ""], ["2", "0.5", "0.7"]]
    assert issubclass(CSVLogger, Callback)


# ---------------------------------------------------------------- item 7: file modes follow the umask
@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_checkpoints_respect_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        sd.save({"w": sd.zeros(3)}, tmp_path / "c.safetensors")
        (tmp_path / "plain").write_bytes(b"x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(os.stat(tmp_path / "c.safetensors").st_mode)
    assert mode == 0o666 & ~mask == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)


# ---------------------------------------------------------------- item 7: summary printed once
def test_summary_prints_once_and_returns_none(capsys):
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    assert nn.summary(m, (4,)) is None  # a REPL shows nothing more
    out = capsys.readouterr().out
    assert out.count("Total params: 23") == 1
    text = nn.summary(m, (4,), print_fn=None)
    assert "Total params: 23" in text and capsys.readouterr().out == ""


def test_keras_summary_prints_once_and_returns_none(capsys):
    from shendu.keras import Dense, Sequential

    model = Sequential([Dense(3, input_dim=4)])
    assert model.summary() is None
    assert capsys.readouterr().out.count("Total params: 15") == 1


# ---------------------------------------------------------------- item 7: shendu info lists each BLAS once
def test_info_lists_each_blas_once():
    from shendu.backend.info import _thread_pools, info

    pools = [{"internal_api": "openblas", "num_threads": 2, "filepath": "/x/scipy.libs/libscipy_openblas.so"},
             {"internal_api": "openblas", "num_threads": 2, "filepath": "/x/numpy.libs/libscipy_openblas64_.so"}]
    assert _thread_pools(pools) == "openblas 2 (scipy, numpy)"
    threads = info()["threads"]
    names = re.findall(r"(\w+) \d+ \(", threads)
    assert names and len(names) == len(set(names)), threads


# ---------------------------------------------------------------- item 7: recipes
def test_chatbot_recipe_prints_sample_replies(tmp_path):
    from shendu.recipes import run
    from shendu.recipes.chatbot import PROMPTS

    lines = []
    res = run("chatbot", out=tmp_path, verbose=0, print_fn=lines.append, quick=True)
    assert lines[0].startswith("chatbot: test loss")
    prompts = [ln[2:] for ln in lines if ln.startswith("> ")]
    assert prompts == list(PROMPTS)
    replies = [lines[lines.index("> " + p) + 1] for p in PROMPTS]
    vocab = set(res["model"].vocabulary)
    assert all(r.startswith("  ") and r.split() and set(r.split()) <= vocab for r in replies), replies


def test_every_recipe_runs_under_a_chosen_blas_thread_count(monkeypatch, tmp_path):
    from shendu.recipes import get, names, runner

    used = []

    class Limit:
        def __init__(self, n):
            used.append(n)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(runner, "blas_threads", Limit)
    assert 1 <= runner.auto_threads() <= 4
    for name in ("xor", "chatbot"):
        runner.run(name, out=tmp_path / name, verbose=0, print_fn=lambda s: None, quick=True)
    assert used == [1, 1]
    for name in names():
        assert get(name).defaults["threads"] in (None, 1)  # None: auto_threads(), never "all cores"


def test_auto_threads_for_recipes_without_a_choice(monkeypatch, tmp_path):
    from shendu.recipes import Setup, register, runner
    from shendu.recipes.registry import REGISTRY

    name = "test-auto-threads"
    if name not in REGISTRY:
        @register(name, description="x", epochs=1, batch_size=4, lr=0.1)
        def build(cfg):
            x = np.zeros((4, 2), np.float32)
            y = np.zeros(4, np.int64)
            m = MLP(2, 2, 2)
            return Setup(m, cross_entropy, SGD(m.parameters()), (x, y), (x, y))
    seen = []
    monkeypatch.setattr(runner, "blas_threads", lambda n: (seen.append(n), _Null())[1])
    monkeypatch.setattr(runner, "auto_threads", lambda: 3)
    runner.run(name, out=tmp_path, verbose=0, print_fn=lambda s: None)
    assert seen == [3]


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_readme_links_exist_and_digits_figures_are_measured():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    for rel in re.findall(r"`((?:docs|examples|benchmarks|src|tools)/[\w./-]+\.(?:md|py))`", readme):
        assert (ROOT / rel).exists(), rel
    assert "about a second" not in readme
    from shendu.recipes import get

    assert "about a second" not in get("digits-mlp").description


def test_keras_sequential_evaluate_prints_its_line_as_keras(data, capsys):
    from shendu.keras import Dense, Sequential

    (x, y), _ = data
    model = Sequential([Dense(10, input_dim=64, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.evaluate(x[:20], y[:20], verbose=0)
    assert capsys.readouterr().err == ""
    model.evaluate(x[:20], y[:20])  # verbose="auto": 1, as Keras
    assert capsys.readouterr().err.startswith("evaluate - loss: ")
