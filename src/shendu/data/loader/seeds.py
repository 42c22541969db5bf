"""Random generators of the data pipeline (textbook 8.1.3: minibatches drawn at random): seeds drawn from
shendu's global generator, ``as_generator``, and the generator states of a loader tree (saved in checkpoints).
"""
from __future__ import annotations

import numbers

import numpy as np

# Source of seeds for every random object in shendu.data created without an explicit seed.


def _draw_seed() -> int:
    """Draw a fresh 63-bit seed from shendu's global generator (so ``sd.manual_seed`` fixes shuffles)."""
    from ...backend import get_generator

    return int(get_generator().integers(2**63))


def as_generator(rng=None, name="rng") -> np.random.Generator:
    """Return a `numpy.random.Generator` from None (fresh seed), an int seed or a Generator."""
    if rng is None:
        return np.random.default_rng(_draw_seed())
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


_RNG_ATTRS = ("rng", "_rng", "_gen", "generator", "_generator")
_PART_ATTRS = ("dataset", "transform", "transforms", "target_transform", "sampler", "batch_sampler")


def _generators(obj, found, seen, depth=0):
    """Append the random generators `obj` draws from (its own, its transforms', sampler's, dataset's), in order."""
    if obj is None or id(obj) in seen or depth > 8 or isinstance(obj, (str, bytes, np.ndarray)):
        return
    seen.add(id(obj))
    if isinstance(obj, np.random.Generator) or (callable(getattr(obj, "get_state", None))
                                               and callable(getattr(obj, "set_state", None))):
        found.append(obj)
        return
    if isinstance(obj, (list, tuple)):
        for o in obj:
            _generators(o, found, seen, depth + 1)
        return
    attrs = getattr(obj, "__dict__", None)
    if not isinstance(attrs, dict):
        return
    for name in _RNG_ATTRS + _PART_ATTRS:
        if name in attrs:
            _generators(attrs[name], found, seen, depth + 1)


def generator_states(obj) -> list:
    """States of every random generator that `obj` (a DataLoader, transform, Compose or sampler) draws from.

    Saved in training checkpoints, so a resumed run shuffles and augments exactly as an uninterrupted one."""
    found: list = []
    _generators(obj, found, set())
    return [g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state() for g in found]


def set_generator_states(obj, states, who="set_generator_states") -> None:
    """Restore what `generator_states(obj)` returned (a ValueError names the mismatch; nothing is set then)."""
    found: list = []
    _generators(obj, found, set())
    if not isinstance(states, (list, tuple)) or len(states) != len(found):
        got = f"{len(states)} states" if isinstance(states, (list, tuple)) else type(states).__name__
        raise ValueError(f"{who}: {type(obj).__name__} draws from {len(found)} random generators, got {got}")
    for i, (g, st) in enumerate(zip(found, states)):  # check all first, on copies
        if isinstance(g, np.random.Generator):
            try:
                type(g.bit_generator)().state = st
            except (TypeError, ValueError, KeyError) as e:
                raise ValueError(f"{who}: state {i} is not a valid {type(g.bit_generator).__name__} state "
                                 f"(got {type(st).__name__}): {e}") from None
    for g, st in zip(found, states):
        if isinstance(g, np.random.Generator):
            g.bit_generator.state = st
        else:
            g.set_state(st)
