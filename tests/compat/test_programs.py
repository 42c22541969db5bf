"""PyTorch programs in the style of public tutorials (tests/compat/programs/), run UNMODIFIED through
``shendu.torchcompat`` (``import torch`` gives shendu); each must learn its generated data."""
import os
import subprocess
import sys

import pytest

from shendu import torchcompat

HERE = os.path.join(os.path.dirname(__file__), "programs")


def _run(name, *args):
    argv, path = list(sys.argv), list(sys.path)
    try:
        with torchcompat.torch_alias():
            return torchcompat.run([os.path.join(HERE, name), *args])
    finally:
        sys.argv[:], sys.path[:] = argv, path


def test_mlp_regression_learns_sine():
    g = _run("mlp_regression.py")
    assert g["losses"][0] > 0.1
    assert g["losses"][-1] < 0.01  # noise variance 0.0025
    assert g["test_err"] < 0.1


def test_dataloader_training_loop_learns_blobs():
    g = _run("dataloader_loop.py")
    loss0, acc0 = g["history"][0]
    loss, acc = g["history"][-1]
    assert loss < loss0 and loss < 0.15
    assert acc > 0.93
    assert g["same"]  # weights saved with torch.save reload into a new model


@pytest.mark.slow
def test_mnist_style_cnn_learns_generated_digits():
    g = _run("mnist_cnn.py", "--epochs", "3")  # 2 epochs of 640 examples end between 0.44 and 0.97 by seed and device
    (loss1, _), *_, (loss3, acc3) = g["history"]
    assert loss3 < loss1 and loss3 < 0.8 and acc3 > 0.85  # chance: 0.1


@pytest.mark.slow
def test_lstm_learns_next_sample_of_sine_waves():
    g = _run("lstm_sequence.py")
    assert g["losses"][0] > 0.01
    assert g["test_loss"] < 0.002


def test_command_line_runs_script_with_arguments(tmp_path):
    """``python -m shendu.torchcompat script.py args``: torch is shendu, argv is passed, errors propagate."""
    script = tmp_path / "prog.py"
    script.write_text(
        "import sys, torch, torch.nn as nn\n"
        "from torch.utils.data import DataLoader\n"
        "x = torch.ones(2, 3)\n"
        "print(torch.__name__, nn.Linear.__module__.split('.')[0], sys.argv[1:], f'{x.sum():.2f}')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-m", "shendu.torchcompat", str(script), "a", "--b"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "shendu shendu ['a', '--b'] 6.00"
    bad = tmp_path / "bad.py"
    bad.write_text("import torch.no_such_module\n")
    out = subprocess.run([sys.executable, "-m", "shendu.torchcompat", str(bad)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode != 0 and "shendu has no module shendu.no_such_module" in out.stderr
