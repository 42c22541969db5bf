"""Data for the MNIST / CIFAR-10 recipes: the files in `<data dir>/<name>/` (`--data-dir DIR`, same meaning as
`$SHENDU_DATA`), downloaded when missing; in a `--quick` run (never downloads), small generated files in the real
formats when the real ones are missing (written to a temporary folder, read back by the real loader, removed).
The recipe's note about that is left in cfg["data_note"] for the runner to print (and not saved)."""
from __future__ import annotations

import shutil
import tempfile


def _load_or_generate(cfg, name, load, write, what):
    from ..data.datasets import DatasetNotFoundError

    quick = bool(cfg.get("quick"))
    try:
        return load(data_dir=cfg.get("data_dir"), download=bool(cfg.get("download", True)) and not quick)
    except DatasetNotFoundError:
        if not quick:
            raise
    folder = tempfile.mkdtemp(prefix=f"shendu-quick-{name}-")
    try:
        write(folder)
        data = load(root=folder, download=False, verify=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    where = cfg.get("data_dir") or "$SHENDU_DATA or ~/.cache/shendu"
    cfg["data_note"] = (f"--quick: no {name} files in {where}; trained on {what} written in the {name} file format "
                        "(a smoke test, not the real data set)")
    return data


def recipe_mnist(cfg, flatten):
    """load_mnist for a recipe (see the module docstring)."""
    from ..data.datasets import load_mnist
    from ..data.datasets.smoke import write_mnist_like

    return _load_or_generate(cfg, "mnist", lambda **kw: load_mnist(flatten=flatten, **kw), write_mnist_like,
                             "1,000 images made from scikit-learn's 8x8 digits")


def recipe_cifar10(cfg):
    """load_cifar10 for a recipe (see the module docstring)."""
    from ..data.datasets import load_cifar10
    from ..data.datasets.smoke import write_cifar10_like

    return _load_or_generate(cfg, "cifar10", load_cifar10, write_cifar10_like,
                             "500 synthetic class-coloured 32x32 images")
