"""Load an example script of examples/efficient as a module (to call its main in-process)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_example(name):
    path = ROOT / "examples" / "efficient" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_efficient_example_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
