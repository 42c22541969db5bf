"""The README's code examples run as written (so they cannot drift from the package)."""
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _block(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_device_example_runs_on_cpu_and_on_the_stand_in(device, capsys):
    """README 'CPU or GPU': the same program runs on the CPU and on a (stand-in) GPU."""
    code = _block("## CPU or GPU: the same program")
    import shendu as sd

    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.split()
    assert out[0] == ("cuda:0" if sd.cuda.is_available() else "cpu")  # the example picks the GPU when there is one
    assert 1.0 < float(out[1]) < 4.0  # cross-entropy of 10 classes at initialization is near ln 10


@pytest.mark.parametrize("heading", ["## A tour of tensors and autograd", "## Convolutional and sequence models",
                                     "## Regularization and representation learning",
                                     "## Language, speech and efficient models"])
def test_other_examples_run(heading, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # the examples read files relative to the checkout
    exec(compile(_block(heading), "README.md", "exec"), {})
