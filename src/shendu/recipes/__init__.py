"""Named training recipes for `shendu train NAME` (registry in `registry.py`, runner in `runner.py`).

Add a recipe: put a module in this package (e.g. `cifar10_cnn.py`, `chatbot.py`) that does
`from .registry import register, Setup` and decorates `build(cfg) -> Setup`. Every module of the package
is imported the first time recipes are listed or looked up; one that fails to import is reported with a
warning and skipped, so it cannot break the other recipes.
"""
import importlib
import pkgutil
import warnings

from .registry import REGISTRY, Recipe, RecipeError, Setup, get, names, register
from .runner import evaluate_checkpoint, make_config, run

DEFAULT = "digits-mlp"
_INFRA = {"registry", "runner"}
_loaded = False


def _load_builtin():
    """Import every recipe module of this package once (they register themselves)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in _INFRA or info.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"{__name__}.{info.name}")
        except Exception as e:  # noqa: BLE001  (a broken recipe module must not break the others)
            warnings.warn(f"shendu.recipes: skipping recipe module {info.name!r}: {type(e).__name__}: {e}",
                          RuntimeWarning, stacklevel=2)


__all__ = ["register", "get", "names", "run", "evaluate_checkpoint", "make_config", "Recipe", "Setup", "REGISTRY",
           "RecipeError", "DEFAULT"]
