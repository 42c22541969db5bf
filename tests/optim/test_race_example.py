"""examples/optimizers_race.py runs in a short mode (examples must not rot) and Newton wins the quadratic."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_optimizers_race_short_run(tmp_path):
    out = tmp_path / "race.png"
    env = dict(os.environ, MPLBACKEND="Agg")
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "optimizers_race.py"), "--steps", "30", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert out.exists() and out.stat().st_size > 10_000 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    quad = r.stdout.split("network:")[0]
    newton = [line for line in quad.splitlines() if line.startswith("Newton")]
    assert newton and newton[0].split()[1] == "1"  # Newton solves the quadratic in one step
