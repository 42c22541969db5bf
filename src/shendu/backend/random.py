"""One global random generator for shendu (``sd.manual_seed`` makes runs reproducible)."""
from __future__ import annotations

import numpy as np

_GEN = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator; every shendu random draw then repeats exactly."""
    global _GEN
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
    _GEN = np.random.default_rng(int(seed))
    return _GEN


seed = manual_seed


def get_generator() -> np.random.Generator:
    """The global generator used by sd.rand/randn/randint, init, dropout and loaders."""
    return _GEN
