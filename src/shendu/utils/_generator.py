"""``sd.Generator`` (torch.Generator): a seedable random generator to pass as ``generator=`` to random
draws, samplers, ``random_split`` and ``DataLoader``; draws come from a NumPy Generator (CPU)."""
from __future__ import annotations

import numpy as np


class Generator:
    """``g = sd.Generator().manual_seed(42)``; methods of NumPy's Generator (random, normal, ...) are forwarded."""

    def __init__(self, device="cpu"):
        from ..backend import device as _device

        self.device = _device(device)
        if self.device.type != "cpu":
            raise ValueError(f"Generator: only device='cpu' is supported, got {device!r}")
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self._gen = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        """Reseed (returns self, so ``Generator().manual_seed(0)`` chains)."""
        self._seed = int(seed)
        self._gen = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from the OS; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._gen.bit_generator.state

    def set_state(self, state):
        self._gen.bit_generator.state = state
        return self

    def get_generator(self) -> np.random.Generator:
        """The NumPy Generator drawing the numbers."""
        return self._gen

    def __getattr__(self, name):  # random, standard_normal, normal, uniform, integers, permutation, choice
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._gen, name)


def seed() -> int:
    """Reseed every shendu generator from the OS (torch.seed); returns the new seed."""
    from ..backend import manual_seed

    s = int(np.random.SeedSequence().entropy % 2**63)
    manual_seed(s)
    return s
