"""The chatbot example runs (quick mode) and its corpus is well formed (examples must not rot)."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("chatbot_example", ROOT / "examples" / "chatbot.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_corpus_has_a_few_thousand_unique_pairs():
    mod = _load()
    pairs = mod.load_pairs()
    assert len(pairs) >= 2000
    assert all(q and a for q, a in pairs)
    assert len({(" ".join(q), " ".join(a)) for q, a in pairs}) >= 2000
    src, tgt = mod.make_batch(pairs[:5], mod.Vocab([q for q, _ in pairs] + [a for _, a in pairs]))
    assert np.all(tgt[:, 0] == 1) and np.all((tgt == 2).sum(1) == 1)
    assert mod.tokenize("Hello, there!") == ["hello", ",", "there", "!"]


def test_quick_run_prints_ranked_candidates():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "chatbot.py"), "--quick", "--epochs", "1"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "exact-match replies" in out.stdout
    scores = [float(line.split()[0]) for line in out.stdout.splitlines() if line.startswith("     ")]
    assert len(scores) == 15 and scores[:3] == sorted(scores[:3], reverse=True)


def test_chatbot_recipe_builds_and_its_loss_runs():
    import shendu as sd
    from shendu.recipes import registry

    rec = registry.get("chatbot")
    sd.manual_seed(0)
    setup = rec.build(dict(rec.defaults, data_dir=None))
    src, tgt_in, tgt_out = setup.train
    assert len(src) + len(setup.test[0]) >= 2000
    np.testing.assert_array_equal(tgt_in[:, 1:], tgt_out[:, :-1])
    out = setup.model(src[:4], tgt_in[:4])
    loss = setup.loss(out, sd.tensor(tgt_out[:4]))
    assert abs(loss.item() - np.log(len(setup.model.vocabulary))) < 1.0
