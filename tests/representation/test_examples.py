"""The representation-learning examples run in quick mode, print their figures and write PNGs (examples must not rot).

They run in this process (so also on the strict stand-in device in the strict test run)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script, out, capsys):
    spec = importlib.util.spec_from_file_location(
        f"example_{script[:-3]}", ROOT / "examples" / "representation" / script
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    capsys.readouterr()
    mod.main(["--quick", "--out", str(out)])
    assert out.exists() and out.stat().st_size > 5_000 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return capsys.readouterr().out


def test_autoencoders_example_quick(tmp_path, capsys):
    out = _run("autoencoders.py", tmp_path / "ae.png", capsys)
    rows = {line[:30].strip(): line[30:].split() for line in out.splitlines()}
    baseline = float(out.split("error ")[1].split()[0])
    for name in ("undercomplete 64-32", "tied 64-32", "denoising 64-64 (mask 0.5)"):
        assert float(rows[name][0]) < 0.7 * baseline  # clean test reconstruction beats the mean image
    assert float(rows["sparse KL 64-100 (rho 0.05)"][2]) < 0.15  # mean code activation near rho


def test_rbm_dbn_example_quick(tmp_path, capsys):
    out = _run("rbm_dbn.py", tmp_path / "filters.png", capsys)
    errs = [float(line.split("error ")[1].split(",")[0]) for line in out.splitlines() if "reconstruction error" in line]
    assert len(errs) == 4 and errs[1] < errs[0] and errs[3] < errs[2]
    table = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(table) == 1 and float(table[0][2]) > float(table[0][3])  # 1 epoch: DBN init beats random init
