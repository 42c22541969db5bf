"""Named training recipes for `shendu train NAME` (registry in `registry.py`, runner in `runner.py`).

Add a recipe: in a module of yours, `from shendu.recipes import register, Setup` and decorate
`build(cfg) -> Setup`; list the module in BUILTIN_MODULES (missing modules are skipped) so the CLI sees it.
"""
import importlib

from .registry import REGISTRY, Recipe, RecipeError, Setup, get, names, register
from .runner import evaluate_checkpoint, make_config, run

DEFAULT = "digits-mlp"

# Modules that register recipes when first needed; other engineers append theirs (e.g. cifar10-cnn).
BUILTIN_MODULES = ["shendu.recipes.mlp", "shendu.recipes.cnn", "shendu.recipes.chatbot"]

_loaded = False


def _load_builtin():
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in BUILTIN_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:  # the module exists but something it imports is missing
                raise


__all__ = ["register", "get", "names", "run", "evaluate_checkpoint", "make_config", "Recipe", "Setup", "REGISTRY",
           "RecipeError", "DEFAULT", "BUILTIN_MODULES"]
