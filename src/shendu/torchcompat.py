"""Run a PyTorch program on shendu unchanged: ``python -m shendu.torchcompat script.py [args...]``.

An import alias (a ``sys.meta_path`` finder) maps ``torch`` and ``torch.<sub>`` to ``shendu`` and
``shendu.<sub>``, so ``import torch``, ``import torch.nn as nn`` and ``from torch.utils.data import DataLoader``
give shendu's modules; then the script runs as ``__main__`` (runpy), with ``sys.argv = [script, *args]``.
``torch.backends`` (cudnn flags, ``mps.is_available()``) is a stand-in module: shendu has no such backends.
``-m package.module`` runs a module instead of a file. In Python: ``with torch_alias(): ...``.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys
import types

ALIAS = "torch"
TARGET = "shendu"


def _backends_module():
    """``torch.backends`` stand-in: cudnn flags users set (no effect) and mps (never available)."""
    mod = types.ModuleType("shendu._torch_backends", "torch.backends stand-in (flags without effect in shendu)")
    cudnn = types.SimpleNamespace(deterministic=False, benchmark=False, enabled=True, allow_tf32=True,
                                  is_available=lambda: False, version=lambda: None)
    mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
    cuda_ns = types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False))
    mod.cudnn, mod.mps, mod.cuda = cudnn, mps, cuda_ns
    return mod


_STAND_INS = {"backends": _backends_module}


class _AliasLoader(importlib.abc.Loader):
    """Hands out the already imported shendu module (the same object under both names)."""

    def __init__(self, module):
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        if self.spec is not None:  # the import system set __spec__ to the alias's spec: keep shendu's own
            module.__spec__ = self.spec


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder: ``torch[.x.y]`` -> ``shendu[.x.y]``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        rest = fullname[len(ALIAS):]
        sub = rest[1:].split(".", 1)[0] if rest else ""
        if sub in _STAND_INS and "." not in rest[1:]:
            module = getattr(importlib.import_module(TARGET), sub, None)
            if not isinstance(module, types.ModuleType) or not module.__name__.startswith("shendu._torch_"):
                module = _STAND_INS[sub]()
        else:
            try:
                module = importlib.import_module(TARGET + rest)
            except ModuleNotFoundError as exc:
                raise ModuleNotFoundError(
                    f"{fullname}: shendu has no module {TARGET + rest} ({exc}); shendu.torchcompat maps "
                    f"torch.* to shendu.*", name=fullname) from None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module), is_package=hasattr(module, "__path__"))


_FINDER = TorchAliasFinder()


def install() -> None:
    """Put the torch -> shendu alias first on ``sys.meta_path`` (a no-op when already there)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    import shendu

    if not hasattr(shendu, "backends"):
        shendu.backends = _backends_module()


def uninstall() -> None:
    """Remove the alias and forget the ``torch`` modules it handed out."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    import shendu

    for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
        if getattr(sys.modules[name], "__name__", "").startswith(TARGET) or name == ALIAS + ".backends":
            del sys.modules[name]
    if isinstance(getattr(shendu, "backends", None), types.ModuleType):
        del shendu.backends


@contextlib.contextmanager
def torch_alias():
    """``with torch_alias(): import torch`` gives shendu; the real torch (if it was imported) is restored after."""
    saved = {n: m for n, m in sys.modules.items() if n == ALIAS or n.startswith(ALIAS + ".")}
    for n in saved:
        del sys.modules[n]
    install()
    try:
        yield
    finally:
        uninstall()
        sys.modules.update(saved)


def run(argv) -> dict:
    """Install the alias and run ``argv[0]`` (a script path, or ``-m module``) with ``sys.argv = argv``;
    returns the script's globals."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        raise SystemExit(0 if argv else 2)
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            raise SystemExit("shendu.torchcompat: -m needs a module name")
        sys.argv = argv[1:]
        return runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    script = argv[0]
    if not os.path.exists(script):
        raise SystemExit(f"shendu.torchcompat: no such script: {script}")
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    return runpy.run_path(script, run_name="__main__")


def main() -> None:
    run(sys.argv[1:])


if __name__ == "__main__":
    main()
