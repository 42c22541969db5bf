"""The textbook gallery (issue 21): every experiment in quick mode reproduces its claim with a verdict computed
from its numbers, the HTML page loads every figure in a real headless browser (Chromium), and `shendu gallery`."""
import math
import re
import shutil
import subprocess

import pytest

from shendu import gallery
from shendu.cli import main as cli_main
from shendu.gallery import REGISTRY, verdict_of

EXPECTED = {"xor", "cross_entropy", "vanishing_gradients", "init_scale", "clipping_cliff", "optimizer_race",
            "batch_norm", "newton_saddle", "regularizers", "early_stopping_l2", "ensembles", "adversarial",
            "cnn_vs_mlp", "lstm_vs_rnn", "ngram_vs_neural_lm", "distillation", "dbn_pretraining"}


@pytest.fixture(scope="module")
def quick_gallery(tmp_path_factory):
    """The whole gallery in quick mode, run once (exceptions propagate), and its page."""
    out = tmp_path_factory.mktemp("gallery")
    results = gallery.run_all(quick=True, seed=0, catch=False)
    page = gallery.write_page(results, out, quick=True)
    return {r.name: r for r in results}, page


def test_registry_lists_the_issue_experiments():
    assert EXPECTED <= set(REGISTRY)
    for exp in REGISTRY.values():
        assert exp.title and exp.claim and exp.section and exp.criterion and callable(exp.judge)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_experiment_reproduces_its_claim_with_a_computed_verdict(quick_gallery, name):
    results, _ = quick_gallery
    r = results[name]
    assert not r.error
    assert r.numbers and all(isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v))
                             for v in r.numbers.values()), r.numbers
    exp = REGISTRY[name]
    assert r.verdict == verdict_of(exp, r.numbers)
    assert r.verdict == ("reproduced" if exp.judge(r.numbers) else "not reproduced")
    assert r.verdict == "reproduced", (name, r.numbers)          # every claim holds at seed 0 in quick mode
    assert r.figures and all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in r.figures)


def test_verdict_follows_the_numbers_not_the_code():
    xor = REGISTRY["xor"]
    good = {"linear_mse": 0.25, "mlp_mse": 1e-6, "book_solution_mse": 0.0}
    assert verdict_of(xor, good) == "reproduced"
    assert verdict_of(xor, dict(good, linear_mse=0.1)) == "not reproduced"      # a linear model fitting XOR
    assert verdict_of(xor, dict(good, mlp_mse=0.2)) == "not reproduced"
    assert verdict_of(xor, dict(good, mlp_mse=float("nan"))) == "not reproduced"
    clip = REGISTRY["clipping_cliff"]
    assert verdict_of(clip, {"final_loss_unclipped": math.inf, "final_loss_clipped": 1e-9}) == "reproduced"
    assert verdict_of(clip, {"final_loss_unclipped": 1e-9, "final_loss_clipped": 1e-9}) == "not reproduced"


def test_page_lists_every_experiment_with_its_table(quick_gallery):
    results, page = quick_gallery
    text = page.read_text(encoding="utf-8")
    for name, r in results.items():
        m = re.search(rf'<section class="experiment" id="{name}" data-verdict="([a-z ]+)">(.*?)</section>', text,
                      re.S)
        assert m, name
        assert m.group(1) == r.verdict
        for k in r.numbers:
            assert k in m.group(2)
        for i in range(len(r.figures)):
            assert (page.parent / f"{name}-{i}.png").read_bytes() == r.figures[i]


def test_page_loads_every_figure_in_headless_chromium(quick_gallery):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    results, page = quick_gallery
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000", "--dump-dom",
           page.resolve().as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    n_figures = sum(len(r.figures) for r in results.values())
    status = re.search(r'id="load-status" data-images="(\d+)" data-loaded="(\d+)"', dom)
    assert status, dom[:2000]
    assert int(status.group(1)) == n_figures > 0
    assert int(status.group(2)) == n_figures                     # the page's script saw every <img> decoded
    imgs = re.findall(r"<img [^>]*>", dom)
    assert len(imgs) == n_figures and all('data-loaded="yes"' in i for i in imgs)
    for name in results:
        assert f'id="{name}"' in dom


def test_cli_gallery_writes_the_page(tmp_path, capsys):
    assert cli_main(["gallery", "--quick", "--only", "xor", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "xor" in out and "1 of 1 claims reproduced" in out
    text = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'id="xor" data-verdict="reproduced"' in text and (tmp_path / "xor-0.png").stat().st_size > 1000
    assert cli_main(["gallery", "--list"]) == 0
    assert set(capsys.readouterr().out.split()) >= EXPECTED
    assert cli_main(["gallery", "--only", "no_such_experiment", "--out", str(tmp_path)]) == 2
    assert "unknown experiment" in capsys.readouterr().err
