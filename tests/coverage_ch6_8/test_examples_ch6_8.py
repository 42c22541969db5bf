"""examples/ch6_8 demos run (short) and write their PNGs: loss landscape (8.12), tent folding (6.34, W6.13)."""
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2] / "examples" / "ch6_8"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_loss_landscape_example_writes_png_and_training_lowered_the_loss(tmp_path):
    out = tmp_path / "ll.png"
    line, surf = _load("loss_landscape").main(["--out", str(out), "--epochs", "1", "--grid", "5"])
    assert out.stat().st_size > 5000
    alphas = np.linspace(-0.25, 1.25, 31)
    assert line[np.argmin(np.abs(alphas - 1))] < 0.5 * line[np.argmin(np.abs(alphas))]
    assert surf.shape == (5, 5) and np.all(np.isfinite(surf))


def test_tent_folding_example_counts_2_to_the_l(tmp_path):
    out = tmp_path / "tent.png"
    assert _load("tent_folding").main(["--out", str(out), "--depth", "4"]) == [2, 4, 8, 16]
    assert out.stat().st_size > 5000
