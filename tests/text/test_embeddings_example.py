"""examples/text/embeddings.py in its quick mode: NPLM vs Kneser-Ney vs their interpolation, and the PCA plot."""
import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "text" / "embeddings.py"


def test_embeddings_example_quick(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("embeddings_example", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "emb.png"
    res = mod.main(["--quick", "--out", str(out)])
    assert out.exists() and out.stat().st_size > 10_000
    assert res["perplexity"] < 1.1 * res["kn"] and res["perplexity"] < 25      # |V| is about 90
    assert res["mix"] <= min(res["perplexity"], res["kn"]) * 1.01
    assert "nearest to 'fox'" in capsys.readouterr().out
