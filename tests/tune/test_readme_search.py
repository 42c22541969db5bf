"""README 'Hyperparameter search': the five-line search runs as written and finds the optimum's region."""
import re
from pathlib import Path

import pytest

pytest.importorskip("optuna")

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_search_in_five_lines(tmp_path, monkeypatch, capsys):
    code = re.search(r"```python\n(.*?)```", README.split("## Hyperparameter search", 1)[1], re.S).group(1)
    assert len(code.strip().splitlines()) == 5
    monkeypatch.chdir(tmp_path)  # the study is written to runs/tune/study.db
    g = {}
    exec(compile(code, "README.md", "exec"), g)
    best = g["study"].best_params
    assert 3e-3 < best["lr"] < 3e-2 and 150 < best["hidden"] < 600
    assert str(best) in capsys.readouterr().out
    assert (tmp_path / "runs" / "tune" / "study.db").exists()
