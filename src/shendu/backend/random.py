"""Random generators: one per device, all seeded by ``sd.manual_seed`` (runs repeat exactly on each device).

The CPU generator is a NumPy ``Generator``; a CUDA device's generator has the same methods
(``random``, ``standard_normal``, ``normal``, ``uniform``, ``integers``, ``permutation``) and returns
arrays on that device. Device generators are created on first use from the last seed.
"""
from __future__ import annotations

import numpy as np

_GEN = np.random.default_rng()
_SEED = [None]  # the last manual seed (None: seeded from the OS)
_DEVICE_GENS: dict = {}


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed every device's generator; every shendu random draw then repeats exactly."""
    global _GEN
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
    _GEN = np.random.default_rng(int(seed))
    _SEED[0] = int(seed)
    _DEVICE_GENS.clear()
    return _GEN


seed = manual_seed


def _reset_device_generators() -> None:
    _DEVICE_GENS.clear()


def get_generator(device=None):
    """The generator of ``device`` (default: the CPU's NumPy generator, used by sd.rand/randn/randint,
    init, dropout and loaders)."""
    if device is None:
        return _GEN
    from .device import backend_of_device, resolve

    dev = resolve(device)
    if dev.type == "cpu":
        return _GEN
    g = _DEVICE_GENS.get(dev)
    if g is None:
        s = _SEED[0]
        seed = None if s is None else (s * 0x9E3779B1 + 1 + dev.index) % 2**63  # a stream per device, fixed by the seed
        g = _DEVICE_GENS[dev] = backend_of_device(dev).generator(seed, dev.index)
    return g


def generator_for(arr):
    """The generator of the device holding ``arr``."""
    from .device import CPU, device_of

    dev = device_of(arr)
    return _GEN if dev is CPU else get_generator(dev)


def get_rng_state() -> dict:
    """The state of every generator in use, by device name (for checkpoints that resume exactly).

    A device generator that cannot report its state (CuPy's) is left out: a resumed run is then
    correct but its random draws on that device differ from an uninterrupted run."""
    out = {"cpu": _GEN.bit_generator.state}
    for dev, g in _DEVICE_GENS.items():
        state = getattr(g, "get_state", None)
        if state is not None:
            out[str(dev)] = state()
    return out


def rng_marks() -> tuple:
    """Something that changes whenever any generator draws (``autograd.capture`` compares it around each op): the
    CPU generator's state and each device generator's state, or its draw count where the state cannot be read."""
    marks = [_GEN.bit_generator.state]
    for g in _DEVICE_GENS.values():
        draws = getattr(g, "draws", None)
        marks.append(draws if draws is not None else g.get_state() if hasattr(g, "get_state") else None)
    return tuple(marks)


def set_rng_state(state: dict) -> None:
    """Restore generator states saved by ``get_rng_state`` (devices not in ``state`` are left as they are)."""
    for name, st in state.items():
        if name == "cpu":
            _GEN.bit_generator.state = st
            continue
        g = get_generator(name)
        if hasattr(g, "set_state"):
            g.set_state(st)
