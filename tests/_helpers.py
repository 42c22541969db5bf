"""Helpers shared by the test packages."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_example(folder, name):
    """The script examples/<folder>/<name>.py loaded as a module (to call its main in-process)."""
    path = ROOT / "examples" / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_example_{folder}_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
