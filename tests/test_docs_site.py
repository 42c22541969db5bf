"""The documentation site: `mkdocs build --strict` passes, the textbook map is generated from the code's
citations, and the pages copied from the README have not drifted from it."""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import textbook_map  # noqa: E402


def test_citation_parser():
    s = textbook_map.sections_in
    assert s(
        "Textbook 10.2 (RNNs), 10.3 (bidirectional), 10.5 (deep RNNs), 10.9 (leaky units, skip\n"
        "connections through time), 10.10 (LSTM, GRU). Parameter names"
    ) == ["10.2", "10.3", "10.5", "10.9", "10.10"]
    assert s("(Textbook 8.3.1-8.3.3, Algorithms 8.1-8.3).") == ["8.3.1", "8.3.3"]
    assert s("Adam (textbook 8.5.3, Algorithm 8.7; eq. 10.8)") == ["8.5.3"]
    assert s("the seeds' CNN (textbook 003, CNN-with-BN example) and Textbook 12.1.2") == ["12.1.2"]
    assert s("no citation: 7.12 alone, textbooks") == []
    assert s("TEXTBOOK 7.12 and 7.13") == ["7.12", "7.13"]


def test_textbook_map_is_generated_from_the_code(tmp_path, monkeypatch):
    entries = textbook_map.collect()
    assert len(entries) > 50
    syms = {sec: [s for s, _, _ in v] for sec, v in entries.items()}
    assert "shendu.viz" in syms["6.5.1"]  # the module docstring of src/shendu/viz.py
    assert "shendu.nn.layers.recurrent" in syms["10.10"]  # a module docstring
    assert "shendu.nn.layers.recurrent.LSTM" in syms["10.10.1"]  # a class docstring
    assert "shendu.optim.adam" in syms["8.5.3"]
    keys = [tuple(int(p) for p in k.split(".")) for k in entries]
    assert keys == sorted(keys)
    page = textbook_map.render(entries)
    assert "## 8. Optimization for training deep models" in page
    assert re.search(r"^\| 10\.10\.1 \| .*`shendu\.nn\.layers\.recurrent\.LSTM` \(shendu/nn/layers/recurrent\.py:\d+\)",
                     page, re.M)
    out = tmp_path / "map.md"
    monkeypatch.setattr(textbook_map, "collect", lambda src=None: entries)  # the CLI writes the same page
    assert textbook_map.main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == page


def _section(text, heading):
    """The Markdown section starting at ``heading`` up to the next level-2 heading."""
    i = text.index(heading)
    j = text.find("\n## ", i + 3)
    return text[i:j if j >= 0 else None].strip()


def test_gpu_page_matches_readme():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    page = open(os.path.join(ROOT, "docs", "gpu.md"), encoding="utf-8").read()
    for heading in ("## CPU or GPU: the same program", "## Several processes and machines"):
        assert _section(page, heading) == _section(readme, heading), (
            f"docs/gpu.md's {heading!r} differs from the README's: copy it over")


def test_index_has_the_readme_commands():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    cmds = re.findall(r"```bash\n(python3 -m venv[^\n]*)\n```", readme)[:2]
    assert len(cmds) == 2
    for page in ("index.md", os.path.join("zh", "index.md")):
        text = open(os.path.join(ROOT, "docs", page), encoding="utf-8").read()
        for c in cmds:
            assert c in text, f"docs/{page} lacks the README command {c!r}"


_HAVE_MKDOCS = all(importlib.util.find_spec(m) for m in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers"))


@pytest.mark.slow
@pytest.mark.skipif(not _HAVE_MKDOCS, reason="needs the docs extra: pip install -e '.[docs]'")
@pytest.mark.skipif(os.environ.get("SHENDU_TEST_DEVICE", "cpu") != "cpu",
                    reason="the site does not depend on the device; built in the cpu pass")
def test_mkdocs_build_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    site = tmp_path / "site"
    tmap = (site / "textbook_map" / "index.html").read_text(encoding="utf-8")
    assert "10.10" in tmap and "shendu.nn.layers.recurrent" in tmap
    assert 'id="shendu.nn.layers.recurrent.LSTM"' in (site / "api" / "nn" / "index.html").read_text(encoding="utf-8")
    assert 'id="shendu.onnx.export"' in (site / "api" / "interop" / "index.html").read_text(encoding="utf-8")
    assert "两条命令" in (site / "zh" / "index.html").read_text(encoding="utf-8")
    for page in ("compat", "guarantees", "coverage", "gpu", "tour", "install", "guides/ch10_sequences"):
        assert (site / page / "index.html").is_file(), page
